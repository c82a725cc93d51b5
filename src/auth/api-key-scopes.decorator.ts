import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';
import { API_KEY_AUTH } from '../common/http/openapi';
import { ApiKeyScope } from './api-keys/api-key-scope';

export const API_KEY_SCOPES_KEY = 'keel:api-key-scopes';

/** The route accepts API keys holding one of these scopes; routes without it refuse API keys. */
export const ApiKeyScopes = (...scopes: ApiKeyScope[]) =>
  applyDecorators(SetMetadata(API_KEY_SCOPES_KEY, scopes), ApiSecurity(API_KEY_AUTH, scopes));
