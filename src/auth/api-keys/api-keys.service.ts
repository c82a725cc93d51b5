import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Repository } from 'typeorm';
import { sha256 } from '../../common/security/sha256';
import { AppError, NotFound, ValidationFailed } from '../../common/errors/domain-errors';
import { Principal } from '../principal';
import { ApiKey } from './api-key.entity';
import { ApiKeyResponse, toApiKeyResponse } from './dto/api-key-response.dto';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { CreatedApiKeyResponse } from './dto/created-api-key.dto';

const KEY_FORMAT = /^ak_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;
const PUBLIC_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** lastUsedAt is written at most this often per key, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

function invalidKey(): AppError {
  return new AppError(
    401,
    'INVALID_API_KEY',
    'The API key is not valid, has expired or was revoked.',
  );
}

@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);

  constructor(@InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>) {}

  async create(owner: Principal, input: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw new ValidationFailed([
        { field: 'expiresAt', message: 'expiresAt must be in the future' },
      ]);
    }
    const publicId = randomPublicId();
    const secret = randomBytes(32).toString('base64url');
    const key = await this.keys.save(
      this.keys.create({
        userId: owner.id,
        name: input.name,
        publicId,
        secretHash: sha256(secret),
        scopes: input.scopes,
        expiresAt: input.expiresAt ?? null,
      }),
    );
    return { ...toApiKeyResponse(key), key: `ak_${publicId}_${secret}` };
  }

  /** The caller's keys, newest first; admins see every key. */
  async list(viewer: Principal): Promise<ApiKeyResponse[]> {
    const keys = await this.keys.find({
      where: viewer.role === 'admin' ? {} : { userId: viewer.id },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
    return keys.map(toApiKeyResponse);
  }

  /** Revokes the key; another user's key is a 404 (admins may revoke any). Idempotent. */
  async revoke(viewer: Principal, id: string): Promise<void> {
    const key = await this.keys.findOneBy(
      viewer.role === 'admin' ? { id } : { id, userId: viewer.id },
    );
    if (!key) throw new NotFound('API key');
    if (!key.revokedAt) await this.keys.update({ id }, { revokedAt: new Date() });
  }

  /** The principal an X-API-Key stands for: its owner (if active), limited to its scopes. */
  async authenticate(header: string): Promise<Principal> {
    const match = KEY_FORMAT.exec(header);
    if (!match) throw invalidKey();
    const [, publicId, secret] = match;
    const key = await this.keys
      .createQueryBuilder('k')
      .innerJoin('k.user', 'owner')
      .addSelect(['owner.role', 'owner.isActive'])
      .where('k.publicId = :publicId', { publicId })
      .getOne();
    const expected = Buffer.from(key?.secretHash ?? '0'.repeat(64), 'hex');
    const matches = timingSafeEqual(expected, Buffer.from(sha256(secret), 'hex')) && key !== null;
    const now = Date.now();
    if (
      !key ||
      !matches ||
      key.revokedAt ||
      (key.expiresAt && key.expiresAt.getTime() <= now) ||
      !key.user?.isActive
    ) {
      throw invalidKey();
    }
    if (!key.lastUsedAt || now - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      this.keys
        .update({ id: key.id }, { lastUsedAt: new Date(now) })
        .catch((error: Error) => this.logger.warn(`lastUsedAt not recorded: ${error.message}`));
    }
    return {
      id: key.userId,
      role: key.user.role,
      via: 'api-key',
      apiKeyId: key.id,
      scopes: key.scopes,
    };
  }
}

function randomPublicId(): string {
  const bytes = randomBytes(16);
  return Array.from(bytes, (byte) => PUBLIC_ID_ALPHABET[byte % PUBLIC_ID_ALPHABET.length]).join('');
}
