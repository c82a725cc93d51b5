import { io, Socket } from 'socket.io-client';

/**
 * A socket of its own (no multiplexing over a shared connection), WebSocket transport only, no
 * reconnection: a drop is an observable failure, not a silent retry.
 */
export function connectSocket(baseUrl: string, token: string, timeoutMs = 10_000): Promise<Socket> {
  const socket = io(`${baseUrl}/realtime`, {
    auth: { token },
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: timeoutMs,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** `count` sockets, `batch` handshakes at a time; the ones that failed are counted, not thrown. */
export async function connectMany(
  baseUrl: string,
  token: string,
  count: number,
  batch = 100,
): Promise<{ sockets: Socket[]; failed: number; firstError?: string }> {
  const sockets: Socket[] = [];
  let failed = 0;
  let firstError: string | undefined;
  for (let start = 0; start < count; start += batch) {
    const results = await Promise.allSettled(
      Array.from({ length: Math.min(batch, count - start) }, () => connectSocket(baseUrl, token)),
    );
    for (const result of results) {
      if (result.status === 'fulfilled') sockets.push(result.value);
      else {
        failed++;
        firstError ??= String((result.reason as Error).message);
      }
    }
  }
  return { sockets, failed, firstError };
}
