/** Small request-shape checks the emulated providers share. */
import { asRecord } from '../../common/values.js';
import type { EmulatorRequest } from './emulator.types.js';

/** The media type without parameters, lower-cased ('' when absent). */
export function mediaType(request: EmulatorRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Credentials from `Authorization: Basic …`; `rfc6749` form-decodes both parts after Base64. */
export function readBasic(
  request: EmulatorRequest,
  encoding: 'rfc6749' | 'raw' = 'rfc6749',
): { id: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(request.headers.authorization ?? '');
  if (!match) return undefined;
  const pair = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = pair.indexOf(':');
  if (colon < 0) return undefined;
  const [id, secret] = [pair.slice(0, colon), pair.slice(colon + 1)];
  if (encoding === 'raw') return { id, secret };
  try {
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: decode(id), secret: decode(secret) };
  } catch {
    return undefined;
  }
}

/** The access token of `Authorization: Bearer …` or `Authorization: DPoP …` (RFC 9449 §7.1), if any. */
export function readAccessToken(request: EmulatorRequest): { scheme: 'Bearer' | 'DPoP'; token: string } | undefined {
  const match = /^(Bearer|DPoP)\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (!match) return undefined;
  return { scheme: match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2]! };
}

/** A JSON object body, or undefined when the body is not one. */
export function jsonObject(request: EmulatorRequest): Record<string, unknown> | undefined {
  return asRecord(request.json);
}

export interface FieldProblem {
  kind: 'unknown' | 'missing';
  field: string;
  /** `unknown field "scope"`, `missing field "clientId"`. */
  text: string;
}

/** The first field the object has beyond the expected ones, or lacks (as a non-empty string). */
export function fieldProblem(body: Record<string, unknown>, expected: readonly string[]): FieldProblem | undefined {
  const unknown = Object.keys(body).find((key) => !expected.includes(key));
  if (unknown !== undefined) return { kind: 'unknown', field: unknown, text: `unknown field "${unknown}"` };
  const missing = expected.find((key) => typeof body[key] !== 'string' || body[key] === '');
  return missing === undefined ? undefined : { kind: 'missing', field: missing, text: `missing field "${missing}"` };
}

/** Form parameters named more than once (RFC 6749 §3.2 forbids repeating them). */
export function repeatedParam(body: string): string | undefined {
  const seen = new Set<string>();
  for (const [name] of new URLSearchParams(body)) {
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}
