import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { JobEvent, JobEvents } from './job-events';

/** Services mode: events go through a Redis channel, so any API process can deliver them. */
@Injectable()
export class RedisJobEvents extends JobEvents implements OnApplicationShutdown {
  private readonly logger = new Logger('JobEvents');
  private readonly channel: string;
  private readonly listeners = new Set<(event: JobEvent) => void>();
  private subscriber?: Redis;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    super();
    this.channel = `${prefix}job-events`;
  }

  async publish(event: JobEvent): Promise<void> {
    try {
      await this.redis.publish(this.channel, JSON.stringify(event));
    } catch (error) {
      this.logger.warn(
        { jobId: event.data.id, event: event.name, err: error },
        'job event not published: Redis unavailable',
      );
    }
  }

  subscribe(listener: (event: JobEvent) => void): () => void {
    this.listeners.add(listener);
    this.subscriber ??= this.openSubscriber();
    return () => this.listeners.delete(listener);
  }

  async onApplicationShutdown(): Promise<void> {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    return Promise.resolve();
  }

  /** A connection of its own (a subscribed connection can do nothing else); it resubscribes after an outage. */
  private openSubscriber(): Redis {
    const subscriber = this.redis.duplicate({
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    subscriber.on('error', () => undefined); // the shared client already reports outages
    subscriber.on('message', (_channel: string, message: string) => {
      const event = JSON.parse(message) as JobEvent;
      for (const listener of this.listeners) listener(event);
    });
    void subscriber.subscribe(this.channel).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'job events subscription failed');
    });
    return subscriber;
  }
}
