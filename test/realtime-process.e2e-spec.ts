import { randomUUID } from 'node:crypto';
import { KeelProcess, killProcess, spawnKeel, waitUntilServing } from './helpers/child-process';
import { DEFAULT_PASSWORD, uniqueEmail } from './helpers/identity';
import { PrivateRedis } from './helpers/private-redis';
import { redisUrl } from './helpers/services';
import { describeWithSharedServices } from './helpers/shared-services';
import { ack, disconnection, nextEvent, SocketClients, within } from './helpers/socket';
import { createTestDatabase, TestDatabase } from './helpers/test-database';

const SHUTDOWN_TIMEOUT_MS = 30_000;

/** Registers through the API process and returns the access token. */
async function accessToken(keel: KeelProcess): Promise<string> {
  const res = await fetch(`${keel.url}/v1/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: uniqueEmail('ws'), password: DEFAULT_PASSWORD, name: 'Ws' }),
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

function logMessages(keel: KeelProcess): string[] {
  return keel
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg?: string }).msg ?? '');
}

describe('Realtime in the API process (node dist/src/main.js)', () => {
  let database: TestDatabase;
  let keel: KeelProcess | undefined;
  let clients: SocketClients | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    clients?.closeAll();
    await killProcess(keel);
  });
  afterAll(() => database.drop());

  it('on SIGTERM tells open sockets server.shutdown, closes them and exits 0 without waiting for SHUTDOWN_TIMEOUT_MS', async () => {
    const redis = await redisUrl();
    keel = await spawnKeel({
      APP_ENV: 'test',
      LOG_LEVEL: 'info',
      REDIS_PREFIX: `test:${randomUUID()}:`,
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      ...(database.url && { DATABASE_URL: database.url }),
      ...(redis && { REDIS_URL: redis }),
    });
    await waitUntilServing(keel);
    clients = new SocketClients(keel.url);
    const token = await accessToken(keel);
    // A WebSocket, and a long-polling client whose pending poll is an open HTTP request.
    const sockets = [
      await clients.connect(token, 'websocket'),
      await clients.connect(token, 'polling'),
    ];
    const notices = sockets.map((socket) => nextEvent(socket, 'server.shutdown'));
    const closed = sockets.map((socket) => disconnection(socket));

    const signalled = Date.now();
    keel.child.kill('SIGTERM');

    expect(await Promise.all(notices)).toEqual([
      { at: expect.any(String) },
      { at: expect.any(String) },
    ]);
    // A closed transport, not a server disconnect: clients reconnect, to another instance. The
    // polling client may instead find the server gone on its next poll (a transport error).
    const [websocket, polling] = await Promise.all(closed);
    expect(websocket).toBe('transport close');
    expect(['transport close', 'transport error']).toContain(polling);
    expect(await within(keel.exited, 10_000, 'exit after SIGTERM')).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 3);
    const messages = logMessages(keel);
    expect(messages).toContain('shutdown complete');
    expect(messages.filter((msg) => /still open|open handles remain/.test(msg))).toEqual([]);
  });

  describeWithSharedServices('with Redis stopped under it', () => {
    let redis: PrivateRedis | undefined;

    afterEach(() => redis?.stop());

    it('keeps serving its sockets, refuses new ones as unavailable, and accepts them again after Redis returns', async () => {
      redis = await PrivateRedis.start();
      keel = await spawnKeel({
        APP_ENV: 'test',
        LOG_LEVEL: 'info',
        REDIS_URL: redis.url,
        DATABASE_URL: database.url as string,
      });
      await waitUntilServing(keel);
      clients = new SocketClients(keel.url);
      const token = await accessToken(keel);
      const [sender, receiver] = [await clients.connect(token), await clients.connect(token)];
      const room = `public:outage-${randomUUID().slice(0, 8)}`;
      for (const socket of [sender, receiver]) {
        expect(await ack(socket, 'room:join', { room })).toEqual({ ok: true });
      }

      await redis.stop();

      // Publishing to the other instances fails; this instance's sockets are still served, and
      // the failed publishes do not end the process (unhandled rejections would).
      for (const text of ['during', 'the outage']) {
        const received = nextEvent(receiver, 'message');
        expect(await ack(sender, 'message', { room, text })).toMatchObject({ ok: true });
        expect(await received).toMatchObject({ text });
      }
      // The revocation list cannot be read: new handshakes fail closed.
      expect((await clients.refusal({ token })).message).toBe('unavailable');
      expect((await fetch(`${keel.url}/health/live`)).status).toBe(200);

      await redis.restart();
      const deadline = Date.now() + 15_000;
      let reconnected = false;
      while (!reconnected && Date.now() < deadline) {
        const refusal = await clients.refusal({ token }).catch(() => undefined);
        reconnected = refusal === undefined;
        if (!reconnected) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(reconnected).toBe(true);
      expect(sender.connected && receiver.connected).toBe(true);
      expect(keel.child.exitCode).toBeNull();
      keel.child.kill('SIGTERM');
      expect(await within(keel.exited, 10_000, 'exit after SIGTERM')).toBe(0);
    });
  });
});
