import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';

/**
 * The benchmark's reference: Nest on Express with one route and nothing else (no guards,
 * interceptors, pipes, filters or middleware of Keel's), started with the API's Node flags.
 */
@Controller()
class BareController {
  @Get('bare')
  bare(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(BareModule, { logger: false });
  await app.listen(Number(process.env.PORT ?? 3000));
  // An orderly exit on SIGTERM, so that --cpu-prof writes its profile.
  process.once('SIGTERM', () => {
    void app.close().then(() => process.exit(0));
  });
}

bootstrap().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
