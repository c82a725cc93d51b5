import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from './load-config';
import { readEnvironment } from './read-environment';

describe(readEnvironment.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-env-'));
  const envFile = join(dir, '.env');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds .env in development, the real environment winning', () => {
    writeFileSync(envFile, 'PORT=4000\nLOG_LEVEL=debug\n');
    expect(readEnvironment({ LOG_LEVEL: 'warn' }, envFile)).toEqual({
      PORT: '4000',
      LOG_LEVEL: 'warn',
    });
    expect(readEnvironment({ APP_ENV: 'development' }, envFile).PORT).toBe('4000');
  });

  it('ignores .env outside development', () => {
    writeFileSync(envFile, 'PORT=4000\n');
    expect(readEnvironment({ APP_ENV: 'production' }, envFile)).toEqual({ APP_ENV: 'production' });
  });

  it('refuses a .env that would switch the environment', () => {
    writeFileSync(envFile, 'APP_ENV=production\nPORT=4000\n');
    expect(() => readEnvironment({}, envFile)).toThrow(ConfigValidationError);
    expect(() => readEnvironment({}, envFile)).toThrow(/APP_ENV: .* sets "production"/);
    writeFileSync(envFile, 'APP_ENV=development\n');
    expect(readEnvironment({}, envFile)).toEqual({ APP_ENV: 'development' });
  });
});
