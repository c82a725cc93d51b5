import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigValidationError } from './load-config';

/**
 * The process environment, plus `.env` when running in development (APP_ENV unset or
 * `development`). Real environment variables win over the file. The file cannot switch the
 * environment: it is read only in development, so one that says otherwise is refused.
 */
export function readEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  envFile = '.env',
): Record<string, string | undefined> {
  const appEnv = env.APP_ENV ?? 'development';
  if (appEnv !== 'development' || !existsSync(envFile)) return { ...env };
  const fromFile = parseEnv(readFileSync(envFile, 'utf8'));
  if (fromFile.APP_ENV !== undefined && fromFile.APP_ENV !== 'development') {
    throw new ConfigValidationError([
      `APP_ENV: ${envFile} sets "${fromFile.APP_ENV}", but ${envFile} is read only in development; set APP_ENV in the environment instead`,
    ]);
  }
  return { ...fromFile, ...env };
}
