import { ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './child-process';

/**
 * A redis-server of the suite's own, on a free port, for fault tests: stop it under a running
 * app and start it again on the same port. Nothing is persisted (`--save ""`, no AOF), so a
 * restart begins empty. Always `stop()` it in afterAll.
 */
export class PrivateRedis {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private output = '';

  private constructor(readonly port: number) {}

  /** Starts a redis-server and resolves once it answers PING. */
  static async start(timeoutMs = 10_000): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.launch(timeoutMs);
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Stops the server (SIGTERM; SIGKILL after `timeoutMs`) and waits until it has exited. */
  async stop(timeoutMs = 5000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.kill('SIGTERM');
    await this.exited;
    clearTimeout(killer);
  }

  /** Stops the server if it runs, then starts a new, empty one on the same port. */
  async restart(timeoutMs = 10_000): Promise<void> {
    await this.stop();
    await this.launch(timeoutMs);
  }

  private async launch(timeoutMs: number): Promise<void> {
    this.output = '';
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    let failure: Error | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        failure = error;
        resolve();
      });
      child.once('exit', () => {
        failure ??= new Error(`redis-server exited:\n${this.output}`);
        resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (failure) break;
      if (await answersPing(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.child = undefined;
    child.kill('SIGKILL');
    await this.exited;
    throw (
      failure ?? new Error(`redis-server did not answer within ${timeoutMs} ms:\n${this.output}`)
    );
  }
}

/** One PING over a raw connection: true on +PONG (no client library, no reconnection). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
