import { execFile } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './child-process';

/** The newest installed server (Debian's layout), else whatever `initdb` the PATH holds. */
function binary(name: 'initdb' | 'pg_ctl'): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((version) => existsSync(join(root, version, 'bin', name)))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return versions.length > 0 ? join(root, versions[0], 'bin', name) : name;
}

/** PostgreSQL refuses to run as root: there, its tools run as the `postgres` user. */
const AS_ROOT = process.getuid?.() === 0;

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  const [file, argv] = AS_ROOT
    ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
    : [command, args];
  return new Promise((resolve, reject) => {
    execFile(
      file,
      argv,
      { timeout: timeoutMs, killSignal: 'SIGKILL', env: { PATH: process.env.PATH, LANG: 'C' } },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(`${command} ${args.join(' ')} failed: ${stderr || stdout}`, { cause: error }),
          );
        } else resolve(stdout);
      },
    );
  });
}

/**
 * A PostgreSQL server of the suite's own (initdb in a temporary directory, trust auth, a free
 * port on 127.0.0.1, its socket in that directory, no fsync), for fault tests: stop or restart
 * it under a running app. Data survives stop/start; `destroy()` (always, in afterAll) stops it
 * and deletes the directory.
 */
export class PrivatePostgres {
  static readonly DATABASE = 'keel_faults_test';
  private running = false;

  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  /** initdb, start, and create {@link PrivatePostgres.DATABASE}; every step bounded in time. */
  static async start(timeoutMs = 30_000): Promise<PrivatePostgres> {
    const dir = await mkdtemp(join(tmpdir(), 'keel-pg-'));
    const postgres = new PrivatePostgres(dir, await freePort());
    try {
      if (AS_ROOT) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
      await run(
        binary('initdb'),
        ['-D', postgres.dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'],
        timeoutMs,
      );
      await postgres.launch(timeoutMs);
      await postgres.admin((client) =>
        client.query(`CREATE DATABASE "${PrivatePostgres.DATABASE}"`),
      );
      return postgres;
    } catch (error) {
      await postgres.destroy();
      throw error;
    }
  }

  /** The app's database. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${PrivatePostgres.DATABASE}`;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Stops the server; `fast` (the default) ends every session at once, as a failover does. */
  async stop(mode: 'fast' | 'immediate' = 'fast', timeoutMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const seconds = String(Math.ceil(timeoutMs / 1000));
    try {
      await run(
        binary('pg_ctl'),
        ['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', seconds],
        timeoutMs + 2000,
      );
    } catch (error) {
      if (mode === 'immediate') throw error;
      await this.stop('immediate', timeoutMs);
    }
  }

  /** Starts the stopped server again on the same port, with the same data. */
  async start(timeoutMs = 15_000): Promise<void> {
    if (!this.running) await this.launch(timeoutMs);
  }

  /** Stops (fast) and starts again. */
  async restart(timeoutMs = 15_000): Promise<void> {
    await this.stop('fast', timeoutMs);
    await this.launch(timeoutMs);
  }

  /** Queries as the superuser on the app's database, over a connection of its own. */
  query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.admin(async (client) => (await client.query(sql, params)).rows as T[], this.url);
  }

  /** Stops the server (even if a test failed half-way) and deletes its directory. */
  async destroy(): Promise<void> {
    try {
      if (existsSync(join(this.dataDir, 'postmaster.pid'))) {
        this.running = true;
        await this.stop('immediate');
      }
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  /** The server log, for failure messages. */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  private get logFile(): string {
    return join(this.dir, 'server.log');
  }

  private async launch(timeoutMs: number): Promise<void> {
    const seconds = String(Math.ceil(timeoutMs / 1000));
    const options = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c synchronous_commit=off',
    ].join(' ');
    try {
      await run(
        binary('pg_ctl'),
        ['start', '-D', this.dataDir, '-l', this.logFile, '-o', options, '-w', '-t', seconds],
        timeoutMs + 2000,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${this.log()}`, { cause: error });
    }
    this.running = true;
  }

  private async admin<T>(work: (client: Client) => Promise<T>, url?: string): Promise<T> {
    const client = new Client({
      connectionString: url ?? `postgres://postgres@127.0.0.1:${this.port}/postgres`,
      connectionTimeoutMillis: 5000,
    });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
}

function uidOf(user: string): number {
  return idOf(user, 2);
}

function gidOf(user: string): number {
  return idOf(user, 3);
}

/** A field of the user's /etc/passwd line (2: uid, 3: gid). */
function idOf(user: string, field: 2 | 3): number {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${user}:`));
  if (!line) throw new Error(`running as root, but there is no "${user}" user to run PostgreSQL`);
  return Number(line.split(':')[field]);
}
