import { ArgumentsHost, Logger } from '@nestjs/common';
import { Forbidden, ValidationFailed } from '../common/errors/domain-errors';
import { Ack } from './realtime-events';
import { WsAckFilter } from './ws-ack.filter';

/** The host Nest gives a WS filter: (socket, payload, ack, event). */
function wsHost(ack: unknown): ArgumentsHost {
  const args = [{ data: { user: { id: 'u1' } } }, { text: 'hi' }, ack, 'message'];
  return {
    getArgByIndex: (index: number) => args[index],
    switchToWs: () => ({
      getClient: () => args[0],
      getData: () => args[1],
      getPattern: () => args[3],
    }),
  } as unknown as ArgumentsHost;
}

describe(WsAckFilter.name, () => {
  const filter = new WsAckFilter();
  let logged: jest.SpyInstance;

  beforeEach(() => {
    logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => logged.mockRestore());

  it('acks a domain error with its code, message and field errors', () => {
    const ack = jest.fn<void, [Ack]>();
    filter.catch(
      new ValidationFailed([{ field: 'text', message: 'text is too long' }]),
      wsHost(ack),
    );
    filter.catch(new Forbidden('Join the room first.'), wsHost(ack));
    expect(ack.mock.calls).toEqual([
      [
        {
          ok: false,
          error: 'invalid',
          message: 'The request is invalid; see errors for each field.',
          errors: [{ field: 'text', message: 'text is too long' }],
        },
      ],
      [{ ok: false, error: 'forbidden', message: 'Join the room first.' }],
    ]);
    expect(logged).not.toHaveBeenCalled();
  });

  it('acks anything else as internal without a word of it, and logs it', () => {
    const ack = jest.fn<void, [Ack]>();
    filter.catch(new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2'), wsHost(ack));
    expect(ack.mock.calls).toEqual([[{ ok: false, error: 'internal' }]]);
    expect(logged).toHaveBeenCalledTimes(1);
  });

  it('does nothing more when the client sent no ack callback', () => {
    expect(() => filter.catch(new Forbidden(), wsHost(undefined))).not.toThrow();
  });
});
