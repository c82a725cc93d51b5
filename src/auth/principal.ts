import { Role } from '../users/role';
import { ApiKeyScope } from './api-keys/api-key-scope';

/** Who is calling: a user, through an access token or one of their API keys. */
export interface Principal {
  /** The user's id (an API key acts as its owner). */
  id: string;
  role: Role;
  via: 'token' | 'api-key';
  /** Access tokens: the jti and expiry (seconds), for logout, and the refresh token family. */
  tokenId?: string;
  tokenExpiresAt?: number;
  tokenFamilyId?: string;
  /** API keys: the key's id and scopes. */
  apiKeyId?: string;
  scopes?: readonly ApiKeyScope[];
}
