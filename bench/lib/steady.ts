import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface SteadyTarget {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface SteadyResult {
  /** Seconds from the first request sent to the last response. */
  durationS: number;
  statusCodes: Record<string, number>;
  errors: number;
  /** Of 2xx responses, from the moment each request was handed to the HTTP client. */
  latenciesMs: number[];
}

/**
 * An open-loop load: requests leave at a constant rate whatever the server does, over at most
 * `connections` keep-alive connections. (autocannon's overallRate sends each second's share of
 * every connection at the start of the second: a burst, then silence.) Latency counts from the
 * moment a request is handed to the client, so one waiting for a free connection (a server
 * falling behind) shows that wait in the figures.
 */
export async function steady(
  target: SteadyTarget,
  ratePerSec: number,
  connections: number,
  durationS: number,
): Promise<SteadyResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const url = new URL(target.url);
  const total = Math.round(ratePerSec * durationS);
  const statusCodes: Record<string, number> = {};
  const latenciesMs: number[] = [];
  let errors = 0;
  let sent = 0;
  let settled = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const done = () => {
      settled++;
      if (settled === total) resolve();
    };
    const send = () => {
      const sentAt = performance.now();
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          method: target.method ?? 'GET',
          headers: target.headers,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            statusCodes[status] = (statusCodes[status] ?? 0) + 1;
            if (status >= 200 && status < 300) latenciesMs.push(performance.now() - sentAt);
            done();
          });
        },
      );
      req.on('error', () => {
        errors++;
        done();
      });
      req.end(target.body);
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * ratePerSec));
      for (; sent < due; sent++) send();
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();
  return { durationS: (performance.now() - start) / 1000, statusCodes, errors, latenciesMs };
}
