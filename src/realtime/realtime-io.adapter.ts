import { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

// The Socket.IO copy @nestjs/platform-socket.io runs, which may differ from the top-level one.
type IoServer = ReturnType<IoAdapter['createIOServer']>;
type IoServerOptions = Parameters<IoAdapter['createIOServer']>[1];

/** A chat message is at most 2000 characters: a packet far larger is not one (its connection is closed). */
const MAX_PACKET_BYTES = 64 * 1024;

/**
 * Socket.IO on the API's HTTP server (and port), configured from AppConfig: the HTTP API's CORS
 * allowlist, small packets and, with REDIS_URL, the Redis adapter, so that rooms and broadcasts
 * span every API instance.
 */
export class RealtimeIoAdapter extends IoAdapter {
  private readonly redisClients: Redis[] = [];

  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
    private readonly redis: Redis | undefined,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: IoServerOptions): IoServer {
    const origins = this.config.http.corsOrigins;
    const server = super.createIOServer(port, {
      ...options,
      serveClient: false,
      maxHttpBufferSize: MAX_PACKET_BYTES,
      ...(origins.length > 0 && { cors: { origin: origins === '*' ? true : origins } }),
    } as IoServerOptions);
    if (this.redis) server.adapter(this.redisAdapter(this.redis));
    return server;
  }

  /** After the Socket.IO servers (and their adapters) have closed. */
  override async dispose(): Promise<void> {
    await Promise.all(
      this.redisClients.map(async (client) => {
        if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
        else client.disconnect();
      }),
    );
  }

  /** Duplicates of the shared client: a subscribed connection can do nothing else. */
  private redisAdapter(redis: Redis): ReturnType<typeof createAdapter> {
    const publisher = redis.duplicate();
    // Subscriptions wait for the connection and are renewed after an outage.
    const subscriber = redis.duplicate({
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
    });
    for (const client of [publisher, subscriber]) {
      client.on('error', () => undefined); // the shared client already reports outages
      this.redisClients.push(client);
    }
    return createAdapter(
      withoutUnhandledRejections(publisher),
      withoutUnhandledRejections(subscriber),
      {
        key: `${this.config.redis.prefix}socket.io`,
      },
    );
  }
}

/**
 * The Redis adapter fires PUBLISH and (UN)SUBSCRIBE without awaiting them: while Redis is down
 * each failure would be an unhandled rejection, which ends a Node process. A message published
 * during an outage is lost, as with any pub/sub; the outage itself is logged by the shared client.
 */
function withoutUnhandledRejections(client: Redis): Redis {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const result: unknown = (value as (...args: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) result.catch(() => undefined);
        return result;
      };
    },
  });
}
