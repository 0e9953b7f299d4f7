import type { Dispatcher } from 'undici';
import type { TokenService } from '../token.service.js';
import { UndiciBearer } from './undici-bearer.js';

export type { OAuthDispatchOptions } from './undici-bearer.js';

/**
 * An undici interceptor that puts this module's tokens on outgoing calls, on the same rules as
 * `HttpService` and `OAuthFetch` (`bearer-policy`): `new Agent().compose(oauthInterceptor(tokens))`.
 * Compose undici's own `interceptors.redirect` after it (outside it), so that every redirect hop
 * passes through it; undici drops the header on a hop to another origin, and this interceptor on a
 * hop to a token endpoint. A 401 to the hop that carried the token is handled as on every transport.
 */
export function oauthInterceptor(tokens: TokenService): Dispatcher.DispatcherComposeInterceptor {
  const bearer = new UndiciBearer(tokens);
  return (dispatch) =>
    function oauthDispatch(options, handler) {
      return bearer.dispatch(dispatch, options, handler);
    };
}
