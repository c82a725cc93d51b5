import { PasswordHasher } from './password-hasher';

describe(PasswordHasher.name, () => {
  const hasher = new PasswordHasher();

  beforeAll(() => hasher.onModuleInit());

  it('hashes with argon2id at OWASP parameters (19 MiB, 2 iterations, 1 lane)', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(hasher.needsRehash(hash)).toBe(false);
  });

  it('verifies the right password only, beyond 72 bytes too', async () => {
    const long = `${'x'.repeat(80)}-end`;
    const hash = await hasher.hash(long);
    expect(await hasher.verify(hash, long)).toBe(true);
    expect(await hasher.verify(hash, `${'x'.repeat(80)}-END`)).toBe(false);
  });

  it('answers false, not an error, for a malformed hash or none', async () => {
    expect(await hasher.verify('not-a-hash', 'secret')).toBe(false);
    expect(await hasher.verify(undefined, 'secret')).toBe(false);
  });

  it('asks for a rehash of hashes made with other parameters', () => {
    const older = '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG';
    expect(hasher.needsRehash(older)).toBe(true);
  });
});
