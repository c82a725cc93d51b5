/**
 * Connections that outlive a request (Socket.IO): the HTTP server's close() waits for every
 * connection, so graceful shutdown asks their owner to end them once the server stops accepting.
 */
export abstract class LongLivedConnections {
  /** Tells every client this instance is going away, then closes its connection. */
  abstract closeAll(): Promise<void>;
}
