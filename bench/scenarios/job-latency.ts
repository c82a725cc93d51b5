import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../lib/api-client';
import { connectSocket } from '../lib/sockets';
import { percentile, round } from '../lib/stats';

export interface JobLatencyResult {
  jobs: number;
  /** Requests in flight at once. */
  concurrency: number;
  completed: number;
  failed: number;
  /** Neither completed nor failed within the wait. */
  missing: number;
  /** POST responses per second, first request to last response. */
  enqueuedPerSec: number;
  /** Jobs completed per second, first request to last completion. */
  completedPerSec: number;
  /** job.completed on the socket minus the POST's response, in ms. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Completions that arrived before their POST's response (counted as 0 ms). */
  completedBeforeResponse: number;
  /** How completion was observed. */
  via: 'socket';
}

const JOB = { type: 'data.process', payload: { items: [1] } };

/**
 * `jobs` POST /v1/jobs with `concurrency` in flight, each timed from its response to the
 * `job.completed` event the owner's socket receives (worker → Redis pub/sub → API → socket).
 */
export async function jobLatency(
  api: ApiClient,
  token: string,
  jobs: number,
  concurrency: number,
  waitMs = 180_000,
): Promise<JobLatencyResult> {
  const socket = await connectSocket(api.baseUrl, token);
  const completedAt = new Map<string, number>();
  let failed = 0;
  socket.on('job.completed', (event: { id: string }) =>
    completedAt.set(event.id, performance.now()),
  );
  socket.on('job.failed', () => failed++);
  const responded: { id: string; at: number }[] = [];
  const start = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < jobs) {
      next++;
      const { body } = await api.request<{ id: string }>('POST', '/v1/jobs', {
        token,
        body: JOB,
        expect: 202,
      });
      responded.push({ id: body.id, at: performance.now() });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, jobs) }, lane));
    const lastResponse = performance.now();
    const deadline = lastResponse + waitMs;
    while (completedAt.size + failed < jobs && performance.now() < deadline) await sleep(10);
    const latencies: number[] = [];
    let early = 0;
    let lastCompletion = start;
    for (const { id, at } of responded) {
      const done = completedAt.get(id);
      if (done === undefined) continue;
      if (done < at) early++;
      latencies.push(Math.max(0, done - at));
      lastCompletion = Math.max(lastCompletion, done);
    }
    return {
      jobs,
      concurrency,
      completed: latencies.length,
      failed,
      missing: jobs - latencies.length - failed,
      enqueuedPerSec: round(jobs / ((lastResponse - start) / 1000), 0),
      completedPerSec: round(latencies.length / ((lastCompletion - start) / 1000), 0),
      latencyMs: {
        p50: round(percentile(latencies, 50)),
        p90: round(percentile(latencies, 90)),
        p99: round(percentile(latencies, 99)),
        max: round(percentile(latencies, 100)),
      },
      completedBeforeResponse: early,
      via: 'socket',
    };
  } finally {
    socket.close();
  }
}
