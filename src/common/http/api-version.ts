/** API versions that have routes; a request for another one is refused. */
export const SUPPORTED_API_VERSIONS = ['1', '2'] as const;
export const DEFAULT_API_VERSION = '1';

const VERSIONED_PATH = /^\/v(\d+)(?=\/|\?|$)/;
/** Operational routes live outside the versioned API. */
const UNVERSIONED_PATH = /^\/(?:health|metrics|docs|docs-json|socket\.io)(?=\/|\?|$)/;

export type VersionSelection =
  | { kind: 'versioned'; version: string }
  | { kind: 'unversioned'; version: string }
  | { kind: 'rewrite'; version: string; url: string }
  | { kind: 'unsupported'; requested: string };

/**
 * Decides the API version of a request: from the `/vN` prefix, else (for business paths)
 * from the X-API-Version header (default 1), which then rewrites the URL to `/vN/...`.
 */
export function selectApiVersion(
  url: string,
  header: string | string[] | undefined,
): VersionSelection {
  const versioned = VERSIONED_PATH.exec(url);
  if (versioned) return { kind: 'versioned', version: versioned[1] };
  if (UNVERSIONED_PATH.test(url)) return { kind: 'unversioned', version: DEFAULT_API_VERSION };
  const requested =
    typeof header === 'string' ? header.trim().replace(/^v/i, '') : DEFAULT_API_VERSION;
  if (!(SUPPORTED_API_VERSIONS as readonly string[]).includes(requested)) {
    return { kind: 'unsupported', requested: typeof header === 'string' ? header : '' };
  }
  return { kind: 'rewrite', version: requested, url: `/v${requested}${url}` };
}
