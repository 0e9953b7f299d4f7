import { constants, createHmac, generateKeyPairSync, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { json, startRecordingServer, type RecordedRequest, type RecordingServer } from '../support/recording-server.js';

export type KeyAlg = 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';
export const KEY_ALGS: readonly KeyAlg[] = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** `FakeClock`'s start, 2026-01-01T00:00:00Z, in seconds. */
export const NOW_S = Date.UTC(2026, 0, 1) / 1000;

/** A key pair of the kind each algorithm needs (RSA 2048 for RS256 and PS256). */
export function keyPairFor(alg: KeyAlg): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'RS256' || alg === 'PS256') return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519');
  return generateKeyPairSync('ec', { namedCurve: alg === 'ES256' ? 'P-256' : 'P-384' });
}

export const pkcs8Pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();

export interface DecodedJws {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signingInput: Buffer;
  signature: Buffer;
}

export function decodeJws(jws: string): DecodedJws {
  const parts = jws.split('.');
  if (parts.length !== 3) throw new Error(`not a compact JWS: ${parts.length} parts`);
  const [header, payload, signature] = parts as [string, string, string];
  const part = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;
  return {
    header: part(header),
    claims: part(payload),
    signingInput: Buffer.from(`${header}.${payload}`, 'ascii'),
    signature: Buffer.from(signature, 'base64url'),
  };
}

/** Verifies a JWS as a relying party would (node:crypto only), by the algorithm the test expects. */
export function verifyJws(jws: string, alg: KeyAlg | 'HS256', key: KeyObject | string): boolean {
  const { signingInput: data, signature } = decodeJws(jws);
  switch (alg) {
    case 'RS256':
      return verify('sha256', data, key as KeyObject, signature);
    case 'PS256':
      return verify(
        'sha256',
        data,
        { key: key as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        signature,
      );
    case 'ES256':
      return (
        signature.length === 64 &&
        verify('sha256', data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }, signature)
      );
    case 'ES384':
      return (
        signature.length === 96 &&
        verify('sha384', data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }, signature)
      );
    case 'EdDSA':
      return verify(null, data, key as KeyObject, signature);
    case 'HS256': {
      const expected = createHmac('sha256', key as string)
        .update(data)
        .digest();
      return expected.length === signature.length && timingSafeEqual(expected, signature);
    }
  }
}

/** A token endpoint that records each form; `answers` scripts the statuses (then 200 for ever). */
export interface FormTokenServer extends RecordingServer {
  tokenUrl: string;
  forms(): URLSearchParams[];
  assertions(): string[];
}

export async function startFormTokenServer(answers: number[] = []): Promise<FormTokenServer> {
  const queue = [...answers];
  let issued = 0;
  const server = await startRecordingServer({
    'POST /oauth/token': (_req: RecordedRequest, res: ServerResponse) => {
      const status = queue.shift() ?? 200;
      if (status !== 200) return json(res, status, { error: status === 503 ? 'temporarily_unavailable' : 'x' });
      json(res, 200, { access_token: `AT-${++issued}`, token_type: 'Bearer', expires_in: 3600 });
    },
  });
  const forms = () => server.requests.filter((r) => r.path === '/oauth/token').map((r) => new URLSearchParams(r.body));
  return Object.assign(server, {
    tokenUrl: `${server.url}/oauth/token`,
    forms,
    assertions: () => forms().map((form) => form.get('client_assertion') ?? ''),
  });
}
