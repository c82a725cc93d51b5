import { createHmac } from 'node:crypto';
import { KeelProcess, killProcess, spawnWorker, waitUntilServing } from '../helpers/child-process';
import {
  call,
  FaultServices,
  HoldingWebhookTarget,
  registerUser,
  sleep,
  startApi,
  startFaultServices,
  until,
  within,
} from './fault-kit';

/** A crashed worker's lock expires after this; Bull looks for stalled jobs every half of it. */
const JOB_LOCK_MS = 2000;

interface JobRow {
  status: string;
  attempts: number;
  finished_at: Date | null;
}

/** The JSON lines of a process's output. */
function logLines(process: KeelProcess): Record<string, unknown>[] {
  return process
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('A worker stopped in the middle of a job (production build, private PostgreSQL and Redis)', () => {
  let services: FaultServices | undefined;
  let api: KeelProcess | undefined;
  let workerA: KeelProcess | undefined;
  let workerB: KeelProcess | undefined;
  let workerC: KeelProcess | undefined;
  let workerD: KeelProcess | undefined;
  const target = new HoldingWebhookTarget();
  const slowTarget = new HoldingWebhookTarget();

  beforeAll(async () => {
    await target.start();
    await slowTarget.start();
    services = await startFaultServices({
      LOG_LEVEL: 'info',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      JOB_BACKOFF_MS: '20',
      JOB_LOCK_MS: String(JOB_LOCK_MS),
      SHUTDOWN_DELAY_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '5000',
    });
    // WORKER_IN_PROCESS is off with Redis: this API only queues jobs.
    api = await startApi(services.env);
  });

  afterAll(async () => {
    await Promise.all(
      [workerA, workerB, workerC, workerD, api].map((process) => killProcess(process)),
    );
    await target.stop();
    await slowTarget.stop();
    await services?.stop();
  });

  it('SIGKILLed: the job runs again on another worker and completes exactly once', async () => {
    const env = (services as FaultServices).env;
    const postgres = (services as FaultServices).postgres;
    const { url } = api as KeelProcess;
    // A timeout far above the test's waits: only the SIGKILL ends worker A's attempt.
    workerA = await spawnWorker({ ...env, WEBHOOK_TIMEOUT_MS: '60000' });
    await waitUntilServing(workerA);
    const a = workerA;
    await until(
      'worker A ready',
      async () => (await call(`${a.url}/health/ready`)).status === 200 || undefined,
      10_000,
    );
    // The worker's port serves health and metrics only: no API route, guarded or not.
    expect((await call(`${a.url}/metrics`)).status).toBe(200);
    expect((await call(`${a.url}/v1/users`)).status).toBe(404);
    expect((await call(`${a.url}/v1/jobs`, { method: 'POST', json: {} })).status).toBe(404);

    const auth = { Authorization: `Bearer ${await registerUser(api as KeelProcess, 'worker')}` };
    const created = await call(`${url}/v1/jobs`, {
      method: 'POST',
      headers: auth,
      json: {
        type: 'webhook.deliver',
        payload: { url: target.url, event: 'order.paid', data: { orderId: 42 } },
      },
    });
    expect(created.status).toBe(202);
    const { id } = created.body as { id: string };
    const job = async () => (await call(`${url}/v1/jobs/${id}`, { headers: auth })).body;

    // Worker A has sent the request and waits for an answer that never comes.
    await until('first delivery', () => target.received.length > 0 || undefined, 15_000);
    expect(await job()).toMatchObject({ status: 'active', attempts: 1 });

    a.child.kill('SIGKILL');
    await within('worker A killed', a.exited, 5000);
    expect(a.child.signalCode).toBe('SIGKILL');

    // Worker B finds the job without a live lock and runs it again.
    workerB = await spawnWorker({ ...env, WEBHOOK_TIMEOUT_MS: '5000' });
    await waitUntilServing(workerB);
    const b = workerB;
    let last: unknown;
    const finished = await until(
      () => `job finished on worker B (last: ${JSON.stringify(last)})\n${b.stdout()}`,
      async () => {
        last = await job();
        const status = (last as { status: string }).status;
        return ['completed', 'failed', 'cancelled'].includes(status) ? last : undefined;
      },
      20_000,
      100,
    );
    expect(finished).toMatchObject({
      id,
      status: 'completed',
      attempts: 2,
      error: null,
      result: { status: 200 },
    });

    // Both deliveries carry the same event (receivers dedupe on its id), each validly signed.
    expect(target.received).toHaveLength(2);
    const events = target.received.map((delivery) => JSON.parse(delivery.body) as unknown);
    expect(events[0]).toEqual({
      id,
      event: 'order.paid',
      data: { orderId: 42 },
      createdAt: (finished as { createdAt: string }).createdAt,
    });
    expect(events[1]).toEqual(events[0]);
    for (const delivery of target.received) {
      const signature = createHmac('sha256', env.WEBHOOK_SIGNING_SECRET)
        .update(delivery.body)
        .digest('hex');
      expect(delivery.headers['x-signature']).toBe(`sha256=${signature}`);
    }

    // Once: over more than a lock period and two stall checks after completion, no third
    // delivery, the row unchanged, and one completion logged by the workers between them.
    const rowAtCompletion = await postgres.query<JobRow>(
      'SELECT status, attempts, finished_at FROM jobs WHERE id = $1',
      [id],
    );
    await sleep(JOB_LOCK_MS + 1000);
    expect(target.received).toHaveLength(2);
    expect(
      await postgres.query<JobRow>('SELECT status, attempts, finished_at FROM jobs WHERE id = $1', [
        id,
      ]),
    ).toEqual(rowAtCompletion);
    expect(rowAtCompletion).toEqual([
      { status: 'completed', attempts: 2, finished_at: expect.any(Date) },
    ]);
    expect(await postgres.query("SELECT id FROM jobs WHERE type = 'webhook.deliver'")).toEqual([
      { id },
    ]);
    const completions = [...logLines(a), ...logLines(b)].filter(
      (line) => line.jobId === id && line.msg === 'job completed',
    );
    expect(completions).toEqual([expect.objectContaining({ status: 'completed', attempt: 2 })]);

    b.child.kill('SIGTERM');
    expect(await within('worker B stopped by SIGTERM', b.exited, 15_000)).toBe(0);
  });

  it('SIGTERMed while a job outlasts SHUTDOWN_TIMEOUT_MS: exits 0, logs no error, and the job runs again', async () => {
    const env = (services as FaultServices).env;
    const { url } = api as KeelProcess;
    // The delivery would wait 60 s for its answer; the shutdown waits for it 5 s at most.
    workerC = await spawnWorker({ ...env, WEBHOOK_TIMEOUT_MS: '60000' });
    await waitUntilServing(workerC);
    const c = workerC;
    const auth = { Authorization: `Bearer ${await registerUser(api as KeelProcess, 'sigterm')}` };
    const created = await call(`${url}/v1/jobs`, {
      method: 'POST',
      headers: auth,
      json: { type: 'webhook.deliver', payload: { url: slowTarget.url, event: 'order.paid' } },
    });
    expect(created.status).toBe(202);
    const { id } = created.body as { id: string };
    await until('delivery held', () => slowTarget.received.length > 0 || undefined, 15_000);

    c.child.kill('SIGTERM');
    // Bounded well under the delivery's 60 s: the timeout, then at most the 5 s exit fallback.
    expect(await within('worker C stopped by SIGTERM', c.exited, 20_000)).toBe(0);
    const lines = logLines(c);
    // What the HTTP drain left of SHUTDOWN_TIMEOUT_MS (5000 ms): most of it, in a worker.
    const released = lines.find((line) =>
      /^jobs still running after \d+ ms; releasing them$/.test(String(line.msg)),
    );
    const waitedMs = Number(/after (\d+) ms/.exec(String(released?.msg))?.[1]);
    expect(waitedMs).toBeGreaterThan(2500);
    expect(waitedMs).toBeLessThanOrEqual(5000);
    expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([]);

    // Released: its lock expires and the next worker runs it again (answered this time).
    workerD = await spawnWorker({ ...env, WEBHOOK_TIMEOUT_MS: '5000' });
    await waitUntilServing(workerD);
    const finished = await until(
      'job completed on worker D',
      async () => {
        const job = (await call(`${url}/v1/jobs/${id}`, { headers: auth })).body as {
          status: string;
        };
        return job.status === 'completed' ? job : undefined;
      },
      20_000,
      100,
    );
    expect(finished).toMatchObject({ id, status: 'completed', attempts: 2 });
    expect(slowTarget.received).toHaveLength(2);
  });
});
