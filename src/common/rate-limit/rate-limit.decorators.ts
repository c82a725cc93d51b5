import { SetMetadata } from '@nestjs/common';

export const STRICT_RATE_LIMIT_KEY = 'keel:strict-rate-limit';
export const NO_RATE_LIMIT_KEY = 'keel:no-rate-limit';

/** Credential routes (login, token, register): the strict per-IP limit applies on top. */
export const StrictRateLimit = () => SetMetadata(STRICT_RATE_LIMIT_KEY, true);

/** Probes and scrapes are never limited. */
export const NoRateLimit = () => SetMetadata(NO_RATE_LIMIT_KEY, true);
