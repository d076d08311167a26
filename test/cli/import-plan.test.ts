/**
 * The import plan (what `agent-registry import` would change) and the CLI's small helpers, without a service.
 */
import { describe, expect, it } from 'vitest';
import {
  canonical,
  describeImport,
  importEntries,
  planImport,
  summarize,
} from '../../src/cli/import-plan.js';
import { integerOption, numberOption, parseCommand, table, UsageError } from '../../src/cli/io.js';
import type { Agent } from '../../src/client/registry-client.js';

const AGENT = {
  name: 'a',
  description: 'A',
  agent_type: 'echo',
  factory_module: 'm',
  factory_function: 'f',
  factory_params: {},
  capabilities: { examples: ['x'], domain: 'd' },
  tags: ['t'],
  enabled: true,
  registered_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  status: 'available',
} as unknown as Agent;

describe('importEntries', () => {
  it('reads the export format and plain arrays, keeping only registration fields', () => {
    expect(importEntries({ version: '1.0.0', agents: { a: { ...AGENT } } })).toEqual([
      {
        name: 'a',
        registration: {
          name: 'a',
          agent_type: 'echo',
          factory_module: 'm',
          factory_function: 'f',
          factory_params: {},
          capabilities: AGENT.capabilities,
          tags: ['t'],
          enabled: true,
        },
      },
    ]);
    expect(importEntries([{ agent_type: 'echo', factory_module: 'm', factory_function: 'f' }])).toEqual([
      { name: undefined, registration: { agent_type: 'echo', factory_module: 'm', factory_function: 'f' } },
    ]);
  });

  it('rejects other shapes, non-objects, a name that is not its key, and duplicates', () => {
    expect(() => importEntries({ agents: [] })).toThrow(/expected the export format/);
    expect(() => importEntries('x')).toThrow(/expected the export format/);
    expect(() => importEntries([1])).toThrow(/entry 0 is not an object/);
    expect(() => importEntries({ agents: { a: 'x' } })).toThrow(/agents\.a is not an object/);
    expect(() => importEntries({ agents: { a: { name: 'b' } } })).toThrow(/must match its key/);
    expect(() => importEntries([{ name: 'a' }, { name: 'a' }])).toThrow(/appears twice/);
  });
});

describe('planImport and describeImport', () => {
  it('registers the new, updates what differs, reports what cannot be applied', () => {
    const entries = importEntries([
      { name: 'new', agent_type: 'echo', factory_module: 'm', factory_function: 'f', enabled: false },
      { agent_type: 'echo', factory_module: 'm', factory_function: 'g' },
      { name: 'a', capabilities: { examples: ['y'], extra: 1 }, enabled: false, tags: ['u'] },
    ]);
    const actions = planImport(entries, [AGENT]);
    expect(actions.map((action) => action.action)).toEqual(['register', 'register', 'update']);
    expect(summarize(actions)).toEqual({ register: 2, update: 1, unchanged: 0 });
    const text = describeImport(actions);
    expect(text).toContain('+ register new (disabled)\n');
    expect(text).toContain('+ register (named by the service) g\n');
    expect(text).toContain('~ update a\n    enabled: true -> false\n');
    expect(text).toContain('    - capabilities.domain: "d"\n');
    expect(text).not.toContain('+ capabilities.domain');
    expect(text).toContain('    + capabilities.extra: 1\n');
    expect(text).toContain('    - capabilities.examples: ["x"]\n    + capabilities.examples: ["y"]\n');
    expect(text).toContain('    ! tags differs: not applied');
  });

  it('finds an identical agent unchanged (key order does not matter) and says when the file is empty', () => {
    const same = planImport(importEntries([{ name: 'a', capabilities: { domain: 'd', examples: ['x'] } }]), [
      AGENT,
    ]);
    expect(same).toEqual([{ action: 'unchanged', name: 'a', not_applied: [] }]);
    expect(describeImport(same)).toBe('= unchanged a\n');
    expect(describeImport([])).toBe('The file has no agents.\n');
    expect(canonical({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });
});

describe('the CLI helpers', () => {
  it('tables pad columns and leave no trailing spaces', () => {
    expect(
      table(
        ['A', 'BB'],
        [
          ['xxx', ''],
          ['y', 'z'],
        ],
      ),
    ).toBe('A    BB\nxxx\ny    z\n');
  });

  it('options: whole numbers, numbers and argument counts are checked', () => {
    const parsed = parseCommand(
      'x',
      ['--n', '5', '--f', '0.5'],
      { n: { type: 'string' }, f: { type: 'string' } },
      [],
    );
    expect(integerOption(parsed, 'n', 'x', { min: 1, max: 9 })).toBe(5);
    expect(integerOption(parsed, 'missing', 'x', { min: 1 })).toBeUndefined();
    expect(() => integerOption(parsed, 'n', 'x', { min: 6 })).toThrow(/whole number >= 6/);
    expect(numberOption(parsed, 'f', 'x', (v) => v > 0, 'positive')).toBe(0.5);
    expect(() => numberOption(parsed, 'f', 'x', (v) => v > 1, 'above 1')).toThrow(/must be above 1/);
    expect(() => parseCommand('x', ['a'], {}, [])).toThrow(/takes no arguments/);
    expect(() => parseCommand('x', [], {}, ['<a>', '[b]'])).toThrow(UsageError);
    expect(parseCommand('x', ['a', 'b'], {}, ['<a>', '[b]']).positionals).toEqual(['a', 'b']);
  });
});
