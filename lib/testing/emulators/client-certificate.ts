/** What the HTTPS emulator reads from a client certificate, and the RFC 8705 matching rules it applies. */
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { EmulatorClientCertificate } from './emulator.types.js';

/** The certificate the peer presented on this socket, if it is a TLS socket and the peer sent one. */
export function readClientCertificate(socket: unknown): EmulatorClientCertificate | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function') return undefined;
  const raw = tls.getPeerCertificate()?.raw;
  if (raw === undefined) return undefined;
  const certificate = new X509Certificate(raw);
  return {
    subject: certificate.subject,
    fingerprint256: certificate.fingerprint256,
    authorized: tls.authorized === true,
  };
}

/** SHA-256 fingerprint of a PEM certificate, in the form `EmulatorClientCertificate` uses. */
export function fingerprintOf(pem: string | Buffer): string {
  return new X509Certificate(pem).fingerprint256;
}

/**
 * `expected` is a CN (`token-client`) or a DN (`CN=token-client,O=Example`); a DN matches when it
 * names the same attributes as the subject, in any order (RFC 4514 escaping is not supported).
 */
export function subjectMatches(subject: string, expected: string | undefined): boolean {
  if (expected === undefined) return true;
  const actual = subject.split('\n').map((rdn) => rdn.trim());
  if (!expected.includes('=')) return actual.includes(`CN=${expected}`);
  const wanted = expected.split(',').map((rdn) => rdn.trim());
  return wanted.length === actual.length && wanted.every((rdn) => actual.includes(rdn));
}
