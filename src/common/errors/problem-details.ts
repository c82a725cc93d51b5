/** One invalid field of a request, as listed in `errors` of a VALIDATION_FAILED problem. */
export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details, with Keel's stable `code` and the request id. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  requestId: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** A stable, dereference-free identifier per code: `urn:keel:problem:not-found`. */
export function problemType(code: string): string {
  return `urn:keel:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}
