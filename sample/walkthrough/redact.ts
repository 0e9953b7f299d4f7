import type { EmulatorRequest } from 'nestjs-client-credentials/testing';

const HIDDEN = '•••';

/** A token request as the provider saw it, with the secret and Basic credentials hidden. */
export function describeTokenRequest(request: EmulatorRequest, secret: string): string[] {
  const query = request.url.includes('?') ? `?${request.url.split('?')[1]}` : '';
  const auth = request.headers.authorization ? ` + ${request.headers.authorization.split(' ')[0]} ${HIDDEN}` : '';
  const type = request.headers['content-type']?.split(';')[0] ?? 'no body';
  const body =
    request.body === ''
      ? '(empty body)'
      : request.body.split(secret).join(HIDDEN).split(encodeURIComponent(secret)).join(HIDDEN);
  return [`${request.method} ${request.path}`, ...(query ? [decodeURIComponent(query)] : []), `${type}${auth}`, body];
}
