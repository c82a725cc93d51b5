import { loadConfig } from '../config/load-config';
import { readEnvironment } from '../config/read-environment';
import { createDataSource } from './keel-data-source';

/**
 * Entry point of the TypeORM CLI (`npm run migration:*`, the migration Job): the same database
 * the API would open with this environment, embedded or not, left for the CLI to initialize.
 * Without the API's statement timeouts: a migration may take longer than a request.
 */
export const dataSource = createDataSource(loadConfig(readEnvironment()).database, {
  requestTimeouts: false,
});
