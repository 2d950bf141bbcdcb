// `edge-agent validate`, notifications part: the recipients file checked as the agent would load it,
// then the rules against it. A rule naming a group this agent does not have still loads and raises
// its alarm (a platform export often names the platform's groups), so that is a warning, as is a
// rule's `actions.email` that is not an address; neither makes the configuration invalid.

import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ResolvedConfig } from "../config/defaults.js";
import { oversizeProblem } from "../config/file-size.js";
import { errorMessage, type Problem } from "../core/errors.js";
import {
  isEmailAddress,
  parseRecipientsText,
  type RecipientDirectory,
  recipientRef,
  StaticRecipientDirectory,
} from "../notify/recipients.js";
import { DEFAULT_MAX_RECIPIENTS_FILE_BYTES } from "../notify/recipients-loader.js";
import { listRuleFiles } from "../rules/validate-dir.js";

type Obj = Record<string, unknown>;

export interface RecipientChecks {
  problems: Problem[];
  /** Groups the file defines (0 when it is absent or has errors). */
  groups: number;
}

/** Reads and checks the recipients file; an absent file is no group and no problem. */
export async function readRecipients(
  config: Pick<ResolvedConfig, "notify">,
  env: NodeJS.ProcessEnv,
): Promise<{ directory: RecipientDirectory | null; problems: Problem[] }> {
  const file = config.notify.recipientsFile;
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > DEFAULT_MAX_RECIPIENTS_FILE_BYTES) {
      const p = oversizeProblem(
        file,
        size,
        DEFAULT_MAX_RECIPIENTS_FILE_BYTES,
        "recipients file",
        "keep only the groups used here",
      );
      return { directory: null, problems: [p] };
    }
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      return { directory: new StaticRecipientDirectory([]), problems: [] };
    return {
      directory: null,
      problems: [{ file, path: "$", message: `cannot read the recipients file: ${errorMessage(err)}` }],
    };
  }
  const ctx = { env, email: config.notify.email !== undefined, wecom: config.notify.wecom !== undefined };
  const r = parseRecipientsText(file, text, ctx);
  const ok = !r.problems.some((p) => p.severity !== "warning");
  return { directory: ok ? new StaticRecipientDirectory(r.groups, r.users, r.problems) : null, problems: r.problems };
}

/** The rules of one parsed rule file with their JSON path prefix (`$` for a single rule, `$[i]` in an array). */
function rulesOf(doc: unknown): { rule: Obj; at: string }[] {
  const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
  if (Array.isArray(doc)) return doc.flatMap((r, i) => (isObj(r) ? [{ rule: r, at: `$[${i}]` }] : []));
  return isObj(doc) ? [{ rule: doc, at: "$" }] : [];
}

/** Warnings for rules naming an unknown group (skipped when the file itself has errors) or a bad e-mail address. */
export function checkRuleRecipients(
  files: readonly { file: string; doc: unknown }[],
  directory: RecipientDirectory | null,
  recipientsFile: string,
  configured: { email: boolean; wecom: boolean } = { email: true, wecom: true },
): Problem[] {
  const out: Problem[] = [];
  for (const { file, doc } of files) {
    for (const { rule, at } of rulesOf(doc)) {
      const ref = recipientRef(rule.recipient);
      if (directory !== null && ref !== undefined && directory.get(ref) === undefined)
        out.push({
          file,
          path: `${at}.recipient`,
          message: `recipient '${ref}' unknown here: nobody is told of this rule's alarms`,
          hint: `add it to ${recipientsFile} or remove the field`,
          severity: "warning",
        });
      const actions = rule.actions as Obj | undefined;
      const wechat = actions !== null && typeof actions === "object" ? actions.wechat : undefined;
      if (typeof wechat === "string" && !configured.wecom)
        out.push({
          file,
          path: `${at}.actions.wechat`,
          message: "WeCom is not configured: no WeChat message is sent for this rule",
          hint: "configure notify.wecom (corp id, agent id, secret)",
          severity: "warning",
        });
      const email = actions !== null && typeof actions === "object" ? actions.email : undefined;
      if (typeof email !== "string") continue;
      if (!configured.email)
        out.push({
          file,
          path: `${at}.actions.email`,
          message: "e-mail is not configured: no e-mail is sent for this rule",
          hint: "configure notify.email (SMTP host, from)",
          severity: "warning",
        });
      const bad = email
        .split(/[,;\s]+/)
        .filter((a) => a !== "")
        .filter((a) => !isEmailAddress(a));
      if (bad.length > 0 || email.trim() === "")
        out.push({
          file,
          path: `${at}.actions.email`,
          message: `'${bad[0] ?? email}' is not an e-mail address: no e-mail is sent to it`,
          hint: "write a plain address such as ops@example.com (several: separated by commas)",
          severity: "warning",
        });
    }
  }
  return out;
}

/** The recipients file's problems and the rules' warnings against it. */
export async function recipientChecks(config: ResolvedConfig, env: NodeJS.ProcessEnv): Promise<RecipientChecks> {
  const { directory, problems } = await readRecipients(config, env);
  const files: { file: string; doc: unknown }[] = [];
  try {
    for (const name of await listRuleFiles(config.rulesDir)) {
      const file = join(config.rulesDir, name);
      try {
        files.push({ file, doc: JSON.parse(await readFile(file, "utf8")) });
      } catch {
        // Reported by the rule validator.
      }
    }
  } catch {
    // No rules directory: reported by the rule validator.
  }
  return {
    problems: [
      ...problems,
      ...checkRuleRecipients(files, directory, config.notify.recipientsFile, {
        email: config.notify.email !== undefined,
        wecom: config.notify.wecom !== undefined,
      }),
    ],
    groups: directory?.list().length ?? 0,
  };
}
