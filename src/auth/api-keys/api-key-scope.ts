/** What an API key may be allowed to do; routes declare the scopes they accept. */
export const API_KEY_SCOPES = ['webhooks:write', 'jobs:write', 'jobs:read', 'users:read'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
