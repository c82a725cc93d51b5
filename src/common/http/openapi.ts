import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { AppConfig } from '../../config/app-config';

export const BEARER_AUTH = 'bearer';
export const OAUTH2_AUTH = 'oauth2';
export const API_KEY_AUTH = 'apiKey';

/** The OpenAPI 3 description of every route, with Keel's three security schemes. */
export function buildOpenApiDocument(app: INestApplication, config: AppConfig): OpenAPIObject {
  const document = new DocumentBuilder()
    .setTitle('Keel API')
    .setDescription(
      'Errors are RFC 9457 application/problem+json with a stable `code` and the `requestId`. ' +
        'Business routes are versioned under /v1 and /v2, or by the X-API-Version header on unversioned paths.',
    )
    .setVersion(config.app.version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_AUTH)
    .addOAuth2(
      { type: 'oauth2', flows: { password: { tokenUrl: '/v1/auth/token', scopes: {} } } },
      OAUTH2_AUTH,
    )
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, API_KEY_AUTH)
    .build();
  return SwaggerModule.createDocument(app, document);
}
