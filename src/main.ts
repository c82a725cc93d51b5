import { Logger } from '@nestjs/common';
import { createApp } from './app-setup';
import { enableGracefulShutdown } from './common/lifecycle/graceful-shutdown';
import { LongLivedConnections } from './common/lifecycle/long-lived-connections';
import { startProcess } from './common/lifecycle/start-process';
import { loadConfig } from './config/load-config';
import { readEnvironment } from './config/read-environment';

async function bootstrap(): Promise<void> {
  const config = loadConfig(readEnvironment());
  const app = await createApp(config);
  enableGracefulShutdown(app, app.get(LongLivedConnections, { strict: false }));
  await app.listen(config.http.port);
  const database = config.database.url
    ? 'PostgreSQL'
    : `embedded PGlite (${config.database.dataDir})`;
  const redis = config.redis.url ? 'Redis' : 'in-process cache and limits';
  new Logger('Bootstrap').log(
    `Keel ${config.app.version} (${config.app.env}) on port ${config.http.port}: ${database}, ${redis}`,
  );
}

startProcess(bootstrap);
