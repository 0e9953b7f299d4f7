export { RedisTokenStore } from './redis-token.store.js';
export type { RedisConnection } from './redis-connection.js';
export type { RedisTokenStoreOptions } from './redis-options.js';
export type { EncryptionKey } from './token-codec.js';
export type {
  NodeRedisClient,
  NodeRedisCluster,
  NodeRedisConnection,
  NodeRedisEvalOptions,
} from './node-redis-commands.js';
