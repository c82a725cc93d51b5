import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/load-config';

const root = join(__dirname, '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

interface Service {
  image?: string;
  command?: string | string[];
  restart?: string;
  environment?: Record<string, string | number | boolean> | string[];
  secrets?: (string | { source: string; target?: string })[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  stop_grace_period?: string;
  ports?: string[];
}

interface Instruction {
  keyword: string;
  args: string;
}

const DATA_SOURCE = 'dist/src/database/data-source.js';

/** `environment:` in either Compose form, as strings. */
function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((line): [string, string] => {
        const [name, value = ''] = line.split(/=(.*)/s);
        return [name, value];
      })
    : Object.entries(env).map(([name, value]): [string, string] => [name, String(value)]);
  return Object.fromEntries(entries);
}

/** Compose durations such as `30s` or `1m30s`, in seconds. */
function seconds(duration: string): number {
  expect(duration).toMatch(/^(\d+(\.\d+)?(ms|h|m|s))+$/);
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(amount) * units[unit];
  }
  return total;
}

/** The Dockerfile's instructions (continuations joined, comments dropped), grouped by stage. */
function dockerfileStages(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const line of lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const keyword = line.split(/\s/, 1)[0].toUpperCase();
    if (keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push({ keyword, args: line.slice(keyword.length).trim() });
  }
  return stages;
}

