// /rule/* of the local API in the platform's shapes: the rule object itself (as written, with its
// id), lists as {total, offset, limit, rules}; the agent's own facts (`file`, `problems`) stand
// beside the platform's fields. Refusals: 104001 naming the first offending field (with every
// problem: file, JSON path, reason), 104004 for an unknown id.

import type { Problem } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import type { AdminResult, RuleAdmin, RuleEntry } from "../../core/ports.js";
import {
  DEFAULT_RULE_LIMIT,
  listRules,
  MAX_RULE_LIMIT,
  RULE_SORT_FIELDS,
  type RuleListQuery,
  type RuleShape,
  type RuleSortField,
  ruleShape,
  withoutAgentFields,
} from "../../rules/shapes.js";
import { type HttpError, invalid, missing, notFound, problemRefusal } from "../errors.js";
import { intParam, stringField } from "../params.js";
import type { AddRoute } from "./route.js";

export interface RuleRouteDeps {
  rules: RuleAdmin & { problems(): readonly Problem[] };
  log: Logger;
}

/** `offset` (0), `limit` (100, at most 1000), `order` (asc), `orderBy` (a sortable field), `q`. */
export function parseRuleList(q: URLSearchParams): RuleListQuery {
  const order = q.get("order") || "asc";
  if (order !== "asc" && order !== "desc") throw invalid("order", "expected one of asc, desc");
  const orderBy = q.get("orderBy") || undefined;
  if (orderBy !== undefined && !(RULE_SORT_FIELDS as readonly string[]).includes(orderBy))
    throw invalid("orderBy", `expected one of ${RULE_SORT_FIELDS.join(", ")}`);
  return {
    offset: intParam(q, "offset", Number.MAX_SAFE_INTEGER) ?? 0,
    limit: intParam(q, "limit", MAX_RULE_LIMIT) ?? DEFAULT_RULE_LIMIT,
    order,
    orderBy: orderBy as RuleSortField | undefined,
    q: q.get("q") || undefined,
  };
}

/** A refused rule: 404 104004 for an unknown id, else 400 104001 naming the first offending field. */
export function ruleRefusal(r: { problems: Problem[]; notFound?: boolean }, id: string): HttpError {
  if (r.notFound) return notFound("Rule", id);
  return problemRefusal(r.problems, "rule is invalid");
}

function answer(r: AdminResult<RuleEntry>, id: string): RuleShape {
  if (!r.ok) throw ruleRefusal(r, id);
  return ruleShape(r.value);
}

export function ruleRoutes(route: AddRoute, { rules, log }: RuleRouteDeps): void {
  route("/rule/list", "GET", ({ url }) =>
    listRules(rules.entries(), parseRuleList(url.searchParams), rules.problems()),
  );
  route("/rule/get", "GET", ({ url }) => {
    const id = url.searchParams.get("id");
    if (id === null || id.trim() === "") throw missing("id");
    const e = rules.get(id);
    if (!e) throw notFound("Rule", id);
    return ruleShape(e);
  });
  route("/rule/add", "POST", async (ctx) => {
    const out = answer(await rules.add(withoutAgentFields(await ctx.body())), "");
    log.info({ ruleId: out.id, file: out.file }, "rule added through the local API");
    return out;
  });
  route("/rule/update", "POST", async (ctx) => {
    const body = await ctx.body();
    const id = stringField(body, "id");
    const out = answer(await rules.update(withoutAgentFields(body)), id);
    log.info({ ruleId: id, file: out.file }, "rule updated through the local API");
    return out;
  });
  route("/rule/del", "POST", async (ctx) => {
    const id = stringField(await ctx.body(), "id");
    const out = answer(await rules.del(id), id);
    log.info({ ruleId: id, file: out.file }, "rule deleted through the local API");
    return out;
  });
}
