import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1:0 in front of one Redis node, to cut a replica off from Redis and let
 * it back: `cut()` destroys every connection and refuses new ones until `heal()`.
 */
export interface RedisProxy {
  readonly port: number;
  readonly targetPort: number;
  cut(): void;
  heal(): void;
  /**
   * From now on, a connection that sends `command` (its name, any case) gets no more replies: Redis
   * runs what it is sent, the client waits for answers that never come (until `cut()` or `close()`).
   */
  swallowRepliesAfter(command: string): void;
  /** `performance.now()` of the first reply Redis sent through the proxy since the last `heal()`, if any. */
  readonly firstReplyAfterHeal: number | undefined;
  close(): Promise<void>;
}

export async function startRedisProxy(targetPort: number): Promise<RedisProxy> {
  const sockets = new Set<Socket>();
  let cut = false;
  let healedAt: number | undefined;
  let firstReply: number | undefined;
  let swallowAfter: string | undefined;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    return socket;
  };
  const server: Server = createServer((client) => {
    track(client);
    if (cut) return void client.destroy();
    const upstream = track(connect(targetPort, '127.0.0.1'));
    let swallowing = false;
    upstream.on('data', (chunk: Buffer) => {
      if (swallowing) return;
      if (healedAt !== undefined && firstReply === undefined) firstReply = performance.now();
      client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      // RESP sends a command's name as a bulk string of its own: "$9\r\nsubscribe\r\n".
      if (swallowAfter !== undefined && chunk.toString('latin1').toLowerCase().includes(`\r\n${swallowAfter}\r\n`))
        swallowing = true;
      upstream.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const destroyAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    targetPort,
    cut: () => {
      cut = true;
      destroyAll();
    },
    heal: () => {
      cut = false;
      healedAt = performance.now();
      firstReply = undefined;
    },
    swallowRepliesAfter: (command: string) => void (swallowAfter = command.toLowerCase()),
    get firstReplyAfterHeal() {
      return firstReply;
    },
    close: () => {
      destroyAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One proxy per node: cut and healed together (a replica cut off from the whole cluster). */
export class RedisProxies {
  private constructor(readonly proxies: RedisProxy[]) {}

  static async start(targetPorts: number[]): Promise<RedisProxies> {
    return new RedisProxies(await Promise.all(targetPorts.map((port) => startRedisProxy(port))));
  }

  /** `127.0.0.1:<node port>` → the proxy's address: ioredis's `natMap` and node-redis's `nodeAddressMap`. */
  addressMap(): Record<string, { host: string; port: number }> {
    return Object.fromEntries(
      this.proxies.map((proxy) => [`127.0.0.1:${proxy.targetPort}`, { host: '127.0.0.1', port: proxy.port }]),
    );
  }

  cut(): void {
    for (const proxy of this.proxies) proxy.cut();
  }

  heal(): void {
    for (const proxy of this.proxies) proxy.heal();
  }

  swallowRepliesAfter(command: string): void {
    for (const proxy of this.proxies) proxy.swallowRepliesAfter(command);
  }

  /** The first reply through any of the proxies since `heal()`. */
  get firstReplyAfterHeal(): number | undefined {
    const replies = this.proxies.map((p) => p.firstReplyAfterHeal).filter((t): t is number => t !== undefined);
    return replies.length === 0 ? undefined : Math.min(...replies);
  }

  async close(): Promise<void> {
    await Promise.all(this.proxies.map((proxy) => proxy.close()));
  }
}
