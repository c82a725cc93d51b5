import type { Request } from 'express';

/** The route a request matched, as declared (`/v1/users/:id`), never the raw URL. */
export function routeTemplate(request: Request): string {
  const route = request.route as { path?: unknown } | undefined;
  // Keel declares no wildcard routes: one means Nest's catch-all for unknown paths.
  if (typeof route?.path !== 'string' || route.path.includes('*')) return 'unmatched';
  return `${request.baseUrl}${route.path}`;
}
