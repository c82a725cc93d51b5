/** The part of autocannon 9's programmatic API the fault tests use (it ships no typings). */
declare module 'autocannon' {
  import { EventEmitter } from 'node:events';

  namespace autocannon {
    /** One of autocannon's connections; it reconnects by itself when its socket ends or fails. */
    interface Client extends EventEmitter {
      on(event: 'request' | 'timeout', listener: () => void): this;
      on(event: 'response', listener: (status: number, bytes: number, ms: number) => void): this;
      on(event: 'connError', listener: (error: NodeJS.ErrnoException) => void): this;
      on(
        event: 'headers',
        listener: (info: { statusCode: number; headers: string[] }) => void,
      ): this;
    }

    interface Options {
      url: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      /** Seconds without a response before a request counts as timed out. */
      timeout?: number;
      pipelining?: number;
      headers?: Record<string, string>;
      setupClient?: (client: Client) => void;
    }

    interface Result {
      errors: number;
      timeouts: number;
      non2xx: number;
      resets: number;
      mismatches: number;
      '2xx': number;
      requests: { sent: number; total: number; average: number };
      statusCodeStats: Record<string, { count: number }>;
      duration: number;
    }

    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  export = autocannon;
}
