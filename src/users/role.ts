export const ROLES = ['admin', 'user', 'guest'] as const;
export type Role = (typeof ROLES)[number];

/** Roles are ordered: admin passes every check, a user passes a guest's. */
export const ROLE_RANK: Record<Role, number> = { guest: 0, user: 1, admin: 2 };
