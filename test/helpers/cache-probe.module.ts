import { Controller, Get, Module } from '@nestjs/common';
import { Public } from '../../src/auth/public.decorator';
import { Cached } from '../../src/common/cache/cached.decorator';

/** A public cached route with a one-second TTL; its counter shows when the handler really ran. */
@Public()
@Controller('cache-probe')
class CacheProbeController {
  private calls = 0;

  @Get()
  @Cached({ ttlSeconds: 1, tags: ['probe'] })
  count(): { calls: number } {
    this.calls += 1;
    return { calls: this.calls };
  }
}

@Module({ controllers: [CacheProbeController] })
export class CacheProbeModule {}
