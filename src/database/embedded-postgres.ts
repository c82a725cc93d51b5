import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface EmbeddedPostgresOptions {
  /** A directory for the data files, or `'memory'`. */
  dataDir: string;
  /** Connections the socket server accepts; keep it above the pool size. */
  maxConnections: number;
}

/**
 * PostgreSQL without a server: PGlite (Postgres compiled to WebAssembly) behind a loopback
 * socket that speaks the wire protocol, so the `pg` driver, TypeORM and the migrations run
 * unchanged. One process owns a data directory at a time (a pid lock file guards it).
 */
export class EmbeddedPostgres {
  private stopped = false;

  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    private readonly lockFile: string | undefined,
    /** A connection URL for the `pg` driver. */
    readonly url: string,
  ) {}

  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const inMemory = options.dataDir === 'memory';
    const root = resolve(options.dataDir);
    const lockFile = inMemory ? undefined : acquireLock(root);
    try {
      // The extensions the migrations create must be compiled in (PostgreSQL ships them as contrib).
      const db = await PGlite.create({
        dataDir: inMemory ? undefined : join(root, 'pg'),
        extensions: { pg_trgm },
      });
      const server = new PGLiteSocketServer({
        db,
        host: '127.0.0.1',
        port: 0,
        maxConnections: options.maxConnections,
      });
      await server.start();
      const url = `postgres://postgres@${server.getServerConn()}/postgres`;
      return new EmbeddedPostgres(db, server, lockFile, url);
    } catch (error) {
      if (lockFile) rmSync(lockFile, { force: true });
      throw error;
    }
  }

  /** Closes client connections, then the database (flushing it to disk), then the lock. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.server.stop();
    await this.db.close();
    if (this.lockFile) rmSync(this.lockFile, { force: true });
  }
}

/** Two processes writing one PGlite directory would corrupt it: refuse the second. */
function acquireLock(root: string): string {
  mkdirSync(root, { recursive: true });
  const lockFile = join(root, 'keel.pid');
  const owner = existsSync(lockFile) ? Number(readFileSync(lockFile, 'utf8')) : undefined;
  if (owner !== undefined && isAlive(owner)) {
    throw new Error(
      `The embedded database in ${root} is in use by process ${owner}. Stop that process, or set DATA_DIR to another directory.`,
    );
  }
  // A stale lock of a process that died; 'wx' still fails if another process wins a race here.
  rmSync(lockFile, { force: true });
  writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
  return lockFile;
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
