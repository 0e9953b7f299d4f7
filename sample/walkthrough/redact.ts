import type { EmulatorRequest } from 'nestjs-client-credentials/testing';
import { DETAIL_WIDTH } from './report.js';

const HIDDEN = '•••';

/**
 * A token request as the provider saw it, with the secret, the Basic credentials and the client
 * assertion hidden. A signed assertion is a credential until it expires: only its header and
 * claims are shown, never the JWT.
 */
export function describeTokenRequest(request: EmulatorRequest, secret: string): string[] {
  const query = request.url.includes('?') ? `?${request.url.split('?')[1]}` : '';
  const auth = request.headers.authorization ? ` + ${request.headers.authorization.split(' ')[0]} ${HIDDEN}` : '';
  const type = request.headers['content-type']?.split(';')[0] ?? 'no body';
  const hide = (text: string) => text.split(secret).join(HIDDEN).split(encodeURIComponent(secret)).join(HIDDEN);
  const body =
    request.body === ''
      ? ['(empty body)']
      : request.form === undefined
        ? [hide(request.body)]
        : formLines(hide(request.body.replace(/(^|&)(client_assertion=)[^&]*/, `$1$2${HIDDEN}`)), hide);
  const assertion = request.form?.client_assertion;
  return [
    `${request.method} ${request.path}`,
    ...(query ? [decodeURIComponent(query)] : []),
    `${type}${auth}`,
    ...body,
    ...(assertion === undefined ? [] : describeAssertion(assertion, request)),
  ];
}

/**
 * A form body decoded (as the query line is) and laid out a few parameters a line, breaking
 * before an `&`, or after the `=` of a parameter too long for a line.
 */
function formLines(body: string, hide: (text: string) => string): string[] {
  const lines: string[] = [];
  body.split('&').forEach((raw, index) => {
    const param = `${index === 0 ? '' : '&'}${hide(decodeFormPart(raw))}`;
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + param.length <= DETAIL_WIDTH) lines[last] += param;
    else if (param.length > DETAIL_WIDTH && param.includes('=')) {
      const at = param.indexOf('=') + 1;
      lines.push(param.slice(0, at), param.slice(at));
    } else lines.push(param);
  });
  return lines;
}

function decodeFormPart(part: string): string {
  try {
    return decodeURIComponent(part.replaceAll('+', ' '));
  } catch {
    return part;
  }
}

/** What a client assertion (RFC 7523) says: its header and claims; the signature stays hidden. */
function describeAssertion(jwt: string, request: EmulatorRequest): string[] {
  const [header, claims] = jwt.split('.', 2).map(readJson);
  if (header === undefined || claims === undefined) return ['client_assertion: not a JWT'];
  const kid = typeof header.kid === 'string' ? `, kid ${header.kid}` : '';
  const subject = claims.iss === claims.sub ? `iss = sub = ${String(claims.iss)}` : 'iss ≠ sub';
  const tokenUrl = typeof claims.aud === 'string' && claims.aud.endsWith(`//${request.headers.host}${request.path}`);
  const lifetime = typeof claims.exp === 'number' && typeof claims.iat === 'number' ? claims.exp - claims.iat : NaN;
  const jti = typeof claims.jti === 'string' ? `${claims.jti.slice(0, 8)}…` : 'none';
  return [
    `assertion ${String(header.alg)}${kid}, jti ${jti}`,
    `${subject}, aud ${tokenUrl ? '= token URL' : String(claims.aud)}, exp = iat + ${lifetime} s`,
  ];
}

function readJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
