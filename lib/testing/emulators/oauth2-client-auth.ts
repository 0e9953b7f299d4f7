/**
 * How the `oauth2` emulator authenticates a client: a secret (RFC 6749 §2.3.1), a JWT assertion
 * (RFC 7523) or a client certificate (RFC 8705). Exactly one mechanism per request.
 */
import { AssertionVerifier, JWT_BEARER } from './assertion-verifier.js';
import { fingerprintOf, subjectMatches } from './client-certificate.js';
import type { CredentialBook } from './credential-book.js';
import type { EmulatorEndpoint } from './emulator-discovery.js';
import type { EmulatorAuthMethod, EmulatorRequest, OAuth2EmulatorOptions } from './emulator.types.js';
import { decodeJws } from './jws.js';
import { readBasic } from './request-checks.js';

export type ClientAuthResult =
  | { ok: true; clientId: string }
  | {
      ok: false;
      error: 'invalid_request' | 'invalid_client';
      description: string;
      status?: number;
      /** Answer with `WWW-Authenticate: Basic` (RFC 6749 §5.2, when Basic is a method the client may use). */
      basicChallenge?: boolean;
    };

export type ClientAuthenticator = (
  request: EmulatorRequest,
  credentials: CredentialBook,
  endpoint: EmulatorEndpoint,
  now: number,
) => ClientAuthResult;

export const SECRET_METHODS: readonly EmulatorAuthMethod[] = ['client_secret_basic', 'client_secret_post'];

/** A misconfigured emulator fails at start, not with a puzzling 401 in the middle of a test. */
function assertUsable(options: OAuth2EmulatorOptions, methods: readonly EmulatorAuthMethod[]): void {
  const problem =
    methods.includes('private_key_jwt') && (options.jwks?.keys.length ?? 0) === 0
      ? "authMethods 'private_key_jwt' needs jwks (the client's public keys)"
      : methods.some((m) => m.endsWith('tls_client_auth')) && options.tls === undefined
        ? 'the TLS client authentication methods need tls (the server certificate and key)'
        : methods.includes('self_signed_tls_client_auth') && (options.selfSignedCertificates?.length ?? 0) === 0
          ? "authMethods 'self_signed_tls_client_auth' needs selfSignedCertificates"
          : undefined;
  if (problem !== undefined) throw new TypeError(`startEmulator('oauth2'): ${problem}`);
}

/** The `iss` of an assertion sent without `client_id`, when it names a registered client other than the own one. */
function registeredIssuer(assertion: string, credentials: CredentialBook): string | undefined {
  const iss = decodeJws(assertion)?.claims.iss;
  return iss !== credentials.clientId && credentials.knows(iss) ? iss : undefined;
}

export function oauth2ClientAuthenticator(
  options: OAuth2EmulatorOptions,
  methods: readonly EmulatorAuthMethod[],
): ClientAuthenticator {
  assertUsable(options, methods);
  const verifier = new AssertionVerifier(options.jwks, options.assertionMaxLifetimeSeconds);
  const selfSigned = new Set((options.selfSignedCertificates ?? []).map(fingerprintOf));
  const basicChallenge = methods.includes('client_secret_basic');
  const fail = (error: 'invalid_request' | 'invalid_client', description: string, status?: number) =>
    ({ ok: false, error, description, ...(status === undefined ? {} : { status }) }) as const;
  const unauthenticated = { ...fail('invalid_client', 'client authentication failed'), basicChallenge };

  function bySecret(request: EmulatorRequest, credentials: CredentialBook): ClientAuthResult {
    const form = request.form ?? {};
    if (request.headers.authorization !== undefined) {
      const basic = readBasic(request, options.basicEncoding);
      const ok = methods.includes('client_secret_basic') && credentials.matches(basic?.id, basic?.secret);
      return ok ? { ok: true, clientId: basic!.id } : { ...unauthenticated, basicChallenge: true };
    }
    const ok = methods.includes('client_secret_post') && credentials.matches(form.client_id, form.client_secret);
    return ok ? { ok: true, clientId: form.client_id! } : unauthenticated;
  }

  function byAssertion(
    form: Record<string, string>,
    credentials: CredentialBook,
    endpoint: EmulatorEndpoint,
    now: number,
  ): ClientAuthResult {
    if (form.client_assertion_type !== JWT_BEARER) {
      return fail('invalid_request', `client_assertion_type must be ${JWT_BEARER}`);
    }
    const assertion = form.client_assertion ?? '';
    const clientId = form.client_id ?? registeredIssuer(assertion, credentials) ?? credentials.clientId;
    if (!credentials.knows(clientId)) return unauthenticated;
    // The keys in `jwks` are the emulator's own client's: a registered client signs with its secret only.
    const own = clientId === credentials.clientId;
    const result = verifier.verify(assertion, {
      clientId,
      secrets: credentials.validSecrets(clientId),
      audiences: [endpoint.tokenUrl, endpoint.issuer],
      methods: own ? methods : methods.filter((m) => m === 'client_secret_jwt'),
      now,
    });
    return result.ok ? { ok: true, clientId } : fail('invalid_client', result.description, result.status);
  }

  function byCertificate(request: EmulatorRequest, credentials: CredentialBook): ClientAuthResult {
    if (request.form?.client_id !== credentials.clientId) return unauthenticated;
    const certificate = request.clientCertificate;
    if (certificate === undefined) return fail('invalid_client', 'client certificate was not provided');
    if (methods.includes('self_signed_tls_client_auth') && selfSigned.has(certificate.fingerprint256)) {
      return { ok: true, clientId: credentials.clientId };
    }
    if (!methods.includes('tls_client_auth')) {
      return fail('invalid_client', 'the client certificate is not one registered for the client');
    }
    if (!certificate.authorized) return fail('invalid_client', 'client certificate was not verified');
    if (!subjectMatches(certificate.subject, options.clientCertSubject)) {
      return fail('invalid_client', 'client certificate subject does not match the registered one');
    }
    return { ok: true, clientId: credentials.clientId };
  }

  return (request, credentials, endpoint, now) => {
    const form = request.form ?? {};
    const header = request.headers.authorization !== undefined;
    const assertion = form.client_assertion !== undefined || form.client_assertion_type !== undefined;
    const secret = form.client_secret !== undefined;
    // A client_id in the body is part of post, assertions (optional) and mTLS, never of Basic.
    if ((header && (form.client_id !== undefined || secret || assertion)) || (assertion && secret)) {
      return fail('invalid_request', 'more than one client authentication method');
    }
    if (assertion) return byAssertion(form, credentials, endpoint, now);
    const tls = methods.some((m) => m.endsWith('tls_client_auth'));
    if (!header && !secret && tls) return byCertificate(request, credentials);
    return bySecret(request, credentials);
  };
}
