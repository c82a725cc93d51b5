import type { Namespace, Socket } from 'socket.io';
import { FieldError } from '../common/errors/problem-details';
import { JobEventMap } from '../jobs/job-events';
import { Role } from '../users/role';

/** A chat message, as every socket in its room receives it. */
export interface ChatMessage {
  id: string;
  room: string;
  from: { id: string; name: string };
  text: string;
  /** ISO 8601 */
  at: string;
}

/** Why the server ended a socket's session: refresh the token (expired) or log in (revoked). */
export type SessionEndReason = 'expired' | 'revoked';

/** The error codes an ack carries. */
export type AckError =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

/** Every client event is acknowledged with one of these. */
export type Ack =
  | { ok: true; id?: string }
  | { ok: false; error: AckError; message?: string; errors?: FieldError[] };

/** Client → server events (SPEC 7); the last argument is the ack callback. */
export interface ClientToServerEvents {
  'room:join': (payload: { room: string }, ack: (ack: Ack) => void) => void;
  'room:leave': (payload: { room: string }, ack: (ack: Ack) => void) => void;
  message: (payload: { room: string; text: string }, ack: (ack: Ack) => void) => void;
}

/** Server → client events (SPEC 7 and 15). */
export interface ServerToClientEvents {
  message: (message: ChatMessage) => void;
  broadcast: (broadcast: { message: string; at: string }) => void;
  'job.progress': (data: JobEventMap['job.progress']) => void;
  'job.completed': (data: JobEventMap['job.completed']) => void;
  'job.failed': (data: JobEventMap['job.failed']) => void;
  /** The instance is shutting down; the connection closes next and the client reconnects. */
  'server.shutdown': (notice: { at: string }) => void;
  /** The access token expired or was revoked; the server disconnects next. */
  'session.ended': (notice: { reason: SessionEndReason }) => void;
}

/** A socket's session, set by the handshake's authentication. */
export interface SocketData {
  user: { id: string; name: string; role: Role };
  /** The access token's jti and expiry (seconds since the epoch), and its refresh token family. */
  tokenId: string;
  tokenExpiresAt: number;
  tokenFamilyId?: string;
}

export type RealtimeNamespace = Namespace<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

export type RealtimeSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
