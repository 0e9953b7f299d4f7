export { oauthInterceptor, type OAuthDispatchOptions } from './oauth-interceptor.js';
export { OAuthDispatcher } from './oauth-dispatcher.js';
