// Logger construction. Secrets are redacted by path and by value: every secret string the config
// resolved from the environment is replaced wherever it would appear in a log line.

import { pino } from "pino";
import { isSecretKey, maskForms, maskText, REDACTED } from "./secrets.js";

export type Logger = pino.Logger;

export interface LogOptions {
  level?: string;
  pretty?: boolean;
  /** Secret values to mask wherever they appear in a log line. */
  secrets?: readonly string[];
  destination?: pino.DestinationStream;
}

// pino redacts by exact key, so the secret keys are spelled out here in the forms the agent and
// its libraries use; every one is checked against the one definition (isSecretKey) at load.
const SECRET_KEY_SPELLINGS = [
  "password",
  "passwd",
  "token",
  "secret",
  "appSecret",
  "authorization",
  "Authorization",
  "apiKey",
  "api_key",
  "sign",
  "privateKey",
  "keyPassword",
];
for (const k of SECRET_KEY_SPELLINGS) {
  if (!isSecretKey(k)) throw new Error(`log redaction key '${k}' is not a secret key in core/secrets.ts`);
}

/** Secret keys at the top of a log object and one level down (`headers.sign`, `err.token`), plus
 *  the config's own nested ones. Deeper, every known secret value is still masked in the serialized
 *  line (createLogger); each path costs time on every line, so the list stays short. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEY_SPELLINGS.flatMap((k) => [k, `*.${k}`]),
  "config.mqtt.password",
  "config.mqtt.users.*.password",
  "config.upstream.token",
  "config.workOrders.appSecret",
  "config.http.token",
];

/** Masks every known secret in a text, also where it stands JSON-escaped. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  return maskText(text, maskForms(secrets));
}

export function createLogger(opts: LogOptions = {}): Logger {
  // The line is masked after serialization, where a secret holding `"` or `\` is escaped.
  const forms = maskForms(opts.secrets ?? []);
  const hooks: pino.LoggerOptions["hooks"] =
    forms.length > 0
      ? {
          streamWrite: (s: string) => maskText(s, forms),
        }
      : undefined;
  const base: pino.LoggerOptions = {
    level: opts.level ?? "info",
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    ...(hooks ? { hooks } : {}),
  };
  if (opts.destination) return pino(base, opts.destination);
  if (opts.pretty) {
    return pino({
      ...base,
      transport: {
        target: "pino-pretty",
        options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" },
      },
    });
  }
  return pino(base);
}

/** A logger that drops everything (benchmarks, tests that do not assert logs). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
