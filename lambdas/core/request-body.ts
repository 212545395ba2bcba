/**
 * What every request's input shares (a JSON body, a query): parsing a body, and the one `validation_failed` shape
 * its problems are told in.
 */
import { InvalidRequest } from './errors';

/** One problem with a request body: where (`input.image`, `(body)`) and what. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** The body parsed as JSON; `invalid_json` when it is not. */
export function parseJsonBody(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch (error) {
    throw new InvalidRequest('invalid_json', `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** A schema's issues as field issues; `whole` names the input itself (`(body)`, `(query)`). */
export const fieldIssues = (
  error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> },
  whole = '(body)',
): FieldIssue[] => error.issues.map((issue) => ({ path: issue.path.join('.') || whole, message: issue.message }));

/** A refusal's message listing each problem: `Invalid <subject>: <path>: <message>; …`. */
export const issuesMessage = (subject: string, issues: FieldIssue[]): string =>
  `Invalid ${subject}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`;

/** `validation_failed` listing each problem (`Invalid request: …` unless `subject` names what is invalid). */
export const validationFailed = (issues: FieldIssue[], subject = 'request'): InvalidRequest =>
  new InvalidRequest('validation_failed', issuesMessage(subject, issues), issues);
