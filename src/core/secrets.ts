// What counts as a secret, in one place: the config keys whose values are secrets, the environment
// variable names whose substituted values are, and how a known secret is masked in text. The
// logger, the HTTP redaction, config problems, the dispatcher's error reasons and hooks' view of
// the config all use these.

/** Keys whose string values are secrets wherever they appear (config, API output, log fields). */
export const SECRET_KEY =
  /^(password|passwd|token|secret|appsecret|authorization|apikey|api_key|sign|privatekey|key_?password)$/i;

/** Environment variable names whose values are secrets wherever they were substituted. */
export const SECRET_VARIABLE = /PASS|TOKEN|SECRET|CREDENTIAL|APIKEY|API_KEY|PRIVATE/i;

export const REDACTED = "[REDACTED]";

/** Shorter strings would mask ordinary words; a secret that short is refused by nobody but is not masked. */
export const MIN_MASKED_LENGTH = 4;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * Every form in which a secret can stand in a text we write: as itself, and escaped inside a JSON
 * string (a secret holding `"` or `\` appears as `\"` / `\\` in a serialized log line). Longest first,
 * so a secret that contains another is masked whole.
 */
export function maskForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s.length < MIN_MASKED_LENGTH) continue;
    forms.add(s);
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s) forms.add(escaped);
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** Replaces every form of every secret in `text` (forms from maskForms, or raw secrets). */
export function maskText(text: string, forms: readonly string[], replacement = REDACTED): string {
  let out = text;
  for (const f of forms) if (f.length >= MIN_MASKED_LENGTH && out.includes(f)) out = out.split(f).join(replacement);
  return out;
}
