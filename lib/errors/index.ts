export * from './oauth.error.js';
export * from './oauth-config.error.js';
export * from './token-request.error.js';
export * from './oauth-error-code.js';
