/**
 * The architecture diagram in README.md (Mermaid) is the real folder-level import graph of `src/` and
 * `jarvis_agent/`: every arrow is an import that exists, and every import between two parts is an arrow.
 * When imports change, the failure says exactly which arrow to add or remove.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleGraph, ROOT } from './module-graph.js';

const README = path.join(ROOT, 'README.md');

interface Diagram {
  /** Node id -> the part it stands for (`src/api`, `jarvis_agent`, ...). */
  parts: Map<string, string>;
  /** `from -> to` as parts, with the id form as written. */
  arrows: Map<string, string>;
}

function readDiagram(markdown: string): Diagram {
  const block = /```mermaid\n([\s\S]*?)```/.exec(markdown)?.[1];
  if (block === undefined) throw new Error('README.md has no ```mermaid block');
  const parts = new Map<string, string>();
  for (const match of block.matchAll(/^\s*(\w+)\["([^"<\s]+)/gm)) parts.set(match[1]!, match[2]!);
  const arrows = new Map<string, string>();
  for (const match of block.matchAll(/^\s*(\w+)\s*-->\s*(\w+)\s*$/gm)) {
    const [, from = '', to = ''] = match;
    for (const id of [from, to])
      if (!parts.has(id)) throw new Error(`the diagram's arrow uses an undeclared node "${id}"`);
    arrows.set(`${parts.get(from)} -> ${parts.get(to)}`, `${from} --> ${to}`);
  }
  return { parts, arrows };
}

describe('the architecture diagram', () => {
  it('draws exactly the imports between the parts of src/ and jarvis_agent/', () => {
    const diagram = readDiagram(readFileSync(README, 'utf8'));
    const idOf = new Map([...diagram.parts].map(([id, part]) => [part, id]));
    const graph = moduleGraph();
    const problems: string[] = [];
    for (const [edge, example] of graph) {
      if (diagram.arrows.has(edge)) continue;
      const [from = '', to = ''] = edge.split(' -> ');
      const missing = [from, to].filter((part) => !idOf.has(part));
      problems.push(
        missing.length > 0
          ? `add a node for ${missing.join(' and ')} and the arrow ${from} --> ${to} to README.md (${example})`
          : `add the arrow \`${idOf.get(from)} --> ${idOf.get(to)}\` to README.md: ${edge.replace(' -> ', ' imports ')} (${example})`,
      );
    }
    for (const [edge, written] of diagram.arrows) {
      if (!graph.has(edge)) {
        problems.push(
          `remove the arrow \`${written}\` from README.md: no file of ${edge.replace(' -> ', ' imports anything of ')}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });

  it('keeps the core independent of Jarvis: no file of src/ imports jarvis_agent/', () => {
    const intoJarvis = [...moduleGraph()]
      .filter(([edge]) => edge.startsWith('src/') && edge.split(' -> ')[1]?.startsWith('jarvis_agent'))
      .map(([, example]) => example);
    expect(intoJarvis).toEqual([]);
  });

  it('reads arrows and nodes as written', () => {
    const diagram = readDiagram(
      '```mermaid\nflowchart TD\n  a["src/api<br/>x"]\n  b["src/core"]\n  a --> b\n```\n',
    );
    expect([...diagram.arrows]).toEqual([['src/api -> src/core', 'a --> b']]);
    expect(() => readDiagram('```mermaid\n  a --> b\n```\n')).toThrow(/undeclared node "a"/);
  });
});
