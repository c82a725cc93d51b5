import { Logger, OnModuleDestroy, UseFilters, UseGuards } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import { Counter, Gauge } from 'prom-client';
import type { ExtendedError } from 'socket.io';
import { Public } from '../auth/public.decorator';
import { Revocation, RevocationNotices } from '../auth/tokens/revocation-notices';
import { AppError, Forbidden, ValidationFailed } from '../common/errors/domain-errors';
import { LongLivedConnections } from '../common/lifecycle/long-lived-connections';
import { MetricsService } from '../common/metrics/metrics.service';
import { NoRateLimit } from '../common/rate-limit/rate-limit.decorators';
import { JobEvent, JobEvents } from '../jobs/job-events';
import { BroadcastAccepted } from './dto/broadcast-accepted.dto';
import { BroadcastDto } from './dto/broadcast.dto';
import { RoomDto } from './dto/room.dto';
import { SendMessageDto } from './dto/send-message.dto';
import {
  Ack,
  ChatMessage,
  RealtimeNamespace,
  RealtimeSocket,
  SessionEndReason,
} from './realtime-events';
import { familyRoom, PUBLIC_ROOM, roleRoom, tokenRoom, userRoom } from './rooms';
import { SocketAuthenticator } from './socket-authenticator';
import { SocketRateLimitGuard } from './socket-rate-limit.guard';
import { WsAckFilter } from './ws-ack.filter';

const CLIENT_EVENTS = new Set(['room:join', 'room:leave', 'message']);
/** setTimeout fires at once beyond 2^31 - 1 ms (24.8 days): longer token lifetimes re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The `/realtime` namespace on the API's port. A socket authenticates in the handshake (the
 * access token in `auth.token`) and joins `user:<id>` and `role:<role>`; it may join `public:*`
 * rooms and send messages to them. Every event is acked (errors by WsAckFilter).
 *
 * Its session ends when its token expires (a timer to `exp`) or is revoked. Revocations are
 * pushed, not polled: TokensService notifies this process as soon as it has stored one, and the
 * gateway disconnects the token's (or user's) room through the Socket.IO adapter, which with
 * REDIS_URL publishes it to every API instance. Immediate where a recheck every N seconds would
 * leave a logged-out socket listening for up to N seconds, and it costs nothing per socket; a
 * notice lost to a Redis outage still ends at the token's expiry.
 */
