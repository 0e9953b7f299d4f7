import { KeyObject } from 'node:crypto';
import type { PrivateKeyInput } from '../client-auth/client-auth.options.js';
import type { ClientSecret, CredentialProvider } from '../interfaces/client-options.interface.js';

/** The credentials one attempt sends: the secret's value (`''` for none) and a provided key. */
export interface AttemptCredentials {
  readonly clientSecret: string;
  readonly privateKey?: PrivateKeyInput;
}

/** Why a provider gave nothing usable: what the attempt fails with. Never holds a value. */
export interface ProviderFailure {
  readonly code: 'timeout' | 'invalid_request';
  readonly description: string;
}

/**
 * Reads the credentials of one attempt: a `clientSecret` (and a `privateKey`) given as a function
 * is called now, within `timeoutMs` (wall time, as the token request's own deadline); its value is
 * kept by the caller for this attempt only. A provider that throws, answers with nothing usable or
 * does not settle in time is a failure naming the option, never a value (nor the provider's own
 * message, which may quote one).
 */
export async function readCredentials(
  secret: ClientSecret,
  keyProvider: CredentialProvider<PrivateKeyInput> | undefined,
  timeoutMs: number,
  closed: AbortSignal | undefined,
): Promise<AttemptCredentials | ProviderFailure> {
  let clientSecret: string;
  if (typeof secret === 'function') {
    const value = await provided('clientSecret', secret, timeoutMs, closed);
    if ('code' in value) return value;
    if (typeof value.value !== 'string' || value.value.length === 0) {
      return { code: 'invalid_request', description: 'the clientSecret provider returned no non-empty string' };
    }
    clientSecret = value.value;
  } else {
    clientSecret = secret;
  }
  if (keyProvider === undefined) return { clientSecret };
  const key = await provided('privateKey', keyProvider, timeoutMs, closed);
  if ('code' in key) return key;
  if (key.value === undefined || key.value === null || key.value === '') {
    return { code: 'invalid_request', description: 'the privateKey provider returned no key' };
  }
  return { clientSecret, privateKey: key.value };
}

/** Whether any of the client's credentials comes from a provider (then a rotation may be retried). */
export function fromProvider(secret: ClientSecret, keyProvider: unknown): boolean {
  return typeof secret === 'function' || keyProvider !== undefined;
}

/** Whether two reads of the providers gave the same credentials (no rotation happened in between). */
export function sameCredentials(a: AttemptCredentials, b: AttemptCredentials): boolean {
  return a.clientSecret === b.clientSecret && sameKey(a.privateKey, b.privateKey);
}

function sameKey(a: PrivateKeyInput | undefined, b: PrivateKeyInput | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (a instanceof KeyObject && b instanceof KeyObject) return a.equals(b);
  if (typeof a === 'object' && typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return false;
}

/** A provider's answer, or why there is none. The value is wrapped, so a string value is never taken for a failure. */
async function provided<T>(
  field: 'clientSecret' | 'privateKey',
  provider: CredentialProvider<T>,
  timeoutMs: number,
  closed: AbortSignal | undefined,
): Promise<{ value: T } | ProviderFailure> {
  let timer: NodeJS.Timeout | undefined;
  let onClose: (() => void) | undefined;
  const deadline = new Promise<ProviderFailure>((resolve) => {
    timer = setTimeout(
      () => resolve({ code: 'timeout', description: `the ${field} provider did not answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    onClose = () => resolve({ code: 'invalid_request', description: `the ${field} provider was abandoned (closed)` });
    closed?.addEventListener('abort', onClose, { once: true });
  });
  const call = (async () => ({ value: await provider() }))().catch((error: unknown): ProviderFailure => ({
    code: 'invalid_request',
    description: `the ${field} provider failed (${error instanceof Error ? error.name : typeof error})`,
  }));
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
    if (onClose !== undefined) closed?.removeEventListener('abort', onClose);
  }
}
