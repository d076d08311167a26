/**
 * @module schema-validator
 * Compiles a TypeBox schema into a function that returns the typed value or throws a `validation_error`
 * whose message names each failing field. Domain code validates with the same schemas the API exposes.
 */
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { AppError } from './errors.js';

export interface ValidationIssue {
  /** JSON pointer of the failing value (`""` for the whole value). */
  path: string;
  message: string;
}

export type Validator<T extends TSchema> = (value: unknown) => Static<T>;

/** At most this many issues are spelled out in a message; `details` carries them all. */
const MAX_ISSUES_IN_MESSAGE = 5;

/** Compile `schema` once; the returned function validates a value described as `subject` in messages. */
export function compileValidator<T extends TSchema>(schema: T, subject: string): Validator<T> {
  const check = Compile(schema);
  return (value: unknown): Static<T> => {
    if (check.Check(value)) return value as Static<T>;
    const issues = describeIssues(check.Errors(value));
    const shown = issues
      .slice(0, MAX_ISSUES_IN_MESSAGE)
      .map((issue) => `${issue.path || '(root)'} ${issue.message}`);
    const more =
      issues.length > MAX_ISSUES_IN_MESSAGE ? ` (and ${issues.length - MAX_ISSUES_IN_MESSAGE} more)` : '';
    throw new AppError('validation_error', `Invalid ${subject}: ${shown.join('; ')}${more}`, {
      details: issues,
    });
  };
}

interface RawIssue {
  keyword: string;
  instancePath: string;
  message: string;
  params: Record<string, unknown>;
}

/** Turn compiler errors into one readable issue per problem (unknown fields named, duplicates dropped). */
export function describeIssues(errors: readonly RawIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const error of errors) {
    // `additionalProperties: false` reports each extra key twice: once as a "schema is false" leaf.
    if (error.keyword === 'boolean') continue;
    let issue: ValidationIssue;
    if (error.keyword === 'additionalProperties') {
      const extra = (error.params.additionalProperties as string[] | undefined) ?? [];
      issue = {
        path: error.instancePath,
        message: `has unknown field(s) ${extra.map((k) => `"${k}"`).join(', ')}`,
      };
    } else if (error.keyword === 'enum') {
      const allowed = (error.params.allowedValues as unknown[] | undefined) ?? [];
      issue = {
        path: error.instancePath,
        message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`,
      };
    } else if (error.keyword === 'required') {
      const missing = (error.params.requiredProperties as string[] | undefined) ?? [];
      issue = {
        path: error.instancePath,
        message: `is missing required field(s) ${missing.map((k) => `"${k}"`).join(', ')}`,
      };
    } else {
      issue = { path: error.instancePath, message: error.message };
    }
    const key = `${issue.path}\u0000${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}
