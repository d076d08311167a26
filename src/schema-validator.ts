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

/** Validates `value`; `subject` (default: the one given when compiled) names it in messages. */
export type Validator<T extends TSchema> = (value: unknown, subject?: string) => Static<T>;

/** At most this many issues are spelled out in a message; `details` carries them all. */
const MAX_ISSUES_IN_MESSAGE = 5;

/** Compile `schema` once; the returned function validates a value described as `subject` in messages. */
export function compileValidator<T extends TSchema>(schema: T, subject: string): Validator<T> {
  const check = Compile(schema);
  return (value: unknown, named = subject): Static<T> => {
    if (check.Check(value)) return value as Static<T>;
    const issues = describeIssues(check.Errors(value));
    const shown = issues
      .slice(0, MAX_ISSUES_IN_MESSAGE)
      .map((issue) => `${issue.path || '(root)'} ${issue.message}`);
    const more =
      issues.length > MAX_ISSUES_IN_MESSAGE ? ` (and ${issues.length - MAX_ISSUES_IN_MESSAGE} more)` : '';
    throw new AppError('validation_error', `Invalid ${named}: ${shown.join('; ')}${more}`, {
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
  const add = (issue: ValidationIssue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  };
  /** Unknown fields seen only as "schema is false" leaves, by the path of their object. */
  const leaves = new Map<string, string[]>();
  const summarized = new Set<string>();
  for (const error of errors) {
    if (error.keyword === 'boolean') {
      // `additionalProperties: false` reports each extra key as a "schema is false" leaf, and (unless the
      // compiler stopped early, as it does for many keys) once more with the whole list.
      const cut = error.instancePath.lastIndexOf('/');
      const parent = error.instancePath.slice(0, Math.max(cut, 0));
      const name = error.instancePath
        .slice(cut + 1)
        .replaceAll('~1', '/')
        .replaceAll('~0', '~');
      leaves.set(parent, [...(leaves.get(parent) ?? []), name]);
      continue;
    }
    if (error.keyword === 'additionalProperties') {
      const extra = (error.params.additionalProperties as string[] | undefined) ?? [];
      summarized.add(error.instancePath);
      add({ path: error.instancePath, message: `has unknown field(s) ${quoteSome(extra)}` });
    } else if (error.keyword === 'enum') {
      const allowed = (error.params.allowedValues as unknown[] | undefined) ?? [];
      add({
        path: error.instancePath,
        message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`,
      });
    } else if (error.keyword === 'required') {
      const missing = (error.params.requiredProperties as string[] | undefined) ?? [];
      add({ path: error.instancePath, message: `is missing required field(s) ${quoteSome(missing)}` });
    } else {
      add({ path: error.instancePath, message: error.message });
    }
  }
  for (const [parent, names] of leaves) {
    if (!summarized.has(parent)) {
      add({ path: parent, message: `has unknown field(s) ${quoteSome(names)} (and possibly more)` });
    }
  }
  return issues;
}

/** At most this many names are quoted in a message (a body with 50,000 unknown keys gets a short error). */
const MAX_NAMES_IN_MESSAGE = 10;

/** `"a", "b"` ... and how many more; each name cut to 64 characters. */
function quoteSome(names: readonly string[]): string {
  const shown = names
    .slice(0, MAX_NAMES_IN_MESSAGE)
    .map((name) => JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name));
  const more = names.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` (and ${more} more)` : ''}`;
}
