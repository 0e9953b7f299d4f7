export * from './access-token.interface.js';
export * from './client-options.interface.js';
export * from './clock.interface.js';
export * from './oauth-module-options.interface.js';
