/**
 * autocannon 9's programmatic API, the part the harness uses. The package ships no typings, and
 * an ambient `declare module 'autocannon'` here would merge with the fault tests' own one in the
 * typecheck program; a typed require keeps the two independent.
 */
export interface AutocannonClient {
  setHeaders(headers: Record<string, string>): void;
  setBody(body: string | Buffer): void;
}

export interface AutocannonOptions {
  url: string;
  connections?: number;
  /** Seconds. */
  duration?: number;
  /** Seconds without a response before a request counts as timed out. */
  timeout?: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  setupClient?: (client: AutocannonClient) => void;
}

interface Histogram {
  average: number;
  stddev: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p97_5: number;
  p99: number;
}

export interface AutocannonResult {
  /** Seconds. */
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
  /** Milliseconds (whole), 2xx responses only. */
  latency: Histogram;
  /** Responses per second, sampled every second. */
  requests: Histogram & { sent: number; total: number };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- untyped CommonJS package
export const autocannon = require('autocannon') as (
  options: AutocannonOptions,
) => PromiseLike<AutocannonResult>;
