import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiSecurity } from '@nestjs/swagger';
import { API_KEY_AUTH } from '../common/http/openapi';
import { ApiKeyScope } from './api-keys/api-key-scope';

export const API_KEY_SCOPES_KEY = 'keel:api-key-scopes';

/** The route accepts API keys holding one of these scopes; routes without it refuse API keys. */
export const ApiKeyScopes = (...scopes: ApiKeyScope[]) =>
  applyDecorators(
    SetMetadata(API_KEY_SCOPES_KEY, scopes),
    // OpenAPI 3.0 allows scopes on OAuth2 requirements only: the accepted ones go in an extension.
    ApiSecurity(API_KEY_AUTH),
    ApiExtension('x-api-key-scopes', scopes),
  );
