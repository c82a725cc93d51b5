import request from 'supertest';
import { JobResponse } from '../../src/jobs/dto/job-response.dto';
import { bearer } from './identity';
import { TestApp } from './test-app';

/** Environment for suites that run jobs: in-process worker, fast retries, local webhook targets. */
export const JOB_TEST_ENV = {
  WORKER_IN_PROCESS: 'true',
  JOB_BACKOFF_MS: '20',
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_TIMEOUT_MS: '2000',
  WEBHOOK_SIGNING_SECRET: 'jobs-e2e-signing-secret-0123456789abcdef',
};

/** POST /v1/jobs as a client would; returns the response for the test to assert. */
export function postJob(
  t: TestApp,
  token: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return request(t.http).post('/v1/jobs').set(bearer(token)).set(headers).send(body);
}

/** Creates a job and returns its id; throws unless the API accepted it. */
export async function createJob(
  t: TestApp,
  token: string,
  body: Record<string, unknown>,
): Promise<string> {
  const res = await postJob(t, token, body);
  if (res.status !== 202)
    throw new Error(`job not accepted: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { id: string }).id;
}

/** Polls GET /v1/jobs/:id until the job is in one of `statuses`; fails after `timeoutMs`. */
export async function waitForJob(
  t: TestApp,
  token: string,
  id: string,
  statuses: string[] = ['completed', 'failed', 'cancelled'],
  timeoutMs = 15_000,
): Promise<JobResponse> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const res = await request(t.http).get(`/v1/jobs/${id}`).set(bearer(token));
    last = res.body;
    if (res.status === 200 && statuses.includes((res.body as JobResponse).status)) {
      return res.body as JobResponse;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(
    `job ${id} not ${statuses.join('|')} within ${timeoutMs} ms: ${JSON.stringify(last)}`,
  );
}
