import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { JobEvent, JobEvents } from '../src/jobs/job-events';
import {
  accessClaims,
  bearer,
  createUser,
  DEFAULT_PASSWORD,
  forgeJwt,
  Session,
} from './helpers/identity';
import { invalidFields, problem, problemOf } from './helpers/problem';
import { ack, disconnection, listen, nextEvent, record, SocketClients } from './helpers/socket';
import { startTestApp, TestApp } from './helpers/test-app';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A public room of its own for each test. */
function newRoom(): string {
  return `public:room-${randomUUID().slice(0, 8)}`;
}

function jobCompleted(ownerId: string | null, id: string = randomUUID()): JobEvent {
  return {
    name: 'job.completed',
    ownerId,
    data: { id, type: 'data.process', result: { count: 3, sum: 6 } },
  };
}

async function joined(socket: Socket, room: string): Promise<void> {
  expect(await ack(socket, 'room:join', { room })).toEqual({ ok: true });
}

function postBroadcast(t: TestApp, session: Session | undefined, body: object) {
  const req = request(t.http).post('/v1/realtime/broadcast');
  return (session ? req.set(bearer(session.accessToken)) : req).send(body);
}

describe('Realtime: the /realtime Socket.IO namespace', () => {
  let t: TestApp;
  let baseUrl: string;
  let clients: SocketClients;
  let admin: Session;

  beforeAll(async () => {
    t = await startTestApp();
    baseUrl = await listen(t);
    clients = new SocketClients(baseUrl);
    admin = await createUser(t, 'admin', 'Admin');
  });
  afterEach(() => clients.closeAll());
  afterAll(() => t.close());

  describe('handshake', () => {
    it('accepts an access token in auth.token and puts the socket in user:<id> and role:<role>', async () => {
      const alice = await createUser(t, 'user', 'Alice');
      const socket = await clients.connect(alice.accessToken);
      expect(socket.connected).toBe(true);

      const job = nextEvent(socket, 'job.completed');
      await t.app.get(JobEvents).publish(jobCompleted(alice.user.id));
      expect(await job).toMatchObject({ type: 'data.process' });

      const broadcast = nextEvent(socket, 'broadcast');
      const sent = await postBroadcast(t, admin, { message: 'users only', room: 'role:user' });
      expect(sent.status).toBe(202);
      expect(await broadcast).toEqual({ message: 'users only', at: sent.body.at });
    });

    it.each([
      ['no auth at all', undefined],
      ['no token', {}],
      ['an empty token', { token: '' }],
      ['a token that is not a string', { token: 42 }],
      ['a token that is not a JWT', { token: 'not-a-jwt' }],
    ])('refuses %s with connect_error "unauthorized"', async (_case, auth) => {
      const refusal = await clients.refusal(auth);
      expect(refusal.message).toBe('unauthorized');
    });

    it('refuses an expired token as unauthorized (data.code TOKEN_EXPIRED)', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = forgeJwt(
        { ...accessClaims(t, admin.user), iat: now - 120, exp: now - 60 },
        { secret: t.config.jwt.secret },
      );
      const refusal = await clients.refusal({ token });
      expect([refusal.message, refusal.data?.code]).toEqual(['unauthorized', 'TOKEN_EXPIRED']);
    });

    it.each([
      ['signed with another secret', { secret: 'another-secret-another-secret-0123' }],
      ['with alg none', { secret: '', algorithm: 'none' as const }],
      ['signed with HS512 instead of HS256', { algorithm: 'HS512' as const }],
    ])('refuses a token %s', async (_case, options) => {
      const token = forgeJwt(accessClaims(t, admin.user), {
        secret: t.config.jwt.secret,
        ...options,
      });
      const refusal = await clients.refusal({ token });
      expect([refusal.message, refusal.data?.code]).toEqual(['unauthorized', 'INVALID_TOKEN']);
    });

    it('refuses a token without exp, as HTTP does', async () => {
      const claims = accessClaims(t, admin.user);
      delete claims.exp;
      const token = forgeJwt(claims, { secret: t.config.jwt.secret });
      expect((await clients.refusal({ token })).message).toBe('unauthorized');
    });

    it('refuses a token revoked by logout', async () => {
      const bob = await createUser(t, 'user', 'Bob');
      const out = await request(t.http)
        .post('/v1/auth/logout')
        .set(bearer(bob.accessToken))
        .send({ refreshToken: bob.refreshToken });
      expect(out.status).toBe(204);
      const refusal = await clients.refusal({ token: bob.accessToken });
      expect([refusal.message, refusal.data?.code]).toEqual(['unauthorized', 'INVALID_TOKEN']);
    });

    it('refuses the token of an inactive or deleted user, even one not revoked', async () => {
      const inactive = await createUser(t, 'user');
      const deleted = await createUser(t, 'user');
      const db = t.app.get(DataSource);
      // Past the API, which would also revoke the tokens: the user lookup alone must refuse.
      await db.query('UPDATE users SET is_active = false WHERE id = $1', [inactive.user.id]);
      await db.query('DELETE FROM users WHERE id = $1', [deleted.user.id]);
      for (const session of [inactive, deleted]) {
        const refusal = await clients.refusal({ token: session.accessToken });
        expect([refusal.message, refusal.data?.code]).toEqual(['unauthorized', 'INVALID_TOKEN']);
      }
    });

    it.each(['/', '/admin', '/realtime/other'])(
      'has no other namespace: %s is refused even with a valid token',
      async (namespace) => {
        const refusal = await clients.refusal({ token: admin.accessToken }, namespace);
        expect(refusal.message).toBe('Invalid namespace');
      },
    );
  });

  describe('end of the session', () => {
    it('logout disconnects the sockets of that access token, not those of another login', async () => {
      const first = await createUser(t, 'user', 'Twice');
      const second = await request(t.http)
        .post('/v1/auth/login')
        .send({ email: first.email, password: DEFAULT_PASSWORD });
      const loggedOut = await clients.connect(first.accessToken);
      const other = await clients.connect(second.body.accessToken as string);
      const ended = nextEvent(loggedOut, 'session.ended');
      const gone = disconnection(loggedOut);
      const otherEnded = record(other, 'session.ended');

      const out = await request(t.http)
        .post('/v1/auth/logout')
        .set(bearer(first.accessToken))
        .send({ refreshToken: first.refreshToken });

      expect(out.status).toBe(204);
      expect(await ended).toEqual({ reason: 'revoked' });
      expect(await gone).toBe('io server disconnect');
      const room = newRoom();
      await joined(other, room);
      expect(other.connected).toBe(true);
      expect(otherEnded).toEqual([]);
    });

    it('logout disconnects the sockets of every access token of that login, earlier ones too', async () => {
      const erin = await createUser(t, 'user', 'Erin');
      const rotated = await request(t.http)
        .post('/v1/auth/refresh')
        .send({ refreshToken: erin.refreshToken });
      expect(rotated.status).toBe(200);
      const sockets = [
        await clients.connect(erin.accessToken),
        await clients.connect(rotated.body.accessToken as string),
      ];
      const ended = sockets.map((socket) => nextEvent(socket, 'session.ended'));
      const gone = sockets.map((socket) => disconnection(socket));

      const out = await request(t.http)
        .post('/v1/auth/logout')
        .set(bearer(rotated.body.accessToken as string))
        .send({ refreshToken: rotated.body.refreshToken as string });

      expect(out.status).toBe(204);
      expect(await Promise.all(ended)).toEqual([{ reason: 'revoked' }, { reason: 'revoked' }]);
      expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
      const refusal = await clients.refusal({ token: erin.accessToken });
      expect([refusal.message, refusal.data?.code]).toEqual(['unauthorized', 'INVALID_TOKEN']);
    });

    it("a replayed refresh token disconnects the sockets of its family's tokens, not another login's", async () => {
      const victim = await createUser(t, 'user', 'Replayed');
      const second = await request(t.http)
        .post('/v1/auth/login')
        .send({ email: victim.email, password: DEFAULT_PASSWORD });
      const stolen = await request(t.http)
        .post('/v1/auth/refresh')
        .send({ refreshToken: victim.refreshToken });
      expect(stolen.status).toBe(200);
      const sockets = [
        await clients.connect(victim.accessToken),
        await clients.connect(stolen.body.accessToken as string),
      ];
      const other = await clients.connect(second.body.accessToken as string);
      const ended = sockets.map((socket) => nextEvent(socket, 'session.ended'));
      const otherEnded = record(other, 'session.ended');

      const replay = await request(t.http)
        .post('/v1/auth/refresh')
        .send({ refreshToken: victim.refreshToken });

      expect(problemOf(replay)).toEqual(problem(401, 'TOKEN_REUSED'));
      expect(await Promise.all(ended)).toEqual([{ reason: 'revoked' }, { reason: 'revoked' }]);
      await joined(other, newRoom());
      expect(other.connected).toBe(true);
      expect(otherEnded).toEqual([]);
    });

    it('a password change disconnects every socket of the user', async () => {
      const carol = await createUser(t, 'user', 'Carol');
      const sockets = [
        await clients.connect(carol.accessToken),
        await clients.connect(carol.accessToken),
      ];
      const gone = sockets.map((socket) => disconnection(socket));

      const changed = await request(t.http)
        .post('/v1/auth/password')
        .set(bearer(carol.accessToken))
        .send({ currentPassword: DEFAULT_PASSWORD, newPassword: 'another long password' });

      expect(changed.status).toBe(204);
      expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
    });

    it("an admin's deactivation disconnects the user's sockets", async () => {
      const dave = await createUser(t, 'user', 'Dave');
      const socket = await clients.connect(dave.accessToken);
      const ended = nextEvent(socket, 'session.ended');
      const gone = disconnection(socket);

      const patched = await request(t.http)
        .patch(`/v1/users/${dave.user.id}`)
        .set(bearer(admin.accessToken))
        .send({ isActive: false });

      expect(patched.status).toBe(200);
      expect(await ended).toEqual({ reason: 'revoked' });
      expect(await gone).toBe('io server disconnect');
    });
  });

  describe('client events', () => {
    it('delivers a message to every socket in the room, the sender included, and acks its id', async () => {
      const [alice, bob, carol] = await Promise.all([
        createUser(t, 'user', 'Alice'),
        createUser(t, 'guest', 'Bob'),
        createUser(t, 'user', 'Carol'),
      ]);
      const [a, b, c] = await Promise.all(
        [alice, bob, carol].map((s) => clients.connect(s.accessToken)),
      );
      const room = newRoom();
      const elsewhere = newRoom();
      await joined(a, room);
      await joined(b, room);
      await joined(c, elsewhere);
      const carolGot = record(c, 'message');
      const toAlice = nextEvent(a, 'message');
      const toBob = nextEvent(b, 'message');

      const sent = await ack(a, 'message', { room, text: 'Hello, room' });

      expect(sent).toEqual({ ok: true, id: expect.stringMatching(UUID) });
      const expected = {
        id: sent.id,
        room,
        from: { id: alice.user.id, name: 'Alice' },
        text: 'Hello, room',
        at: expect.stringMatching(ISO_DATE),
      };
      expect(await toAlice).toEqual(expected);
      expect(await toBob).toEqual(expected);
      // Carol's next message proves the first one never came to her (one connection, in order).
      const later = nextEvent(c, 'message');
      await ack(c, 'message', { room: elsewhere, text: 'only here' });
      await later;
      expect(carolGot.map((m) => m.text)).toEqual(['only here']);
    });

    it('stops delivering to a socket that left the room', async () => {
      const [alice, bob] = await Promise.all([createUser(t, 'user'), createUser(t, 'user')]);
      const [a, b] = await Promise.all([alice, bob].map((s) => clients.connect(s.accessToken)));
      const room = newRoom();
      const other = newRoom();
      await joined(a, room);
      await joined(b, room);
      await joined(b, other);
      await joined(a, other);
      expect(await ack(b, 'room:leave', { room })).toEqual({ ok: true });
      const bobGot = record(b, 'message');

      await ack(a, 'message', { room, text: 'after bob left' });
      const marker = nextEvent(b, 'message');
      await ack(a, 'message', { room: other, text: 'marker' });
      await marker;

      expect(bobGot.map((m) => m.text)).toEqual(['marker']);
      expect(await ack(b, 'room:leave', { room })).toEqual({ ok: true });
    });

    it('lets a guest join and read a public room but not send to it: guests are read-only', async () => {
      const [guest, user] = await Promise.all([createUser(t, 'guest'), createUser(t, 'user')]);
      const [g, u] = await Promise.all([guest, user].map((s) => clients.connect(s.accessToken)));
      const room = newRoom();
      await joined(g, room);
      await joined(u, room);
      const userGot = record(u, 'message');
      expect(await ack(g, 'message', { room, text: 'a guest writes' })).toEqual({
        ok: false,
        error: 'forbidden',
        message: expect.any(String),
      });
      const toGuest = nextEvent(g, 'message');
      await ack(u, 'message', { room, text: 'a user writes' });
      expect((await toGuest).text).toBe('a user writes');
      expect(userGot.map((m) => m.text)).toEqual(['a user writes']);
    });

    it('refuses a message to a room the socket has not joined as forbidden', async () => {
      const socket = await clients.connect(admin.accessToken);
      expect(await ack(socket, 'message', { room: newRoom(), text: 'hi' })).toEqual({
        ok: false,
        error: 'forbidden',
        message: expect.any(String),
      });
    });

    it.each([
      ["another user's room", () => `user:${randomUUID()}`],
      ['its own user room', (me: Session) => `user:${me.user.id}`],
      ['a role room', () => 'role:admin'],
      ['a token room', () => `token:${randomUUID()}`],
      ['a private room', () => 'private:secrets'],
      ['a room without a prefix', () => 'lobby'],
    ])('refuses to join, leave or send to %s as forbidden', async (_case, roomOf) => {
      const me = await createUser(t, 'user');
      const socket = await clients.connect(me.accessToken);
      const room = roomOf(me);
      const forbidden = { ok: false, error: 'forbidden', message: expect.any(String) };
      expect(await ack(socket, 'room:join', { room })).toEqual(forbidden);
      expect(await ack(socket, 'room:leave', { room })).toEqual(forbidden);
      expect(await ack(socket, 'message', { room, text: 'hi' })).toEqual(forbidden);
    });

    it("did not join the other user's room it was refused", async () => {
      const [mallory, victim] = await Promise.all([createUser(t, 'user'), createUser(t, 'user')]);
      const socket = await clients.connect(mallory.accessToken);
      await ack(socket, 'room:join', { room: `user:${victim.user.id}` });
      const jobs = record(socket, 'job.completed');

      await t.app.get(JobEvents).publish(jobCompleted(victim.user.id));
      const own = nextEvent(socket, 'job.completed');
      await t.app.get(JobEvents).publish(jobCompleted(mallory.user.id, 'mine'));
      await own;

      expect(jobs.map((job) => job.id)).toEqual(['mine']);
    });

    describe('bad input', () => {
      let bystanders: SocketClients;
      let bystander: Socket;
      let bystanderRoom: string;
      let sender: Session;

      beforeAll(async () => {
        const watcher = await createUser(t, 'user', 'Bystander');
        sender = await createUser(t, 'user', 'Sender');
        bystanders = new SocketClients(baseUrl);
        bystander = await bystanders.connect(watcher.accessToken);
        bystanderRoom = newRoom();
        await joined(bystander, bystanderRoom);
      });
      afterAll(() => bystanders.closeAll());

      // After every bad input, the server still serves: a socket connected before it receives a
      // message from a new client (a failure here fails the test that just ran).
      afterEach(async () => {
        if (!bystander.connected) throw new Error('the bystander was disconnected');
        const socket = await clients.connect(sender.accessToken);
        await ack(socket, 'room:join', { room: bystanderRoom });
        const received = nextEvent(bystander, 'message');
        const sent = await ack(socket, 'message', { room: bystanderRoom, text: 'still here' });
        if (sent.ok !== true) throw new Error(`message refused: ${JSON.stringify(sent)}`);
        await received;
      });

      const invalid = { ok: false, error: 'invalid', message: expect.any(String) };

      it.each([
        ['a string', ['hello']],
        ['a number', [42]],
        ['null', [null]],
        ['an array', [[{ room: 'public:x', text: 'hi' }]]],
        ['nothing', []],
        ['two arguments', [{ room: 'public:x', text: 'hi' }, 'extra']],
      ])('acks invalid when the payload is %s', async (_case, args) => {
        const socket = await clients.connect(sender.accessToken);
        for (const event of ['room:join', 'room:leave', 'message']) {
          expect(await ack(socket, event, ...args)).toEqual({
            ...invalid,
            errors: expect.any(Array),
          });
        }
      });

      it.each([
        ['missing text', { room: 'public:x' }, ['text']],
        ['missing room', { text: 'hi' }, ['room']],
        ['an empty text', { room: 'public:x', text: '' }, ['text']],
        ['a blank text', { room: 'public:x', text: ' \n\t ' }, ['text']],
        ['a text of 2001 characters', { room: 'public:x', text: 'x'.repeat(2001) }, ['text']],
        ['a text that is not a string', { room: 'public:x', text: { $gt: '' } }, ['text']],
        ['an extra field', { room: 'public:x', text: 'hi', from: 'admin' }, ['from']],
        ['a room name too long', { room: `public:${'r'.repeat(65)}`, text: 'hi' }, ['room']],
        ['a room name with spaces', { room: 'public:a b', text: 'hi' }, ['room']],
      ])('acks invalid for a message with %s, naming the field', async (_case, payload, fields) => {
        const socket = await clients.connect(sender.accessToken);
        const reply = await ack<{ errors?: { field: string }[] }>(socket, 'message', payload);
        expect(reply).toEqual({ ...invalid, errors: expect.any(Array) });
        expect([...new Set(reply.errors?.map((e) => e.field))]).toEqual(fields);
      });

      it('accepts a text of exactly 2000 characters', async () => {
        const socket = await clients.connect(sender.accessToken);
        const room = newRoom();
        await joined(socket, room);
        const text = 'é'.repeat(2000);
        const received = nextEvent(socket, 'message');
        expect(await ack(socket, 'message', { room, text })).toMatchObject({ ok: true });
        expect(await received).toMatchObject({ text });
      });

      it('acks invalid for a room:join with an extra field', async () => {
        const socket = await clients.connect(sender.accessToken);
        expect(await ack(socket, 'room:join', { room: 'public:x', admin: true })).toEqual({
          ...invalid,
          errors: [{ field: 'admin', message: 'admin is not allowed' }],
        });
      });

      it('ignores unknown events and events without an ack callback', async () => {
        const socket = await clients.connect(sender.accessToken);
        socket.emit('nope', { room: 'public:x' });
        socket.emit('constructor', {});
        socket.emit('__proto__', {});
        socket.emit('message', { room: 'public:x', text: 'no ack' });
        socket.emit('message', 'not an object');
        const room = newRoom();
        await joined(socket, room);
        expect(socket.connected).toBe(true);
      });

      it('closes the connection of a client sending an oversized packet, and only that one', async () => {
        const socket = await clients.connect(sender.accessToken);
        const gone = disconnection(socket);
        socket.emit('message', { room: 'public:x', text: 'x'.repeat(200 * 1024) });
        expect(await gone).toBe('transport close');
      });

      it('refuses more than 20 events in 10 s from one socket with rate_limited, and no other socket', async () => {
        const socket = await clients.connect(sender.accessToken);
        const room = newRoom();
        await joined(socket, room);
        const replies = await Promise.all(
          Array.from({ length: 25 }, (_, i) => ack(socket, 'message', { room, text: `#${i}` })),
        );
        const outcomes = replies.map((reply) => (reply.ok ? 'ok' : reply.error));
        // The join was the first of the 20 events.
        expect(outcomes.filter((o) => o === 'ok')).toHaveLength(19);
        expect(outcomes.filter((o) => o === 'rate_limited')).toHaveLength(6);
        expect(replies.find((reply) => !reply.ok)).toEqual({
          ok: false,
          error: 'rate_limited',
          message: expect.any(String),
        });
        // Invalid events count too, and are refused as rate limited first.
        expect(await ack(socket, 'message', 'not an object')).toMatchObject({
          error: 'rate_limited',
        });
      });
    });
  });

  describe('job events', () => {
    it.each([
      ['job.progress', { progress: 40 }],
      ['job.completed', { result: { count: 3, sum: 6, mean: 2, min: 1, max: 3 } }],
      ['job.failed', { error: 'boom', attempts: 3 }],
    ] as const)(
      'delivers %s to every socket of the owner, and to no one else',
      async (name, fields) => {
        const [owner, other] = await Promise.all([createUser(t, 'user'), createUser(t, 'user')]);
        const ownerSockets = [
          await clients.connect(owner.accessToken),
          await clients.connect(owner.accessToken),
        ];
        const otherSocket = await clients.connect(other.accessToken);
        const otherGot = record(otherSocket, name);
        const adminSocket = await clients.connect(admin.accessToken);
        const adminGot = record(adminSocket, name);
        const data = { id: randomUUID(), type: 'data.process' as const, ...fields };
        const received = ownerSockets.map((socket) => nextEvent(socket, name));

        await t.app.get(JobEvents).publish({ name, ownerId: owner.user.id, data } as JobEvent);

        expect(await Promise.all(received)).toEqual([data, data]);
        // Their own event, published after, arrives first: the owner's never reached them.
        const marks = [nextEvent(otherSocket, name), nextEvent(adminSocket, name)];
        const mark = { ...data, id: 'marker' };
        await t.app
          .get(JobEvents)
          .publish({ name, ownerId: other.user.id, data: mark } as JobEvent);
        await t.app
          .get(JobEvents)
          .publish({ name, ownerId: admin.user.id, data: mark } as JobEvent);
        await Promise.all(marks);
        expect(otherGot).toEqual([mark]);
        expect(adminGot).toEqual([mark]);
      },
    );

    it('delivers the event of a job without an owner to no one', async () => {
      const socket = await clients.connect(admin.accessToken);
      const got = record(socket, 'job.completed');
      await t.app.get(JobEvents).publish(jobCompleted(null, 'ownerless'));
      const mark = nextEvent(socket, 'job.completed');
      await t.app.get(JobEvents).publish(jobCompleted(admin.user.id, 'marker'));
      await mark;
      expect(got.map((job) => job.id)).toEqual(['marker']);
    });
  });

  describe('POST /v1/realtime/broadcast', () => {
    it('answers 202 to an admin and every socket receives broadcast {message, at}', async () => {
      const [user, guest] = await Promise.all([createUser(t, 'user'), createUser(t, 'guest')]);
      const sockets = await Promise.all(
        [user, guest, admin].map((s) => clients.connect(s.accessToken)),
      );
      const received = sockets.map((socket) => nextEvent(socket, 'broadcast'));

      const res = await postBroadcast(t, admin, { message: 'Maintenance at 22:00 UTC' });

      expect(res.status).toBe(202);
      expect(res.body).toEqual({ at: expect.stringMatching(ISO_DATE) });
      const broadcast = { message: 'Maintenance at 22:00 UTC', at: res.body.at };
      expect(await Promise.all(received)).toEqual([broadcast, broadcast, broadcast]);
    });

    it('sends to one room only when room is given', async () => {
      const [member, outsider] = await Promise.all([createUser(t, 'user'), createUser(t, 'user')]);
      const [inside, outside] = await Promise.all(
        [member, outsider].map((s) => clients.connect(s.accessToken)),
      );
      const room = newRoom();
      await joined(inside, room);
      const outsideGot = record(outside, 'broadcast');
      const toMember = nextEvent(inside, 'broadcast');

      expect((await postBroadcast(t, admin, { message: 'members', room })).status).toBe(202);
      expect(await toMember).toMatchObject({ message: 'members' });

      const everyone = nextEvent(outside, 'broadcast');
      expect((await postBroadcast(t, admin, { message: 'everyone' })).status).toBe(202);
      await everyone;
      expect(outsideGot.map((b) => b.message)).toEqual(['everyone']);
    });

    it.each(['user', 'guest'] as const)('refuses a %s with 403 FORBIDDEN', async (role) => {
      const session = await createUser(t, role);
      expect(problemOf(await postBroadcast(t, session, { message: 'hi' }))).toEqual(
        problem(403, 'FORBIDDEN'),
      );
    });

    it('refuses an anonymous request with 401 UNAUTHORIZED', async () => {
      expect(problemOf(await postBroadcast(t, undefined, { message: 'hi' }))).toEqual(
        problem(401, 'UNAUTHORIZED'),
      );
    });

    it.each([
      ['no message', {}, ['message']],
      ['an empty message', { message: '' }, ['message']],
      ['a message of 2001 characters', { message: 'x'.repeat(2001) }, ['message']],
      ['an unknown field', { message: 'hi', urgent: true }, ['urgent']],
      ['a token room', { message: 'hi', room: `token:${randomUUID()}` }, ['room']],
      ['a room that is not a string', { message: 'hi', room: ['public:a'] }, ['room']],
    ])('refuses %s with 400 VALIDATION_FAILED', async (_case, body, fields) => {
      const res = await postBroadcast(t, admin, body);
      expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(res)).toEqual(fields);
    });
  });

  describe('metrics', () => {
    async function metric(pattern: string): Promise<number> {
      const { text } = await request(t.http).get('/metrics');
      const match = new RegExp(`^${pattern} (\\d+)$`, 'm').exec(text);
      return Number(match?.[1] ?? 0);
    }

    it('counts connections (websocket_connections) and client events (websocket_messages_total)', async () => {
      const before = await metric('websocket_connections');
      const sent = await metric('websocket_messages_total\\{event="room:join"\\}');
      const socket = await clients.connect(admin.accessToken);
      await joined(socket, newRoom());
      expect(await metric('websocket_connections')).toBe(before + 1);
      expect(await metric('websocket_messages_total\\{event="room:join"\\}')).toBe(sent + 1);
      const gone = disconnection(socket);
      socket.disconnect();
      await gone;
    });
  });
});

describe('Realtime: a socket whose access token expires', () => {
  let t: TestApp;
  let clients: SocketClients;

  beforeAll(async () => {
    t = await startTestApp({ env: { JWT_ACCESS_TTL: '2' } });
    clients = new SocketClients(await listen(t));
  });
  afterEach(() => clients.closeAll());
  afterAll(() => t.close());

  it('is told session.ended {reason: "expired"} and disconnected at the token\'s exp', async () => {
    const user = await createUser(t, 'user');
    const socket = await clients.connect(user.accessToken);
    const exp = (
      JSON.parse(Buffer.from(user.accessToken.split('.')[1], 'base64url').toString()) as {
        exp: number;
      }
    ).exp;
    const ended = nextEvent(socket, 'session.ended', 4000);
    const gone = disconnection(socket, 4000);

    expect(await ended).toEqual({ reason: 'expired' });
    expect(await gone).toBe('io server disconnect');
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    expect((await clients.refusal({ token: user.accessToken })).data?.code).toBe('TOKEN_EXPIRED');
  });
});
