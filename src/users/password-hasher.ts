import { Injectable, OnModuleInit } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';

/** OWASP's argon2id baseline: 19 MiB of memory, 2 iterations, 1 lane. */
const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };
/** The parameters a hash was made with, as its PHC string records them. */
const CURRENT_PARAMETERS = `$argon2id$v=19$m=${OPTIONS.memoryCost},t=${OPTIONS.timeCost},p=${OPTIONS.parallelism}$`;

/**
 * argon2id hashing (bcrypt would silently ignore everything after 72 bytes), by @node-rs/argon2:
 * prebuilt per platform without install scripts (node-argon2's prebuilt Linux binary crashed
 * Node 20 on Debian 12).
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** Verified against when the email is unknown, so both cases take the same time. */
  private dummyHash = '';

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.hash(randomBytes(16).toString('hex'));
  }

  hash(password: string): Promise<string> {
    return hash(password, OPTIONS);
  }

  /** False for a wrong password, a malformed hash or no hash at all (after the same work). */
  async verify(passwordHash: string | undefined, password: string): Promise<boolean> {
    try {
      return (await verify(passwordHash ?? this.dummyHash, password)) && passwordHash !== undefined;
    } catch {
      return false;
    }
  }

  /** Whether the hash was made with other parameters than today's (rehash it at the next login). */
  needsRehash(passwordHash: string): boolean {
    return !passwordHash.startsWith(CURRENT_PARAMETERS);
  }
}
