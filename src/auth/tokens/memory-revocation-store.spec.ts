import { MemoryRevocationStore } from './memory-revocation-store';

/** 2026-11-25T12:00:00.400Z, in seconds since the epoch: the store starts 400 ms into a second. */
const START = Date.parse('2026-11-25T12:00:00.400Z') / 1000;
const START_SECOND = Math.floor(START);
const USER = 'user-1';

describe(MemoryRevocationStore.name, () => {
  let store: MemoryRevocationStore;

  beforeEach(() => {
    jest.useFakeTimers({ now: START * 1000 });
    store = new MemoryRevocationStore();
    jest.advanceTimersByTime(1000);
  });
  afterEach(() => {
    store.onModuleDestroy();
    jest.useRealTimers();
  });

  const revoked = (issuedAt: number, jti = 'jti-1', familyId?: string) =>
    store.isRevoked(jti, USER, issuedAt, familyId);

  describe('tokens issued before the store started (a restart lost their revocations)', () => {
    it('revokes a token issued before the start second', async () => {
      expect(await revoked(START_SECOND - 0.001)).toBe(true);
      expect(await revoked(START_SECOND - 600)).toBe(true);
    });

    it('accepts a token issued in the start second or later, whole or fractional', async () => {
      expect(await revoked(START_SECOND)).toBe(false);
      expect(await revoked(START)).toBe(false);
      expect(await revoked(START + 1)).toBe(false);
    });
  });

  describe('revocations made since the start', () => {
    const now = () => Date.now() / 1000;

    it('revokes one token by jti until its expiry, and no other', async () => {
      const exp = Math.floor(now()) + 60;
      await store.revokeToken('jti-1', exp);

      expect(await revoked(now(), 'jti-1')).toBe(true);
      expect(await revoked(now(), 'jti-2')).toBe(false);
      jest.advanceTimersByTime(61_000);
      expect(await revoked(now(), 'jti-1')).toBe(false);
    });

    it("revokes a family's tokens for the ttl, not those of another family or none", async () => {
      const issuedAt = now();
      await store.revokeFamily('family-1', 60);

      expect(await revoked(issuedAt, 'jti-1', 'family-1')).toBe(true);
      expect(await revoked(issuedAt, 'jti-1', 'family-2')).toBe(false);
      expect(await revoked(issuedAt, 'jti-1')).toBe(false);
      jest.advanceTimersByTime(60_000);
      expect(await revoked(issuedAt, 'jti-1', 'family-1')).toBe(false);
    });

    it("revokes a user's tokens issued before the revocation, not those issued after", async () => {
      const before = now();
      jest.advanceTimersByTime(5);
      await store.revokeUser(USER, 60);
      jest.advanceTimersByTime(5);

      expect(await revoked(before)).toBe(true);
      expect(await revoked(now())).toBe(false);
      expect(await store.isRevoked('jti-1', 'user-2', before)).toBe(false);
      jest.advanceTimersByTime(60_000);
      expect(await revoked(before)).toBe(false);
    });
  });
});
