import request from 'supertest';

/** The members of every problem+json body (RFC 9457 plus Keel's code and requestId). */
const MEMBERS = ['type', 'title', 'status', 'detail', 'instance', 'code', 'requestId'];

/** What a test compares of an error answer, as `expect(problemOf(res)).toEqual(problem(...))`. */
export interface ProblemSummary {
  status: number;
  code: unknown;
  contentType: string;
  /** Which of the promised members the body has. */
  members: string[];
  requestIdEchoed: boolean;
}

export function problemOf(res: request.Response): ProblemSummary {
  const body = (res.body ?? {}) as Record<string, unknown>;
  return {
    status: res.status,
    code: body.code,
    contentType: res.type,
    members: MEMBERS.filter((member) => body[member] !== undefined),
    requestIdEchoed: body.requestId === res.headers['x-request-id'],
  };
}

/** The summary of a complete problem+json answer with this status and code. */
export function problem(status: number, code: string): ProblemSummary {
  return {
    status,
    code,
    contentType: 'application/problem+json',
    members: MEMBERS,
    requestIdEchoed: true,
  };
}

/** The fields a 400 VALIDATION_FAILED names in `errors`, sorted and without repeats. */
export function invalidFields(res: request.Response): string[] {
  const errors = ((res.body as { errors?: { field: string }[] }).errors ?? []).map((e) => e.field);
  return [...new Set(errors)].sort();
}
