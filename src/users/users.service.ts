import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  DataSource,
  EntityManager,
  QueryFailedError,
  Repository,
  SelectQueryBuilder,
} from 'typeorm';
import { TokensService } from '../auth/tokens/tokens.service';
import { CacheService } from '../common/cache/cache.service';
import { BadRequest, Conflict, NotFound } from '../common/errors/domain-errors';
import { CursorPage, Page, parseSort, toPage } from '../common/http/pagination';
import { normalizeEmail } from '../common/http/string-transforms';
import { CreateUserDto } from './dto/create-user.dto';
import { ListUsersV2Query } from './dto/list-users-v2.query';
import { ListUsersQuery, UserSortField } from './dto/list-users.query';
import { UpdateUserDto } from './dto/update-user.dto';
import { toUserResponse, UserResponse } from './dto/user-response.dto';
import { toUserV2Response, UserV2Response } from './dto/user-v2-response.dto';
import { PasswordHasher } from './password-hasher';
import { Role, ROLES } from './role';
import { decodeUserCursor, encodeUserCursor } from './user-cursor';
import { User } from './user.entity';

/** Cache tag of everything derived from users (GET /users/:id, /stats). */
export const USERS_CACHE_TAG = 'users';

/** Serialises changes that could leave no active admin (demotion, deactivation, deletion). */
const ADMIN_LOCK_KEY = 7_316_002;
const UNIQUE_VIOLATION = '23505';
const SORT_COLUMNS: Record<UserSortField, string> = {
  createdAt: 'u.createdAt',
  email: 'u.email',
  name: 'u.name',
  role: 'u.role',
  lastLoginAt: 'u.lastLoginAt',
};

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokensService,
    private readonly cache: CacheService,
  ) {}

  /**
   * Creates a user; a taken email (whatever its case) is 409 EMAIL_TAKEN. Inside a caller's
   * transaction (`manager`), the caller calls committed() after its commit: invalidated here, a
   * read in between would cache the list without the new user under the new version.
   */
  async create(input: CreateUserDto, manager?: EntityManager): Promise<UserResponse> {
    const passwordHash = await this.hasher.hash(input.password);
    const users = manager?.getRepository(User) ?? this.users;
    try {
      const user = await users.save(
        users.create({
          email: input.email,
          name: input.name,
          role: input.role ?? 'user',
          passwordHash,
        }),
      );
      if (!manager) await this.cache.invalidate(USERS_CACHE_TAG);
      return toUserResponse(user);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new Conflict('EMAIL_TAKEN', 'An account with this email already exists.');
      throw error;
    }
  }

  /** The user, if the principal may see it: admins see everyone, others only themselves. */
  async findVisible(viewer: { id: string; role: Role }, id: string): Promise<UserResponse> {
    if (viewer.role !== 'admin' && viewer.id !== id) throw new NotFound('User');
    return toUserResponse(await this.get(id));
  }

  async list(query: ListUsersQuery): Promise<Page<UserResponse>> {
    const [field, direction] = parseSort<UserSortField>(query.sort, 'createdAt');
    const [users, total] = await this.filtered(query)
      .orderBy(SORT_COLUMNS[field], direction, 'NULLS LAST')
      .addOrderBy('u.id', direction)
      .skip((query.page - 1) * query.limit)
      .take(query.limit)
      .getManyAndCount();
    return toPage(users.map(toUserResponse), total, query);
  }

  /** Newest first, by keyset on (createdAt, id): stable under inserts, no OFFSET scans. */
  async listByCursor(query: ListUsersV2Query): Promise<CursorPage<UserV2Response>> {
    const builder = this.filtered(query)
      .addSelect(
        `to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
        'cursor_at',
      )
      .orderBy('u.createdAt', 'DESC')
      .addOrderBy('u.id', 'DESC')
      .limit(query.limit + 1);
    if (query.cursor) {
      const [at, id] = decodeUserCursor(query.cursor);
      builder.andWhere('(u.createdAt, u.id) < (CAST(:at AS timestamptz), CAST(:id AS uuid))', {
        at,
        id,
      });
    }
    const { entities, raw } = await builder.getRawAndEntities<{ cursor_at: string }>();
    const page = entities.slice(0, query.limit);
    const last =
      page.length === query.limit && entities.length > query.limit ? page.length - 1 : -1;
    return {
      data: page.map(toUserV2Response),
      nextCursor: last === -1 ? null : encodeUserCursor(raw[last].cursor_at, page[last].id),
    };
  }

  /** After the commit of a caller's transaction that created users: cached reads are stale. */
  async committed(): Promise<void> {
    await this.cache.invalidate(USERS_CACHE_TAG);
  }

  /** Admin changes. Demoting, deactivating or deleting the last active admin is 409 LAST_ADMIN. */
  async update(id: string, changes: UpdateUserDto): Promise<UserResponse> {
    const { user, revokes } = await this.dataSource.transaction(async (manager) => {
      const current = await this.lockForAdminChange(manager, id);
      const demoted = changes.role !== undefined && changes.role !== current.role;
      const deactivated = changes.isActive === false && current.isActive;
      const losesAccess = demoted || deactivated;
      if (current.role === 'admin' && current.isActive && losesAccess) {
        await this.assertAnotherActiveAdmin(manager, id);
      }
      // Field by field: a DTO instance carries the fields it was not sent as undefined.
      const updated = await manager.save(User, {
        ...current,
        name: changes.name ?? current.name,
        role: changes.role ?? current.role,
        isActive: changes.isActive ?? current.isActive,
      });
      if (losesAccess) await this.endSessions(manager, id);
      // Tokens carry the role, and a deactivated user must be out at once. A request asking for
      // a deactivation or a role revokes even when the row already says so.
      const revokes = losesAccess || changes.isActive === false || changes.role !== undefined;
      if (revokes) await this.tokens.revokeAccessTokens(id);
      return { user: updated, revokes };
    });
    if (revokes) await this.revokeAfterCommit(id);
    await this.cache.invalidate(USERS_CACHE_TAG);
    return toUserResponse(user);
  }

  /** Writes the name only: saving the whole row read earlier could undo an admin's concurrent change. */
  async updateName(id: string, name: string): Promise<UserResponse> {
    const { affected } = await this.users.update({ id }, { name });
    if (!affected) throw new NotFound('User');
    await this.cache.invalidate(USERS_CACHE_TAG);
    return toUserResponse(await this.get(id));
  }

  async remove(id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const user = await this.lockForAdminChange(manager, id);
      if (user.role === 'admin' && user.isActive) await this.assertAnotherActiveAdmin(manager, id);
      await manager.delete(User, { id });
      // Refresh tokens go with the user (ON DELETE CASCADE); access tokens stop now.
      await this.tokens.revokeAccessTokens(id);
    });
    await this.revokeAfterCommit(id);
    await this.cache.invalidate(USERS_CACHE_TAG);
  }

  /**
   * The active user with these credentials, or null. Unknown emails cost the same argon2 work
   * as wrong passwords, so timing does not reveal which emails exist.
   */
  async verifyCredentials(email: string, password: string): Promise<UserResponse | null> {
    const user = await this.findByEmail(email);
    const valid = await this.hasher.verify(user?.passwordHash, password);
    if (!user || !valid || !user.isActive) return null;
    if (this.hasher.needsRehash(user.passwordHash)) {
      // Only over the hash just verified: never undo a password change made meanwhile.
      const passwordHash = await this.hasher.hash(password);
      await this.users.update({ id: user.id, passwordHash: user.passwordHash }, { passwordHash });
    }
    await this.users.query(`UPDATE users SET last_login_at = now() WHERE id = $1`, [user.id]);
    return toUserResponse(user);
  }

  /** Checks the current password, sets the new one and ends every session of the user. */
  async changePassword(id: string, currentPassword: string, newPassword: string): Promise<void> {
    const user = await this.get(id);
    if (!(await this.hasher.verify(user.passwordHash, currentPassword))) {
      throw new BadRequest('INVALID_CURRENT_PASSWORD', 'The current password is not correct.');
    }
    const passwordHash = await this.hasher.hash(newPassword);
    await this.dataSource.transaction(async (manager) => {
      await manager.update(User, { id }, { passwordHash });
      await this.endSessions(manager, id);
      await this.tokens.revokeAccessTokens(id);
    });
    await this.revokeAfterCommit(id);
  }

  async getResponse(id: string): Promise<UserResponse> {
    return toUserResponse(await this.get(id));
  }

  async countByRole(): Promise<Record<Role, number>> {
    const rows = await this.users
      .createQueryBuilder('u')
      .select('u.role', 'role')
      .addSelect('CAST(count(*) AS int)', 'count')
      .groupBy('u.role')
      .getRawMany<{ role: Role; count: number }>();
    const counts = Object.fromEntries(ROLES.map((role) => [role, 0])) as Record<Role, number>;
    for (const row of rows) counts[row.role] = row.count;
    return counts;
  }

  /** Signups per UTC day for the last `days` days, today included, oldest first; empty days are 0. */
  async signupsPerDay(days: number): Promise<{ date: string; count: number }[]> {
    return this.users.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS date, CAST(count(u.id) AS int) AS count
         FROM generate_series(
                (now() AT TIME ZONE 'UTC')::date - ($1::int - 1),
                (now() AT TIME ZONE 'UTC')::date,
                interval '1 day') AS day
         LEFT JOIN users u
           ON u.created_at >= day AT TIME ZONE 'UTC'
          AND u.created_at < (day + interval '1 day') AT TIME ZONE 'UTC'
        GROUP BY day
        ORDER BY day`,
      [days],
    );
  }

  /**
   * Creates the first admin unless that email exists (whatever its role). Safe when several
   * instances start at once: the unique index decides, ON CONFLICT makes the others no-ops.
   */
  async ensureAdmin(email: string, password: string): Promise<boolean> {
    const passwordHash = await this.hasher.hash(password);
    const inserted: unknown[] = await this.users.query(
      `INSERT INTO users (email, name, role, password_hash) VALUES ($1, $2, 'admin', $3)
       ON CONFLICT ((lower(email))) DO NOTHING RETURNING id`,
      [normalizeEmail(email), 'Administrator', passwordHash],
    );
    if (inserted.length > 0) await this.cache.invalidate(USERS_CACHE_TAG);
    return inserted.length > 0;
  }

  /**
   * The revocation made inside the transaction ended every token issued before it; this one, after
   * the commit, covers a login that raced the change, and ends the user's open sockets. The change
   * is committed by then: a failure here is logged, not answered with an error.
   */
  private async revokeAfterCommit(id: string): Promise<void> {
    try {
      await this.tokens.revokeAll(id);
    } catch (error) {
      this.logger.warn({ err: error, userId: id }, 'sessions not revoked again after the change');
    }
  }

  /**
   * Refresh tokens created until now are over (checked when they rotate): also one a rotation
   * was creating while this change waited for the row lock. clock_timestamp(), not now(): the
   * transaction may have started before that rotation committed.
   */
  private async endSessions(manager: EntityManager, id: string): Promise<void> {
    await manager.query('UPDATE users SET sessions_valid_after = clock_timestamp() WHERE id = $1', [
      id,
    ]);
  }

  private async get(id: string): Promise<User> {
    const user = await this.users.findOneBy({ id });
    if (!user) throw new NotFound('User');
    return user;
  }

  private findByEmail(email: string): Promise<User | null> {
    return this.users
      .createQueryBuilder('u')
      .where('lower(u.email) = lower(:email)', { email: email.trim() })
      .getOne();
  }

  private filtered(query: { role?: Role; q?: string }): SelectQueryBuilder<User> {
    const builder = this.users.createQueryBuilder('u');
    if (query.role) builder.andWhere('u.role = :role', { role: query.role });
    if (query.q) {
      // Served by the trigram index on (email || ' ' || name).
      builder.andWhere(`(u.email || ' ' || u.name) ILIKE :q ESCAPE '\\'`, {
        q: `%${escapeLike(query.q)}%`,
      });
    }
    return builder;
  }

  private async lockForAdminChange(manager: EntityManager, id: string): Promise<User> {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_LOCK_KEY]);
    const user = await manager.findOne(User, {
      where: { id },
      lock: { mode: 'pessimistic_write' },
    });
    if (!user) throw new NotFound('User');
    return user;
  }

  private async assertAnotherActiveAdmin(manager: EntityManager, exceptId: string): Promise<void> {
    const others = await manager
      .createQueryBuilder(User, 'u')
      .where(`u.role = 'admin' AND u.isActive AND u.id <> :exceptId`, { exceptId })
      .getCount();
    if (others === 0)
      throw new Conflict(
        'LAST_ADMIN',
        'This is the last active admin; promote another admin first.',
      );
  }
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error.driverError as { code?: string }).code === UNIQUE_VIOLATION
  );
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}
