// /recipient/* of the local API in the platform's shapes (docs/http-api.md, Recipients): a group with
// its `users` and `principals` expanded to user objects (id, realname, username, and the contacts
// beside), robot keys masked, `created`/`updated` in ms; lists as {total, offset, limit, recipients}.
// Refusals: 104001 naming the first offending field (with every problem: file, JSON path, reason),
// 104004 for an unknown id.

import type { Logger } from "../../core/log.js";
import type { AdminResult } from "../../core/ports.js";
import {
  DEFAULT_RECIPIENT_LIMIT,
  listRecipients,
  MAX_RECIPIENT_LIMIT,
  RECIPIENT_SORT_FIELDS,
  type RecipientEntry,
  type RecipientFiles,
  type RecipientListQuery,
  type RecipientShape,
  type RecipientSortField,
  recipientShape,
} from "../../notify/recipients-admin.js";
import { invalid, missing, notFound, problemRefusal } from "../errors.js";
import { intParam, stringField } from "../params.js";
import type { AddRoute } from "./route.js";

export interface RecipientRouteDeps {
  recipients: Pick<RecipientFiles, "entries" | "get" | "add" | "update" | "del" | "problems">;
  log: Logger;
}

/** `offset` (0), `limit` (100, at most 1000), `order` (asc), `orderBy` (name, delay, created, updated), `q`. */
export function parseRecipientList(q: URLSearchParams): RecipientListQuery {
  const order = q.get("order") || "asc";
  if (order !== "asc" && order !== "desc") throw invalid("order", "expected one of asc, desc");
  const orderBy = q.get("orderBy") || undefined;
  if (orderBy !== undefined && !(RECIPIENT_SORT_FIELDS as readonly string[]).includes(orderBy))
    throw invalid("orderBy", `expected one of ${RECIPIENT_SORT_FIELDS.join(", ")}`);
  return {
    offset: intParam(q, "offset", Number.MAX_SAFE_INTEGER) ?? 0,
    limit: intParam(q, "limit", MAX_RECIPIENT_LIMIT) ?? DEFAULT_RECIPIENT_LIMIT,
    order,
    orderBy: orderBy as RecipientSortField | undefined,
    q: q.get("q") || undefined,
  };
}

export function recipientRoutes(route: AddRoute, { recipients, log }: RecipientRouteDeps): void {
  const answer = (r: AdminResult<RecipientEntry>, id: string): RecipientShape => {
    if (r.ok) return recipientShape(r.value);
    if (r.notFound) throw notFound("Recipient", id);
    throw problemRefusal(r.problems, "recipient group is invalid");
  };
  route("/recipient/list", "GET", ({ url }) =>
    listRecipients(recipients.entries(), parseRecipientList(url.searchParams), recipients.problems()),
  );
  route("/recipient/get", "GET", ({ url }) => {
    const id = url.searchParams.get("id");
    if (id === null || id.trim() === "") throw missing("id");
    const e = recipients.get(id);
    if (!e) throw notFound("Recipient", id);
    return recipientShape(e);
  });
  route("/recipient/add", "POST", async (ctx) => {
    const out = answer(await recipients.add(await ctx.body()), "");
    log.info({ recipientId: out.id }, "recipient group added through the local API");
    return out;
  });
  route("/recipient/update", "POST", async (ctx) => {
    const body = await ctx.body();
    const id = stringField(body, "id");
    const out = answer(await recipients.update(body), id);
    log.info({ recipientId: id }, "recipient group updated through the local API");
    return out;
  });
  route("/recipient/del", "POST", async (ctx) => {
    const id = stringField(await ctx.body(), "id");
    const out = answer(await recipients.del(id), id);
    log.info({ recipientId: id }, "recipient group deleted through the local API");
    return out;
  });
}
