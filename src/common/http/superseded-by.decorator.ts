import { applyDecorators, Header } from '@nestjs/common';

/**
 * Marks a v1 route that has a v2 successor: responses carry `Deprecation` (RFC 9745, the date
 * it was deprecated) and `Link: <successor>; rel="successor-version"` (RFC 8594 style).
 */
export function SupersededBy(successor: string, deprecatedSince: Date) {
  return applyDecorators(
    Header('Deprecation', `@${Math.floor(deprecatedSince.getTime() / 1000)}`),
    Header('Link', `<${successor}>; rel="successor-version"`),
  );
}
