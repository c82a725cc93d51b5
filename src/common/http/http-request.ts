import { IncomingHttpHeaders } from 'node:http';

/**
 * What Keel's guards, interceptors and filters read of a request: fields that Express and
 * Fastify requests both have, so no feature code depends on the adapter.
 */
export interface HttpRequest {
  /** The request id (X-Request-Id), assigned before anything else runs. */
  id: string;
  method: string;
  url: string;
  /** The URL as received, before header-selected versioning rewrote it. */
  originalUrl?: string;
  headers: IncomingHttpHeaders;
  ip?: string;
}

/** The path of a request as the client sent it, without its query string. */
export function requestPath(request: Pick<HttpRequest, 'url' | 'originalUrl'>): string {
  const url = request.originalUrl ?? request.url;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
