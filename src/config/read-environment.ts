import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/**
 * The process environment, plus `.env` when running in development (APP_ENV unset or
 * `development`). Real environment variables win over the file.
 */
export function readEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  envFile = '.env',
): Record<string, string | undefined> {
  const appEnv = env.APP_ENV ?? 'development';
  if (appEnv !== 'development' || !existsSync(envFile)) return { ...env };
  const fromFile = parseEnv(readFileSync(envFile, 'utf8'));
  return { ...fromFile, ...env };
}
