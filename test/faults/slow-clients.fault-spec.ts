import { connect, Socket } from 'node:net';
import { KeelProcess, killProcess } from '../helpers/child-process';
import {
  call,
  FaultServices,
  registerUser,
  sleep,
  startApi,
  startFaultServices,
  until,
  within,
} from './fault-kit';

const SLOW_CLIENTS = 50;
const SHUTDOWN_TIMEOUT_MS = 2000;
/** A normal request must not wait behind the slow clients (ms). */
const PROMPT_MS = 1000;

/**
 * Slowloris-style clients: each opens a connection and sends its request a few bytes at a time,
 * never finishing it: the headers (one more header line per tick), or a JSON body much shorter
 * than its Content-Length (one more byte per tick).
 */
class SlowClients {
  private readonly sockets: Socket[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  /** Connections the server has closed or reset. */
  closed = 0;

  async open(port: number, count: number): Promise<void> {
    await Promise.all(
      Array.from({ length: count }, (_, i) => this.openOne(port, i % 2 === 0 ? 'headers' : 'body')),
    );
  }

  get connected(): number {
    return this.sockets.length - this.closed;
  }

  destroy(): void {
    for (const timer of this.timers) clearInterval(timer);
    for (const socket of this.sockets) socket.destroy();
  }

  private openOne(port: number, kind: 'headers' | 'body'): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      this.sockets.push(socket);
      socket.once('error', reject);
      socket.once('close', () => this.closed++);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.on('error', () => undefined);
        if (kind === 'headers') {
          socket.write('GET /v1/features HTTP/1.1\r\nHost: 127.0.0.1\r\n');
          this.timers.push(setInterval(() => socket.write('X-Slow: 1\r\n'), 300));
        } else {
          socket.write(
            'POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
              'Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n{',
          );
          this.timers.push(setInterval(() => socket.write(' '), 300));
        }
        resolve();
      });
    });
  }
}

describe('Slow clients holding connections (production build, private PostgreSQL and Redis)', () => {
  let services: FaultServices | undefined;
  let api: KeelProcess | undefined;
  const slow = new SlowClients();

  beforeAll(async () => {
    services = await startFaultServices({
      LOG_LEVEL: 'info',
      RATE_LIMIT_MAX: '100000',
      SHUTDOWN_DELAY_MS: '0',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    });
    api = await startApi(services.env);
  });

  afterAll(async () => {
    slow.destroy();
    await killProcess(api);
    await services?.stop();
  });

  it('keeps answering everyone else promptly, and they cannot hold shutdown past SHUTDOWN_TIMEOUT_MS', async () => {
    const keel = api as KeelProcess;
    const bearer = { Authorization: `Bearer ${await registerUser(keel, 'slow')}` };
    await slow.open(keel.port, SLOW_CLIENTS);

    // For three seconds, while the slow clients trickle: single requests and bursts, public and
    // authenticated (database and Redis behind them), each answered within PROMPT_MS.
    const answers = [];
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      answers.push(
        await call(`${keel.url}/v1/features`, {}, PROMPT_MS),
        await call(`${keel.url}/v1/auth/me`, { headers: bearer }, PROMPT_MS),
        await call(`${keel.url}/health/ready`, {}, PROMPT_MS),
        ...(await Promise.all(
          Array.from({ length: 10 }, () => call(`${keel.url}/v1/features`, {}, PROMPT_MS)),
        )),
      );
      await sleep(100);
    }
    expect(answers.length).toBeGreaterThan(50);
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(PROMPT_MS);
    // The slow clients really held their connections all along (Node's headersTimeout is 60 s).
    expect(slow.connected).toBe(SLOW_CLIENTS);

    // Their unfinished requests count as in flight: shutdown waits SHUTDOWN_TIMEOUT_MS for them,
    // then cuts their connections and exits 0.
    const started = Date.now();
    keel.child.kill('SIGTERM');
    expect(await within('exit after SIGTERM', keel.exited, SHUTDOWN_TIMEOUT_MS + 8000)).toBe(0);
    expect(Date.now() - started).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 5000);
    await until('every slow connection closed', () => slow.connected === 0 || undefined, 2000);
    expect(keel.stdout()).toContain('closing their connections');
  });
});
