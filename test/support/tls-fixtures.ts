import { createPrivateKey } from 'node:crypto';
import { generate } from 'selfsigned';

/** PEM material for mutual-TLS tests: one private CA, a server and a client certificate it signed. */
export interface TlsFixtures {
  /** The private CA's certificate (what both sides trust). */
  ca: string;
  /** For `127.0.0.1` and `localhost` (subjectAltName IP and DNS), signed by the CA. */
  serverCert: string;
  serverKey: string;
  /** Subject CN {@link CLIENT_CN}, extKeyUsage clientAuth, signed by the CA. */
  clientCert: string;
  /** Unencrypted PKCS#8 PEM. */
  clientKey: string;
  /** The same client key as encrypted PKCS#8 PEM (aes-256-cbc) under {@link CLIENT_KEY_PASSPHRASE}. */
  clientKeyEncrypted: string;
}

export const CLIENT_CN = 'token-client-mtls';
export const CLIENT_KEY_PASSPHRASE = 'kEy-pa55phrase-7d1e';

// EC P-256 keys keep generation in the tens of milliseconds; backdated a day against clock skew.
const KEYS = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as const;
const validity = () => {
  const now = Date.now();
  return { notBeforeDate: new Date(now - 86_400_000), notAfterDate: new Date(now + 30 * 86_400_000) };
};

async function generateFixtures(): Promise<TlsFixtures> {
  const ca = await generate([{ name: 'commonName', value: 'nestjs-client-credentials test CA' }], {
    ...KEYS,
    ...validity(),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const signer = { key: ca.private, cert: ca.cert };
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...KEYS,
    ...validity(),
    ca: signer,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  const client = await generate([{ name: 'commonName', value: CLIENT_CN }], {
    ...KEYS,
    ...validity(),
    ca: signer,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  const clientKeyEncrypted = createPrivateKey(client.private)
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: CLIENT_KEY_PASSPHRASE })
    .toString();
  return {
    ca: ca.cert,
    serverCert: server.cert,
    serverKey: server.private,
    clientCert: client.cert,
    clientKey: client.private,
    clientKeyEncrypted,
  };
}

let fixtures: Promise<TlsFixtures> | undefined;

/** Generated once per process (per Jest worker); every caller shares the same promise. */
export function tlsFixtures(): Promise<TlsFixtures> {
  fixtures ??= generateFixtures();
  return fixtures;
}

/** The base64 lines of a PEM body, for asserting that no part of a key leaked. */
export function pemBodyLines(pem: string): string[] {
  return pem.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'));
}
