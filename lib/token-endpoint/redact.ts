import { formEncode } from '../strategies/strategy-helpers.js';

const REDACTED = '[redacted]';
const JWT = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g;
const TOKEN_FIELDS = /("?(?:access_?token|accessToken|refresh_?token|id_?token|client_?secret|clientSecret|password)"?\s*[:=]\s*"?)[^"&,\s}]+/gi;

/**
 * Removes a client's secret (as sent raw, form-encoded or inside a Basic header) and anything
 * token-shaped from text that came from a token endpoint, before it reaches an error or a log.
 */
export function redact(text: string, sensitive: readonly string[]): string {
  let out = text;
  for (const value of sensitive) if (value.length > 0) out = out.split(value).join(REDACTED);
  return out.replace(JWT, REDACTED).replace(TOKEN_FIELDS, `$1${REDACTED}`);
}

/** The forms a secret takes on the wire, plus any token the same response carried. */
export function sensitiveValues(clientId: string, secret: string, tokens: readonly (string | undefined)[] = []): string[] {
  const basic = (id: string, s: string) => Buffer.from(`${id}:${s}`).toString('base64');
  const forms = [secret, formEncode(secret), encodeURIComponent(secret), basic(clientId, secret), basic(formEncode(clientId), formEncode(secret))];
  return [...new Set([...forms, ...tokens.filter((t): t is string => typeof t === 'string' && t.length >= 8)])];
}

/** First characters of a redacted body, whitespace collapsed, for an error's `bodySnippet`. */
export function snippet(text: string, sensitive: readonly string[], max = 200): string | undefined {
  const flat = redact(text, sensitive).replace(/\s+/g, ' ').trim();
  if (flat.length === 0) return undefined;
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
