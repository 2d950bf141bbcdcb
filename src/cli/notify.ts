// `edge-agent notify test --recipient ID [-c FILE] [--json]`: asks the running agent to send a test
// message to everyone recipient group ID reaches, on every channel, right now (not queued), and
// prints one line per person and channel with the result. Exit 0 when every message went out.
// The running agent does the sending: it holds the channels, the recipients file and the hooks.

import { DEFAULT_CONFIG, parseCommandArgs } from "./args.js";
import { type CliIO, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, formatColumns } from "./io.js";
import { type ApiAnswer, callLocalApi, localApiTarget, refusedTokenMessage, unreachableMessage } from "./local-api.js";

export const HELP = `Usage: edge-agent notify test --recipient ID [-c FILE] [--json]

Sends a test message to every user and principal of recipient group ID (by e-mail and WeCom, as
their contacts say) and to the group's robots, through the running agent, right now: nothing is
queued. Prints each person, channel, address and result; exit code 0 when all succeeded, 1 otherwise.
  --recipient   the group's id in the recipients file (notify.recipientsFile)
  --json        print the agent's answer as JSON

The agent is reached at the config's http.host/http.port; the token is EDGE_AGENT_HTTP_TOKEN,
else http.token of the config. Documentation: docs/notifications.md, docs/cli.md
`;

const USAGE = "Usage: edge-agent notify test --recipient ID [-c FILE] [--json]\n";
/** Above the longest channel deadline: the agent answers when every channel has. */
const REQUEST_TIMEOUT_MS = 60_000;

interface Result {
  userId?: string;
  realname?: string;
  audience: string;
  channel: string;
  to: string;
  ok: boolean;
  code?: string;
  message?: string;
}

export function formatResults(results: readonly Result[]): string {
  const header = ["PERSON", "CHANNEL", "TO", "RESULT"];
  const rows = results.map((r) => [
    r.userId === undefined ? "(robot)" : r.realname ? `${r.realname} (${r.userId})` : r.userId,
    r.channel,
    r.to || "-",
    r.ok ? "ok" : `FAILED ${r.code ?? "error"}${r.message ? `: ${r.message}` : ""}`,
  ]);
  return formatColumns(header, rows);
}

export async function main(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      config: { type: "string", short: "c", default: DEFAULT_CONFIG },
      recipient: { type: "string", short: "r" },
      json: { type: "boolean", default: false },
    },
    { positionals: true },
  );
  if (!parsed.ok) {
    io.stderr(`edge-agent notify: ${parsed.error}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const [sub, ...extra] = parsed.positionals;
  if (sub !== "test" || extra.length > 0) {
    io.stderr(`edge-agent notify: expected 'test', got '${parsed.positionals.join(" ")}'\n${USAGE}`);
    return EXIT_USAGE;
  }
  const v = parsed.values;
  if (v.recipient === undefined || v.recipient.trim() === "") {
    io.stderr(`edge-agent notify test: --recipient ID is required\n${USAGE}`);
    return EXIT_USAGE;
  }
  const id = v.recipient.trim();
  const file = v.config ?? DEFAULT_CONFIG;
  const t = await localApiTarget(file, io);
  if (t.disabled) {
    io.stderr(
      `edge-agent notify test: the local API is disabled in ${file} (http.enabled: false); ` +
        "the test is sent by the running agent through it\n",
    );
    return EXIT_FAILURE;
  }
  if (t.note) io.stderr(`note: ${t.note}; trying the agent at ${t.base}\n`);

  let answer: ApiAnswer;
  try {
    answer = await callLocalApi(t, "POST", "/notify/test", { recipient: id }, REQUEST_TIMEOUT_MS);
  } catch (err) {
    io.stderr(unreachableMessage("notify test", err, t, file, "The test is sent by the running agent"));
    return EXIT_FAILURE;
  }
  if (answer.status === 401) {
    io.stderr(refusedTokenMessage("notify test", t));
    return EXIT_FAILURE;
  }
  if (answer.body.code === 104004) {
    io.stderr(
      `edge-agent notify test: the agent has no recipient group '${id}': check the ids in the recipients ` +
        "file (notify.recipientsFile) and its problems in edge-agent validate or GET /recipient/list\n",
    );
    return EXIT_FAILURE;
  }
  if (answer.status !== 200 || answer.body.code !== 0) {
    const code = answer.body.code !== undefined ? ` ${answer.body.code}` : "";
    io.stderr(
      `edge-agent notify test: refused (HTTP ${answer.status}${code}): ${answer.body.message ?? "no message"}\n`,
    );
    return EXIT_FAILURE;
  }
  const data = answer.body.data as { recipient: string; name?: string; results: Result[] };
  const allOk = data.results.length > 0 && data.results.every((r) => r.ok);
  if (v.json) {
    io.stdout(`${JSON.stringify(data, null, 2)}\n`);
    return allOk ? EXIT_OK : EXIT_FAILURE;
  }
  if (data.results.length === 0) {
    io.stderr(`edge-agent notify test: recipient group '${id}' has no user, principal or robot to tell\n`);
    return EXIT_FAILURE;
  }
  io.stdout(formatResults(data.results));
  const failed = data.results.filter((r) => !r.ok).length;
  io.stdout(
    failed === 0
      ? `All ${data.results.length} test messages of '${id}' were accepted by their channels.\n`
      : `${failed} of ${data.results.length} test messages of '${id}' failed.\n`,
  );
  return allOk ? EXIT_OK : EXIT_FAILURE;
}
