import { Writable } from 'node:stream';
import { createLogger } from './create-logger';
import { requestContext } from './request-context';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger(
    { env: 'test', name: 'keel', version: '9.9.9' },
    { level: 'info', pretty: false },
    stream,
  );
  return { logger, lines };
}

describe(createLogger.name, () => {
  it('writes one JSON line with level label, service, version and ISO time', () => {
    const { logger, lines } = capture();
    logger.info({ requestId: 'r1' }, 'hello');
    expect(lines).toEqual([
      {
        level: 'info',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        service: 'keel',
        version: '9.9.9',
        requestId: 'r1',
        msg: 'hello',
      },
    ]);
  });

  it('redacts passwords, tokens, API keys and credentials headers wherever they are logged', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        password: 'p1',
        body: { password: 'p2', newPassword: 'p3', refreshToken: 'r', email: 'kept@example.com' },
        req: {
          headers: {
            authorization: 'Bearer t',
            cookie: 'c',
            'x-api-key': 'ak_x_y',
            accept: 'json',
          },
        },
        oauth: { access_token: 'a', refresh_token: 'b' },
      },
      'sensitive',
    );
    const line = JSON.stringify(lines[0]);
    for (const secret of ['p1', 'p2', 'p3', '"r"', 'Bearer t', '"c"', 'ak_x_y', '"a"', '"b"']) {
      expect(line).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({
      password: '[REDACTED]',
      body: { password: '[REDACTED]', email: 'kept@example.com' },
      req: { headers: { authorization: '[REDACTED]', accept: 'json' } },
    });
  });

  it('adds the id of the request being handled to every line written while handling it', async () => {
    const { logger, lines } = capture();
    await requestContext.run('req-42', async () => {
      logger.info('before await');
      await new Promise((resolve) => setImmediate(resolve));
      logger.warn({ requestId: 'explicit' }, 'own id wins');
    });
    logger.info('outside');
    expect(lines.map((line) => [line.msg, line.requestId])).toEqual([
      ['before await', 'req-42'],
      ['own id wins', 'explicit'],
      ['outside', undefined],
    ]);
  });
});
