import { ThrottlerStorageService } from '@nestjs/throttler';
import { RateLimitStorage, WindowHit, WindowRecord } from './rate-limit-storage';

/** The package's in-process counters (embedded mode, and Redis outages): per instance. */
export class MemoryThrottlerStorage extends ThrottlerStorageService implements RateLimitStorage {
  incrementAll(hits: readonly WindowHit[]): Promise<WindowRecord[]> {
    return Promise.all(
      hits.map((hit) => this.increment(hit.key, hit.ttl, hit.limit, hit.blockDuration, hit.name)),
    );
  }
}
