import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiOAuth2 } from '@nestjs/swagger';
import { BEARER_AUTH, OAUTH2_AUTH } from '../common/http/openapi';

/** OpenAPI: the route takes an access token (bearer, or from the OAuth2 password flow). */
export const ApiAuth = () =>
  applyDecorators(ApiBearerAuth(BEARER_AUTH), ApiOAuth2([], OAUTH2_AUTH));