describe('docker-compose.yml', () => {
  const { services } = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, Service>;
  };
  const { postgres, redis, migrate, api, worker } = services;

  it('defines postgres, redis, a one-shot migrate step, the api and the worker', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['postgres', 'redis', 'migrate', 'api', 'worker']),
    );
    expect(migrate.restart).toBe('no');
    expect(migrate.image).toBe(api.image);
    expect(worker.image).toBe(api.image);
  });

  it('health-checks postgres, redis, the api and the worker', () => {
    for (const service of [postgres, redis, api, worker]) {
      expect(service.healthcheck?.disable).not.toBe(true);
      expect(service.healthcheck?.test).toBeDefined();
    }
    expect(JSON.stringify(api.healthcheck?.test)).toMatch(/\/health\/(live|ready)\b/);
  });

  it('runs the compiled worker, probed on its own port, which is not published', () => {
    expect([worker.command ?? []].flat()).toEqual(['node', 'dist/src/worker.js']);
    expect(existsSync(join(root, 'src/worker.ts'))).toBe(true);
    // The image's HEALTHCHECK probes PORT (the API's), which the worker does not serve.
    const probe = JSON.stringify(worker.healthcheck?.test);
    const port = environmentOf(worker).WORKER_PORT;
    expect(port).toMatch(/^\d+$/);
    expect(probe).toContain(`http://127.0.0.1:${port}/health/live`);
    expect(worker.ports).toBeUndefined();
  });

  it('starts the worker after the migrations succeeded and postgres and redis are healthy', () => {
    expect(worker.depends_on).toMatchObject({
      migrate: { condition: 'service_completed_successfully' },
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
  });

  it("gives the worker the api's configuration and secrets, plus its port", () => {
    const { WORKER_PORT, ...shared } = environmentOf(worker);
    expect(WORKER_PORT).toBeDefined();
    expect(shared).toEqual(environmentOf(api));
    expect(worker.secrets).toEqual(api.secrets);
  });

  it('migrates with the compiled TypeORM data source once postgres is healthy', () => {
    const command = [migrate.command ?? []].flat().join(' ');
    expect(command).toContain('migration:run');
    expect(command).toContain(DATA_SOURCE);
    expect(existsSync(join(root, 'src/database/data-source.ts'))).toBe(true);
    expect(migrate.depends_on?.postgres).toEqual({ condition: 'service_healthy' });
  });

  it('starts the api after the migrations succeeded and postgres and redis are healthy', () => {
    expect(api.depends_on).toMatchObject({
      migrate: { condition: 'service_completed_successfully' },
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
  });

  it('runs the api in production against the compose postgres and redis', () => {
    const env = environmentOf(api);
    expect(env.APP_ENV).toBe('production');
    expect(new URL(env.DATABASE_URL).host).toBe('postgres:5432');
    expect(new URL(env.REDIS_URL).host).toBe('redis:6379');
  });

  it('mounts every secret file the configuration names and inlines no secret', () => {
    for (const service of [migrate, api, worker]) {
      const env = environmentOf(service);
      const mounted = (service.secrets ?? []).map((s) =>
        typeof s === 'string' ? `/run/secrets/${s}` : (s.target ?? `/run/secrets/${s.source}`),
      );
      const named = Object.keys(env).filter((name) => name.endsWith('_FILE'));
      expect(named.map((name) => env[name]).sort()).toEqual(mounted.sort());
      expect(named).toEqual(
        expect.arrayContaining(['JWT_SECRET_FILE', 'WEBHOOK_SIGNING_SECRET_FILE']),
      );
      expect(env).not.toHaveProperty('JWT_SECRET');
      expect(env).not.toHaveProperty('WEBHOOK_SIGNING_SECRET');
    }
  });

  describe('with the secrets mounted', () => {
    let secretsDir: string;
    beforeAll(() => {
      secretsDir = mkdtempSync(join(tmpdir(), 'keel-delivery-'));
    });
    afterAll(() => rmSync(secretsDir, { recursive: true, force: true }));

    /** The container's environment: `${NAME:-default}` at its default, secret files written. */
    const containerEnv = (service: Service) => {
      const env = environmentOf(service);
      for (const [name, value] of Object.entries(env)) {
        env[name] = value.replace(/\$\{\w+:-([^}]*)\}/g, '$1');
        if (!name.endsWith('_FILE')) continue;
        env[name] = join(secretsDir, name);
        writeFileSync(env[name], randomBytes(48).toString('base64'));
      }
      return env;
    };

    it('passes production config validation for the api, the worker and migrate', () => {
      for (const service of [api, worker, migrate]) {
        const config = loadConfig(containerEnv(service));
        expect(config.app.env).toBe('production');
        expect(config.database.migrateOnBoot).toBe(false);
      }
      // The worker service runs the jobs; the api only queues them.
      expect(loadConfig(containerEnv(api)).worker.inProcess).toBe(false);
      expect(loadConfig(containerEnv(worker)).worker.port).toBe(
        Number(environmentOf(worker).WORKER_PORT),
      );
    });

    it('gives the api and the worker longer to stop than their shutdown delay and drain timeout', () => {
      for (const service of [api, worker]) {
        const { delayMs, timeoutMs } = loadConfig(containerEnv(service)).shutdown;
        expect(seconds(service.stop_grace_period ?? '10s') * 1000).toBeGreaterThan(
          delayMs + timeoutMs,
        );
      }
    });
  });
});

describe('Dockerfile', () => {
  const stages = dockerfileStages(read('Dockerfile'));
  const runtime = stages.at(-1) ?? [];
  const args = (stage: Instruction[], keyword: string) =>
    stage.filter((i) => i.keyword === keyword).map((i) => i.args);

  it('builds in one stage and runs from another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.slice(0, -1).flatMap((stage) => args(stage, 'RUN'));
    expect(build.join('\n')).toMatch(/npm ci\b/);
    expect(build.join('\n')).toMatch(/npm run build\b/);
  });

  it('installs production dependencies only in the runtime stage', () => {
    const installs = args(runtime, 'RUN').filter((run) => /\bnpm (ci|install|i)\b/.test(run));
    expect(installs).not.toHaveLength(0);
    for (const install of installs) expect(install).toContain('--omit=dev');
  });

  it('ships only the compiled output and the package files', () => {
    const shipped = args(runtime, 'COPY').flatMap((copy) => {
      const parts = copy.split(/\s+/);
      const from = parts.some((p) => p.startsWith('--from=')) ? 'stage:' : '';
      return parts
        .filter((p) => !p.startsWith('--'))
        .slice(0, -1)
        .map((source) => from + source);
    });
    expect(shipped).toContainEqual(expect.stringMatching(/^stage:/));
    for (const source of shipped) {
      expect(source).toMatch(/^(package(-lock)?\.json|stage:(\S*\/)?dist\/?)$/);
    }
  });

  it('defaults to APP_ENV=production', () => {
    expect(args(runtime, 'ENV').join(' ')).toMatch(/\bAPP_ENV=production\b/);
  });

  it('runs as a non-root user', () => {
    const user = args(runtime, 'USER').at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('health-checks /health/live', () => {
    expect(args(runtime, 'HEALTHCHECK').join(' ')).toContain('/health/live');
  });

  it('starts node on dist/src/main.js in exec form, so node itself receives SIGTERM', () => {
    expect(JSON.parse(args(runtime, 'CMD').at(-1) ?? 'null')).toEqual(['node', 'dist/src/main.js']);
    expect(args(runtime, 'ENTRYPOINT')).toEqual([]);
  });
});
