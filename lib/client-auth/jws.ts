/** Compact JWS (RFC 7515 §7.1) over node:crypto: no JOSE dependency, so CommonJS apps load it as well. */

export function base64urlJson(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** `header.payload.signature`, the signature made by `sign` over the ASCII of `header.payload`. */
export function compactJws(header: object, payload: object, sign: (input: Buffer) => Buffer): string {
  const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  return `${signingInput}.${sign(Buffer.from(signingInput, 'ascii')).toString('base64url')}`;
}
