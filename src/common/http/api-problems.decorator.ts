import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { ProblemResponse } from '../errors/problem-response.dto';

const MEANING: Record<number, string> = {
  400: 'Invalid request (VALIDATION_FAILED, MALFORMED_JSON, ...)',
  401: 'Missing or invalid credentials (UNAUTHORIZED, INVALID_TOKEN, TOKEN_EXPIRED, INVALID_API_KEY)',
  403: 'Role or API-key scope too low (FORBIDDEN)',
  404: 'Not found, or not yours (NOT_FOUND)',
  409: 'Conflicts with the current state',
  413: 'Body too large (PAYLOAD_TOO_LARGE)',
  415: 'Body not JSON (UNSUPPORTED_MEDIA_TYPE)',
  429: 'Rate limited (RATE_LIMITED); see Retry-After',
};

/** Documents the problem+json error responses a route can give. */
export function ApiProblems(...statuses: number[]) {
  return applyDecorators(
    ApiExtraModels(ProblemResponse),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: MEANING[status] ?? STATUS_CODES[status],
        content: {
          'application/problem+json': { schema: { $ref: getSchemaPath(ProblemResponse) } },
        },
      }),
    ),
  );
}
