import { SetMetadata } from '@nestjs/common';
import { Role } from '../users/role';

export const ROLES_KEY = 'keel:roles';

/**
 * The lowest role the route accepts; roles above it pass (admin passes every check). Without
 * it, reads accept any role and writes need `user`: guests are read-only.
 */
export const Roles = (role: Role) => SetMetadata(ROLES_KEY, role);
