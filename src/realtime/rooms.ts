import { Role } from '../users/role';

/** The rooms clients may join, leave and send to. */
export const PUBLIC_ROOM = /^public:[A-Za-z0-9._-]{1,64}$/;

/** Every socket of a user: job events, revocation of all the user's tokens. */
export const userRoom = (userId: string): string => `user:${userId}`;

export const roleRoom = (role: Role): string => `role:${role}`;

/** Every socket authenticated with one access token, to end them when it is revoked (logout). */
export const tokenRoom = (tokenId: string): string => `token:${tokenId}`;

/** Every socket authenticated with a token of one refresh token family (ended on a replay). */
export const familyRoom = (familyId: string): string => `family:${familyId}`;
