import { randomBytes } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { readJws, type ReadProof } from './dpop-proofs.js';
import { machineClient, startOidcProvider, type OidcProviderServer } from './oidc-provider.js';

/** The resource indicator of the test API: the audience of every access token issued here. */
export const DPOP_API = 'urn:example:dpop-api';
export const DPOP_CLIENT = { clientId: 'dpop-client', clientSecret: 'dpop-client-secret-0123456789' };

/** One token request as node-oidc-provider answered it. */
export interface ProviderTokenRequest {
  status: number;
  /** `error` of an error answer. */
  error?: string;
  tokenType?: string;
  /** The `DPoP-Nonce` header of the answer. */
  nonceHeader?: string;
  /** The DPoP proof the request carried, decoded (the provider verified it when `status` is 200). */
  proof?: ReadProof;
}

export interface DpopProviderServer extends OidcProviderServer {
  tokenRequests: ProviderTokenRequest[];
  /** The next `times` `use_dpop_nonce` answers carry a nonce the provider will not accept. */
  spoilNonces(times: number): void;
}

export interface DpopProviderOptions {
  /** `features.dPoP.enabled`; false is a server that ignores DPoP and issues Bearer tokens. Default true. */
  dpop?: boolean;
  /** Nonces required in every proof (`features.dPoP.nonceSecret` + `requireNonce`). Default false. */
  requireNonce?: boolean;
}

/**
 * node-oidc-provider issuing client-credentials tokens to `DPOP_CLIENT` as RS256 JWTs for `DPOP_API`
 * (resource indicators with the JWT format, so an API can check `cnf.jkt` without introspection),
 * DPoP proofs in ES256, EdDSA, RS256 and PS256. It records each token request through its events.
 */
export async function startDpopProvider(options: DpopProviderOptions = {}): Promise<DpopProviderServer> {
  const { dpop = true, requireNonce = false } = options;
  const server = await startOidcProvider({
    clients: [
      machineClient({
        client_id: DPOP_CLIENT.clientId,
        client_secret: DPOP_CLIENT.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    ],
    configuration: {
      enabledJWA: { dPoPSigningAlgValues: ['ES256', 'EdDSA', 'RS256', 'PS256'] },
      features: {
        dPoP: {
          enabled: dpop,
          ...(requireNonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}),
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => DPOP_API,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: 'api:read',
            audience: DPOP_API,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          }),
        },
      },
    },
  });
  const tokenRequests: ProviderTokenRequest[] = [];
  let spoil = 0;
  const record = (ctx: KoaContextWithOIDC) => {
    const body = (ctx.body ?? {}) as Record<string, unknown>;
    const proof = ctx.get('DPoP');
    const nonce = ctx.response.get('DPoP-Nonce');
    tokenRequests.push({
      status: ctx.status,
      ...(typeof body.error === 'string' ? { error: body.error } : {}),
      ...(typeof body.token_type === 'string' ? { tokenType: body.token_type } : {}),
      ...(nonce ? { nonceHeader: nonce } : {}),
      ...(proof ? { proof: readJws(proof) } : {}),
    });
  };
  server.provider.on('grant.success', record);
  server.provider.on('grant.error', (ctx: KoaContextWithOIDC, error: { error?: string }) => {
    // The answer is not written yet: a header set here is the one the client gets.
    if (error.error === 'use_dpop_nonce' && spoil > 0) {
      spoil--;
      ctx.set('DPoP-Nonce', `spoilt-${randomBytes(8).toString('base64url')}`);
    }
    record(ctx);
  });
  return Object.assign(server, { tokenRequests, spoilNonces: (times: number) => void (spoil = times) });
}
