import { Agent, get, type IncomingHttpHeaders } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import request from 'supertest';
import { ProbeModule } from './helpers/probe.module';
import { describeWithSharedServices } from './helpers/shared-services';
import { invalidFields, problem, problemOf } from './helpers/problem';
import { startTestApp, TestApp } from './helpers/test-app';

/** Sends `raw` on a fresh connection and resolves with everything the server wrote until it closed. */
function rawExchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('HTTP platform', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ imports: [ProbeModule] });
  });
  afterAll(() => t.close());

  describe('errors', () => {
    it('answers an unknown route with a 404 problem carrying the echoed request id', async () => {
      const res = await request(t.http).get('/v1/nope').set('X-Request-Id', 'abc-123.X_y');
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['x-request-id']).toBe('abc-123.X_y');
      expect(res.body).toEqual({
        type: 'urn:keel:problem:not-found',
        title: 'Not Found',
        status: 404,
        detail: 'Cannot GET /v1/nope',
        instance: '/v1/nope',
        code: 'NOT_FOUND',
        requestId: 'abc-123.X_y',
      });
    });

    it('replaces an insane request id with a UUID', async () => {
      for (const bad of ['has space', 'a'.repeat(129), 'semi;colon', '<script>']) {
        const res = await request(t.http).get('/v1/features').set('X-Request-Id', bad);
        expect(res.headers['x-request-id']).toMatch(UUID);
      }
    });

    it('generates a request id when none is sent', async () => {
      const res = await request(t.http).get('/v1/nope');
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(res.body.requestId).toBe(res.headers['x-request-id']);
    });

    it('hides the cause of a 500 and keeps the request id', async () => {
      const res = await request(t.http).get('/v1/probe/boom');
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({
        status: 500,
        code: 'INTERNAL',
        requestId: res.headers['x-request-id'],
      });
      expect(JSON.stringify(res.body)).not.toMatch(/10\.0\.0\.5|SELECT|password|stack|at /);
    });

    it('rejects malformed JSON with 400 MALFORMED_JSON', async () => {
      const res = await request(t.http)
        .post('/v1/probe/echo')
        .set('Content-Type', 'application/json')
        .send('{"email": "a@b.co",');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('MALFORMED_JSON');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    });

    it('rejects a body over 100 kB with 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await request(t.http)
        .post('/v1/probe/echo')
        .send({ email: 'a@b.co', name: 'x'.repeat(120 * 1024) });
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('answers a body that does not inflate for its Content-Encoding without a library message', async () => {
      for (const encoding of ['gzip', 'deflate']) {
        const res = await request(t.http)
          .post('/v1/probe/echo')
          .set('Content-Type', 'application/json')
          .set('Content-Encoding', encoding)
          .send('{"email":"a@b.co","name":"x"}');
        expect(problemOf(res)).toEqual(problem(400, 'BAD_REQUEST'));
        expect(res.body.detail).toBe(
          'The request body could not be read; check its Content-Encoding and length.',
        );
      }
    });

    it('answers what Node refuses before routing (huge headers, bad methods) as problem+json', async () => {
      if (!t.http.listening) {
        await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
      }
      const { port } = t.http.address() as AddressInfo;
      const cases: [string, number, string, string][] = [
        [
          `GET /v1/features?x=1 HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
          431,
          'HEADERS_TOO_LARGE',
          '/v1/features',
        ],
        ['FOO /v1/features HTTP/1.1\r\nHost: a\r\n\r\n', 400, 'BAD_REQUEST', '/v1/features'],
        ['not http at all\r\n\r\n', 400, 'BAD_REQUEST', 'urn:uuid:'],
      ];
      for (const [raw, status, code, instance] of cases) {
        const answer = await rawExchange(port, raw);
        const [head, body] = answer.split('\r\n\r\n');
        expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
        expect(head).toContain('Content-Type: application/problem+json');
        const problemBody = JSON.parse(body) as Record<string, unknown>;
        expect(problemBody).toEqual({
          type: `urn:keel:problem:${code.toLowerCase().replace(/_/g, '-')}`,
          title: expect.any(String),
          status,
          detail: expect.any(String),
          instance: expect.stringContaining(instance),
          code,
          requestId: expect.stringMatching(UUID),
        });
        expect(head).toContain(`X-Request-Id: ${problemBody.requestId as string}`);
      }
    });

    it('keeps an idle connection open longer than load balancers keep theirs (60 s)', async () => {
      if (!t.http.listening) {
        await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
      }
      const { port } = t.http.address() as AddressInfo;
      const agent = new Agent({ keepAlive: true });
      const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) =>
        get({ port, host: '127.0.0.1', path: '/health/live', agent }, (res) => {
          res.resume();
          resolve(res.headers);
        }).on('error', reject),
      );
      agent.destroy();
      expect(headers['keep-alive']).toBe('timeout=65');
    });

    it('rejects a body in another media type with 415', async () => {
      const text = await request(t.http)
        .post('/v1/probe/echo')
        .set('Content-Type', 'text/plain')
        .send('hello');
      expect(text.status).toBe(415);
      expect(text.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const form = await request(t.http)
        .post('/v1/probe/echo')
        .type('form')
        .send({ email: 'a@b.co', name: 'n' });
      expect(form.status).toBe(415);
    });

    it('accepts a form only where the route declares it', async () => {
      const res = await request(t.http)
        .post('/v1/probe/form')
        .type('form')
        .send({ grant: 'password' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ grant: 'password' });
      const json = await request(t.http).post('/v1/probe/form').send({ grant: 'password' });
      expect(json.status).toBe(415);
    });
  });

  describe('validation', () => {
    it('accepts a valid body and transforms nested objects', async () => {
      const body = {
        email: 'a@b.co',
        name: 'Ann',
        age: 30,
        address: { city: 'Oslo' },
        tags: ['x'],
      };
      const res = await request(t.http).post('/v1/probe/echo').send(body);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(body);
    });

    it('lists missing, wrongly typed, unknown and nested fields', async () => {
      const res = await request(t.http)
        .post('/v1/probe/echo')
        .send({
          name: 42,
          age: 'old',
          admin: true,
          address: { city: '', zip: '1' },
          tags: ['a', 'b', 'c', 'd'],
        });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
      expect(fields).toEqual(
        expect.arrayContaining([
          'email',
          'name',
          'age',
          'admin',
          'address.city',
          'address.zip',
          'tags',
        ]),
      );
      for (const error of res.body.errors as { message: string }[])
        expect(error.message).toEqual(expect.any(String));
    });

    it('rejects a non-object body', async () => {
      const res = await request(t.http)
        .post('/v1/probe/echo')
        .set('Content-Type', 'application/json')
        .send('[1,2]');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });

    it('answers a malformed path parameter with 400, not 500', async () => {
      const res = await request(t.http).get('/v1/probe/items/abc');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('BAD_REQUEST');
    });

    it('transforms and validates query parameters', async () => {
      expect((await request(t.http).get('/v1/probe/items/7?page=2')).body).toEqual({
        id: 7,
        page: 2,
      });
      const bad = await request(t.http).get('/v1/probe/items/7?page=0');
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([
        { field: 'page', message: expect.stringContaining('page') },
      ]);
      const unknown = await request(t.http).get('/v1/probe/items/7?debug=1');
      expect(unknown.status).toBe(400);
    });
  });

  describe('text the database cannot store, and deep nesting', () => {
    const nul = 'a\u0000b';

    function deepJson(levels: number): string {
      return `{"email":"a@b.co","name":"x","address":${'{"city":'.repeat(levels)}"z"${'}'.repeat(levels)}}`;
    }

    it('refuses a JSON body nested thousands of levels deep with 400, not a stack overflow', async () => {
      for (const path of ['/v1/probe/echo', '/v1/auth/login', '/v1/auth/register']) {
        const res = await request(t.http)
          .post(path)
          .set('Content-Type', 'application/json')
          .send(deepJson(3000));
        expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
        expect(res.body.errors).toEqual([
          {
            field: expect.stringMatching(/^address(\.city)+$/),
            message: expect.stringMatching(/nests deeper than 32 levels$/),
          },
        ]);
      }
    });

    it('refuses NUL and unpaired surrogates in JSON values and keys, naming the field', async () => {
      const cases: [string, string][] = [
        [JSON.stringify({ email: 'a@b.co', name: nul }), 'name'],
        ['{"email":"a@b.co","name":"\\ud800"}', 'name'],
        ['{"email":"a@b.co","name":"x","tags":["ok","\\udc00"]}', 'tags.1'],
        ['{"email":"a@b.co","name":"x","address":{"c\\u0000":"y"}}', 'address'],
      ];
      for (const [body, field] of cases) {
        const res = await request(t.http)
          .post('/v1/probe/echo')
          .set('Content-Type', 'application/json')
          .send(body);
        expect(problemOf(res)).toEqual(problem(400, 'VALIDATION_FAILED'));
        expect(res.body.errors).toEqual([
          {
            field,
            message: expect.stringContaining(
              'must not contain NUL characters or unpaired surrogates',
            ),
          },
        ]);
      }
      // A paired surrogate (an emoji) is ordinary text.
      const emoji = await request(t.http)
        .post('/v1/probe/echo')
        .send({ email: 'a@b.co', name: 'Ann 😀' });
      expect(emoji.status).toBe(200);
      expect(emoji.body.name).toBe('Ann 😀');
    });

    it('refuses NUL in query and path parameters and in forms', async () => {
      const query = await request(t.http).get('/v1/probe/items/7?page=%00');
      expect(problemOf(query)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(query)).toEqual(['page']);
      const path = await request(t.http).get('/v1/probe/items/7%00');
      expect(problemOf(path)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(path)).toEqual(['id']);
      const form = await request(t.http).post('/v1/probe/form').type('form').send(`grant=a%00b`);
      expect(problemOf(form)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(form)).toEqual(['grant']);
    });

    it('refuses unknown fields named like Object.prototype members, in bodies and queries', async () => {
      const body = await request(t.http)
        .post('/v1/probe/echo')
        .set('Content-Type', 'application/json')
        .send('{"email":"a@b.co","name":"x","toString":1}');
      expect(problemOf(body)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(body)).toEqual(['toString']);
      const query = await request(t.http).get('/v1/probe/items/7?constructor=1');
      expect(problemOf(query)).toEqual(problem(400, 'VALIDATION_FAILED'));
      expect(invalidFields(query)).toEqual(['constructor']);
    });

    it('answers the OAuth token endpoint in its own format: 400 invalid_request', async () => {
      const res = await request(t.http)
        .post('/v1/auth/token')
        .type('form')
        .send(`grant_type=password&username=a%00b&password=whatever12`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'invalid_request',
        error_description: expect.stringContaining('username must not contain NUL'),
      });
    });
  });

  describe('versioning', () => {
    it('sends X-API-Version on every response, unversioned routes included', async () => {
      expect((await request(t.http).get('/v1/features')).headers['x-api-version']).toBe('1');
      expect((await request(t.http).get('/v2/probe/legacy')).headers['x-api-version']).toBe('2');
      expect((await request(t.http).get('/health/live')).headers['x-api-version']).toBe('1');
      expect((await request(t.http).get('/v1/nope')).headers['x-api-version']).toBe('1');
    });

    it('selects the version of an unversioned business path by header, default 1', async () => {
      const v1 = await request(t.http).get('/probe/legacy');
      expect(v1.body).toEqual({ version: 1 });
      expect(v1.headers['x-api-version']).toBe('1');
      const v2 = await request(t.http).get('/probe/legacy').set('X-API-Version', '2');
      expect(v2.body).toEqual({ version: 2 });
      expect(v2.headers['x-api-version']).toBe('2');
      const features = await request(t.http).get('/features');
      expect(features.status).toBe(200);
    });

    it('refuses an unsupported X-API-Version with a problem', async () => {
      const res = await request(t.http).get('/probe/legacy').set('X-API-Version', '7');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('UNSUPPORTED_API_VERSION');
      expect(res.headers['x-api-version']).toBe('1');
    });

    it('marks a superseded v1 route with Deprecation and a successor Link', async () => {
      const res = await request(t.http).get('/v1/probe/legacy');
      expect(res.headers.deprecation).toBe(`@${Date.parse('2026-09-01T00:00:00Z') / 1000}`);
      expect(res.headers.link).toBe('</v2/probe/legacy>; rel="successor-version"');
      const v2 = await request(t.http).get('/v2/probe/legacy');
      expect(v2.headers.deprecation).toBeUndefined();
    });
  });

  describe('headers', () => {
    it('sets security headers and denies framing', async () => {
      const res = await request(t.http).get('/v1/features');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers['strict-transport-security']).toBeUndefined();
    });

    it('marks responses to authenticated requests no-store', async () => {
      const anonymous = await request(t.http).get('/v1/features');
      expect(anonymous.headers['cache-control']).toBeUndefined();
      const bearer = await request(t.http).get('/v1/features').set('Authorization', 'Bearer x');
      expect(bearer.headers['cache-control']).toBe('no-store');
      const apiKey = await request(t.http).get('/v1/features').set('X-API-Key', 'ak_x_y');
      expect(apiKey.headers['cache-control']).toBe('no-store');
    });

    it('compresses large bodies with gzip or brotli', async () => {
      const gzip = await request(t.http).get('/v1/probe/large').set('Accept-Encoding', 'gzip');
      expect(gzip.headers['content-encoding']).toBe('gzip');
      const br = await request(t.http).get('/v1/probe/large').set('Accept-Encoding', 'br');
      expect(br.headers['content-encoding']).toBe('br');
      const small = await request(t.http).get('/health/live').set('Accept-Encoding', 'gzip');
      expect(small.headers['content-encoding']).toBeUndefined();
    });
  });

  describe('feature flags', () => {
    it('lists the flags with their defaults', async () => {
      const res = await request(t.http).get('/v1/features');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ registration: true, v2_api: true, webhooks: true });
    });

    it('hides a route behind a flag that is off as a plain 404', async () => {
      const res = await request(t.http).get('/v1/probe/beta');
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: 'NOT_FOUND', detail: 'Cannot GET /v1/probe/beta' });
    });
  });
});

describe('HTTP platform with options', () => {
  it('turns flags on and off from FEATURE_*', async () => {
    const t = await startTestApp({
      imports: [ProbeModule],
      env: { FEATURE_REGISTRATION: 'false', FEATURE_BETA_PROBE: 'true' },
    });
    try {
      const features = await request(t.http).get('/v1/features');
      expect(features.body).toEqual({
        registration: false,
        v2_api: true,
        webhooks: true,
        beta_probe: true,
      });
      expect((await request(t.http).get('/v1/probe/beta')).body).toEqual({ beta: true });
    } finally {
      await t.close();
    }
  });

  it('answers a disabled feature (404) and a wrong media type (415) before authentication', async () => {
    const t = await startTestApp({ env: { FEATURE_V2_API: 'false' } });
    try {
      const hidden = await request(t.http).get('/v2/users');
      expect(hidden.status).toBe(404);
      expect(hidden.body.code).toBe('NOT_FOUND');
      const text = await request(t.http)
        .post('/v1/users')
        .set('Content-Type', 'text/plain')
        .send('hi');
      expect(text.status).toBe(415);
      expect(text.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const anonymous = await request(t.http).post('/v1/users').send({});
      expect(anonymous.status).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('allows only the listed CORS origins', async () => {
    const t = await startTestApp({ env: { CORS_ORIGINS: 'https://app.example.com' } });
    try {
      const allowed = await request(t.http)
        .options('/v1/features')
        .set('Origin', 'https://app.example.com')
        .set('Access-Control-Request-Method', 'GET');
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
      const denied = await request(t.http)
        .get('/v1/features')
        .set('Origin', 'https://evil.example.com');
      expect(denied.headers['access-control-allow-origin']).toBeUndefined();
      const exposed = await request(t.http)
        .get('/v1/features')
        .set('Origin', 'https://app.example.com');
      expect(exposed.headers['access-control-expose-headers']).toContain('X-Request-Id');
    } finally {
      await t.close();
    }
  });

  it('serves the OpenAPI document at /docs-json and Swagger UI at /docs', async () => {
    const t = await startTestApp();
    try {
      const json = await request(t.http).get('/docs-json');
      expect(json.status).toBe(200);
      expect(json.body.openapi).toMatch(/^3\./);
      expect(Object.keys(json.body.paths)).toEqual(
        expect.arrayContaining(['/v1/features', '/health/live']),
      );
      expect(json.body.components.securitySchemes).toMatchObject({
        bearer: { type: 'http', scheme: 'bearer' },
        oauth2: { type: 'oauth2', flows: { password: { tokenUrl: '/v1/auth/token' } } },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      });
      const ui = await request(t.http).get('/docs/');
      expect(ui.status).toBe(200);
      expect(ui.text).toContain('swagger-ui');
    } finally {
      await t.close();
    }
  });

  it('turns the docs off when DOCS_ENABLED=false', async () => {
    const t = await startTestApp({ env: { DOCS_ENABLED: 'false' } });
    try {
      expect((await request(t.http).get('/docs-json')).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describeWithSharedServices('HTTP platform in production', () => {
  it('adds HSTS, keeps the docs off and answers with the production pipeline', async () => {
    const secret = 'x'.repeat(24) + Date.now().toString(36) + 'y'.repeat(16);
    const t = await startTestApp({
      env: {
        APP_ENV: 'production',
        JWT_SECRET: secret,
        WEBHOOK_SIGNING_SECRET: `${secret}-webhooks`,
        CORS_ORIGINS: 'https://app.example.com',
      },
    });
    try {
      const res = await request(t.http).get('/v1/features');
      expect(res.status).toBe(200);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect((await request(t.http).get('/docs-json')).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});
