import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { AppError, isAppError, messageOf, systemErrorCode } from '../src/errors.js';
import { compileValidator, describeIssues } from '../src/schema-validator.js';

const Body = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    tags: Type.Array(Type.String(), { maxItems: 1 }),
    nested: Type.Object({ n: Type.Number() }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

describe('compileValidator', () => {
  const validate = compileValidator(Body, 'thing');

  it('returns valid values as they are', () => {
    const value = { name: 'a', tags: [], nested: { n: 1 } };
    expect(validate(value)).toBe(value);
  });

  it('names each failing field: missing, unknown, wrong type', () => {
    let error: AppError | undefined;
    try {
      validate({ tags: [1, 2], nested: { n: 'x', extra: true }, surprise: 1 });
    } catch (e) {
      error = e as AppError;
    }
    expect(error?.code).toBe('validation_error');
    expect(error?.status).toBe(400);
    expect(error?.message).toMatch(/^Invalid thing: /);
    expect(error?.message).toContain('(root) is missing required field(s) "name"');
    expect(error?.message).toContain('(root) has unknown field(s) "surprise"');
    expect(error?.message).toMatch(/\(and 1 more\)$/);
    expect(error?.details).toContainEqual({ path: '/nested', message: 'has unknown field(s) "extra"' });
    expect(error?.details).toHaveLength(6);
  });

  it('drops duplicate issues', () => {
    const issue = { keyword: 'type', instancePath: '/a', message: 'must be string', params: {} };
    expect(describeIssues([issue, issue])).toEqual([{ path: '/a', message: 'must be string' }]);
    expect(describeIssues([{ keyword: 'required', instancePath: '', message: 'x', params: {} }])).toEqual([
      { path: '', message: 'is missing required field(s) ' },
    ]);
    expect(
      describeIssues([{ keyword: 'additionalProperties', instancePath: '', message: 'x', params: {} }]),
    ).toEqual([{ path: '', message: 'has unknown field(s) ' }]);
  });
});

describe('errors', () => {
  it('maps codes to statuses and keeps the cause out of the message', () => {
    const cause = new Error('disk on fire');
    const error = new AppError('storage_error', 'Could not save', { cause, details: { file: 'x' } });
    expect(error.status).toBe(503);
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ file: 'x' });
    expect(isAppError(error)).toBe(true);
    expect(isAppError(cause)).toBe(false);
    expect(new AppError('agent_exists', 'x').status).toBe(409);
  });

  it('reads messages and system error codes of anything thrown', () => {
    expect(messageOf(new Error('m'))).toBe('m');
    expect(messageOf('plain')).toBe('plain');
    expect(systemErrorCode(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe('ENOSPC');
    expect(systemErrorCode({ code: 5 })).toBeUndefined();
    expect(systemErrorCode(null)).toBeUndefined();
  });
});
