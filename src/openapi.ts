import { writeFileSync } from 'node:fs';
import { createApp } from './app-setup';
import { buildOpenApiDocument } from './common/http/openapi';
import { loadConfig } from './config/load-config';

/** `npm run openapi [file]`: writes the OpenAPI document without serving (embedded, in memory). */
async function main(): Promise<void> {
  const output = process.argv[2] ?? 'openapi.json';
  const config = loadConfig({ APP_ENV: 'test', DATA_DIR: 'memory', LOG_LEVEL: 'error' });
  const app = await createApp(config);
  await app.init();
  writeFileSync(output, `${JSON.stringify(buildOpenApiDocument(app, config), null, 2)}\n`);
  await app.close();
  console.log(`OpenAPI document written to ${output}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
