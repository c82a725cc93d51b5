import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The id of the request being handled, for every log line written while handling it (the
 * logger's mixin reads it); cheaper than a child logger per request.
 */
export const requestContext = new AsyncLocalStorage<string>();
