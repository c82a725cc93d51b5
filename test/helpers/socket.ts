import type { AddressInfo } from 'node:net';
import { io, Socket } from 'socket.io-client';
import { TestApp } from './test-app';

/** A connect_error as socket.io-client reports it (`data` is the server's error data). */
export type ConnectError = Error & { data?: { code?: string } };

const WAIT_MS = 5000;

/** Makes the test app listen on a free local port (sockets need a real server); its base URL. */
export async function listen(t: TestApp): Promise<string> {
  await t.app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(t.http.address() as AddressInfo).port}`;
}

/**
 * socket.io-client sockets of one suite, closed together after each test. WebSocket transport
 * only and no automatic reconnection, so a disconnect is an observable outcome.
 */
export class SocketClients {
  private readonly open = new Set<Socket>();

  constructor(private readonly baseUrl: string) {}

  /** A socket, not yet connected (its connect or connect_error is the test's to observe). */
  socket(
    auth: Record<string, unknown> | undefined,
    namespace = '/realtime',
    transport: 'websocket' | 'polling' = 'websocket',
  ): Socket {
    const socket = io(`${this.baseUrl}${namespace}`, {
      auth,
      transports: [transport],
      reconnection: false,
      forceNew: true,
      timeout: WAIT_MS,
    });
    this.open.add(socket);
    return socket;
  }

  /** A connected socket for this access token. */
  async connect(token: string, transport?: 'websocket' | 'polling'): Promise<Socket> {
    const socket = this.socket({ token }, '/realtime', transport);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  }

  /** The connect_error of a handshake that must be refused. */
  async refusal(
    auth: Record<string, unknown> | undefined,
    namespace = '/realtime',
  ): Promise<ConnectError> {
    const socket = this.socket(auth, namespace);
    return new Promise((resolve, reject) => {
      socket.once('connect_error', resolve);
      socket.once('connect', () => reject(new Error(`${namespace} accepted the handshake`)));
    });
  }

  closeAll(): void {
    for (const socket of this.open) socket.disconnect();
    this.open.clear();
  }
}

/** Emits and resolves with the server's ack (rejects if none comes within the wait). */
export function ack<T = Record<string, unknown>>(
  socket: Socket,
  event: string,
  ...args: unknown[]
): Promise<T> {
  return socket.timeout(WAIT_MS).emitWithAck(event, ...args) as Promise<T>;
}

/** The payload of the next `event` on the socket (listen before causing it). */
export function nextEvent<T = Record<string, unknown>>(
  socket: Socket,
  event: string,
  timeoutMs = WAIT_MS,
): Promise<T> {
  return nextEventWhere<T>(socket, event, () => true, timeoutMs);
}

/** The payload of the next `event` that `matches` (listen before causing it). */
export function nextEventWhere<T = Record<string, unknown>>(
  socket: Socket,
  event: string,
  matches: (payload: T) => boolean,
  timeoutMs = WAIT_MS,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener);
      reject(new Error(`no matching "${event}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (payload: T) => {
      if (!matches(payload)) return;
      clearTimeout(timer);
      socket.off(event, listener);
      resolve(payload);
    };
    socket.on(event, listener);
  });
}

/** Every `event` the socket receives from now on, in order. */
export function record<T = Record<string, unknown>>(socket: Socket, event: string): T[] {
  const received: T[] = [];
  socket.on(event, (payload: T) => received.push(payload));
  return received;
}

/** Resolves as `promise` does, or rejects once `timeoutMs` have passed without it settling. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The reason of the socket's next disconnect (listen before causing it). */
export function disconnection(socket: Socket, timeoutMs = WAIT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`still connected after ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}