// The HTTP guards (bearer authentication, per-principal limits) do not apply to socket events:
// the socket authenticated at its handshake, and SocketRateLimitGuard limits it.
@Public()
@NoRateLimit()
@UseGuards(SocketRateLimitGuard)
@UseFilters(WsAckFilter)
@WebSocketGateway({ namespace: '/realtime' })
export class RealtimeGateway
  implements
    OnGatewayInit<RealtimeNamespace>,
    OnGatewayConnection<RealtimeSocket>,
    OnGatewayDisconnect<RealtimeSocket>,
    OnModuleDestroy,
    LongLivedConnections
{
  @WebSocketServer() private readonly server!: RealtimeNamespace;
  private readonly logger = new Logger('Realtime');
  /** Connected sockets' expiry timers, by socket id. */
  private readonly expiries = new Map<string, NodeJS.Timeout>();
  private readonly unsubscribes: (() => void)[] = [];
  private readonly connections: Gauge;
  private readonly messages: Counter<'event'>;
  private closing = false;

  constructor(
    private readonly authenticator: SocketAuthenticator,
    private readonly jobEvents: JobEvents,
    private readonly revocations: RevocationNotices,
    metrics: MetricsService,
  ) {
    this.connections = metrics.gauge({
      name: 'websocket_connections',
      help: 'Authenticated Socket.IO connections to this instance.',
    });
    this.messages = metrics.counter({
      name: 'websocket_messages_total',
      help: 'Socket.IO events received from clients, by event.',
      labelNames: ['event'],
    });
  }

  afterInit(namespace: RealtimeNamespace): void {
    // Only /realtime exists: the main namespace would take sockets without authentication.
    namespace.server.of('/').use((_socket, next) => next(new Error('Invalid namespace')));
    namespace.use((socket, next) => {
      this.authenticate(socket).then(
        () => next(),
        (error: unknown) => next(connectError(error, this.logger)),
      );
    });
    this.unsubscribes.push(
      this.jobEvents.subscribe((event) => this.deliverJobEvent(event)),
      this.revocations.subscribe((revocation) => this.endRevoked(revocation)),
    );
  }

  /** Never throws: Nest calls it outside any exception filter. */
  async handleConnection(socket: RealtimeSocket): Promise<void> {
    const { user, tokenId, tokenFamilyId } = socket.data;
    socket.onAny((event: string) =>
      this.messages.inc({ event: CLIENT_EVENTS.has(event) ? event : 'other' }),
    );
    try {
      const rooms = [userRoom(user.id), roleRoom(user.role), tokenRoom(tokenId)];
      if (tokenFamilyId) rooms.push(familyRoom(tokenFamilyId));
      await socket.join(rooms);
      // A revocation stored between the handshake's check and these joins found no room to end.
      await this.authenticator.verify(socket.handshake.auth);
    } catch (error) {
      if (error instanceof AppError && error.status === 401) {
        this.endSession(socket, error.code === 'TOKEN_EXPIRED' ? 'expired' : 'revoked');
      } else {
        // Fail closed, as the handshake does: the token's revocation is unknown.
        this.logger.warn({ err: error, userId: user.id }, 'socket session not confirmed');
        socket.disconnect(true);
      }
      return;
    }
    if (!socket.connected) return;
    this.scheduleExpiry(socket);
    this.connections.set(this.expiries.size);
  }

  handleDisconnect(socket: RealtimeSocket): void {
    clearTimeout(this.expiries.get(socket.id));
    this.expiries.delete(socket.id);
    this.connections.set(this.expiries.size);
  }

  onModuleDestroy(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  @SubscribeMessage('room:join')
  async join(
    @ConnectedSocket() socket: RealtimeSocket,
    @MessageBody() { room }: RoomDto,
  ): Promise<Ack> {
    assertPublicRoom(room);
    await socket.join(room);
    return { ok: true };
  }

  @SubscribeMessage('room:leave')
  async leave(
    @ConnectedSocket() socket: RealtimeSocket,
    @MessageBody() { room }: RoomDto,
  ): Promise<Ack> {
    assertPublicRoom(room);
    await socket.leave(room);
    return { ok: true };
  }

  @SubscribeMessage('message')
  send(@ConnectedSocket() socket: RealtimeSocket, @MessageBody() body: SendMessageDto): Ack {
    assertPublicRoom(body.room);
    if (!socket.rooms.has(body.room)) throw new Forbidden('Join the room before sending to it.');
    const { id, name, role } = socket.data.user;
    // Guests are read-only here as over HTTP: they may join public rooms and read, not write.
    if (role === 'guest') throw new Forbidden('Guests can read rooms but not send to them.');
    const message: ChatMessage = {
      id: randomUUID(),
      room: body.room,
      from: { id, name },
      text: body.text,
      at: new Date().toISOString(),
    };
    this.server.to(body.room).emit('message', message);
    return { ok: true, id: message.id };
  }

  /** `broadcast {message, at}` to every socket of the namespace on every instance, or to one room. */
  broadcast({ message, room }: BroadcastDto): BroadcastAccepted {
    const at = new Date().toISOString();
    (room === undefined ? this.server : this.server.to(room)).emit('broadcast', { message, at });
    return { at };
  }

  /** Graceful shutdown: `server.shutdown`, then the transport closes and clients reconnect elsewhere. */
  closeAll(): Promise<void> {
    this.closing = true;
    if (!this.server) return Promise.resolve();
    this.server.local.emit('server.shutdown', { at: new Date().toISOString() });
    // Not socket.disconnect(), which tells the client to stay away: a closed transport makes it
    // reconnect on its own, through the load balancer, to an instance that is not shutting down.
    // An orderly close sends what is buffered first; for a long-polling client it would wait
    // (up to 30 s) for a next poll that may never come, so its transport is cut at once.
    for (const socket of this.server.sockets.values()) {
      socket.conn.close(socket.conn.transport.name === 'polling');
    }
    return Promise.resolve();
  }

  private async authenticate(socket: RealtimeSocket): Promise<void> {
    if (this.closing) throw new AppError(503, 'SHUTTING_DOWN', 'This instance is shutting down.');
    socket.data = await this.authenticator.authenticate(socket.handshake.auth);
  }

  /**
   * Every API process receives every job event (Redis pub/sub): each delivers it to its own
   * sockets only, or through the Redis adapter the owner would get one copy per instance.
   */
  private deliverJobEvent(event: JobEvent): void {
    if (event.ownerId === null) return;
    const owner = this.server.local.to(userRoom(event.ownerId));
    // One case per name, so each payload is checked against its event's type.
    switch (event.name) {
      case 'job.progress':
        return void owner.emit(event.name, event.data);
      case 'job.completed':
        return void owner.emit(event.name, event.data);
      case 'job.failed':
        return void owner.emit(event.name, event.data);
    }
  }

  /** Through the adapter, so the sockets of every instance in the token's (or user's) room end. */
  private endRevoked(revocation: Revocation): void {
    const room =
      'tokenId' in revocation
        ? tokenRoom(revocation.tokenId)
        : 'familyId' in revocation
          ? familyRoom(revocation.familyId)
          : userRoom(revocation.userId);
    this.server.to(room).emit('session.ended', { reason: 'revoked' });
    this.server.in(room).disconnectSockets(true);
  }

  private scheduleExpiry(socket: RealtimeSocket): void {
    const remaining = socket.data.tokenExpiresAt * 1000 - Date.now();
    if (remaining <= 0) {
      this.endSession(socket, 'expired');
      return;
    }
    const timer = setTimeout(() => this.scheduleExpiry(socket), Math.min(remaining, MAX_TIMER_MS));
    this.expiries.set(socket.id, timer.unref());
  }

  private endSession(socket: RealtimeSocket, reason: SessionEndReason): void {
    socket.emit('session.ended', { reason });
    socket.disconnect(true);
  }
}

/** Only `public:*` rooms: a user's, a role's or a token's room is the server's to manage. */
function assertPublicRoom(room: string): void {
  if (!room.startsWith('public:')) throw new Forbidden('Only public:* rooms are open to clients.');
  if (!PUBLIC_ROOM.test(room)) {
    throw new ValidationFailed([
      {
        field: 'room',
        message: 'room must be public: and 1 to 64 letters, digits, dots, underscores or hyphens',
      },
    ]);
  }
}

/**
 * The handshake's refusal, as the client's connect_error: `unauthorized` for any credential
 * problem (data.code says which), `unavailable` when it could not be checked (retry later).
 */
function connectError(error: unknown, logger: Logger): ExtendedError {
  if (error instanceof AppError && error.status === 401) {
    return Object.assign(new Error('unauthorized'), { data: { code: error.code } });
  }
  if (!(error instanceof AppError)) logger.error({ err: error }, 'socket handshake failed');
  return new Error('unavailable');
}
