export { RedisTokenStore, type RedisConnection, type RedisTokenStoreOptions } from './redis-token.store.js';
export type { EncryptionKey } from './token-codec.js';
