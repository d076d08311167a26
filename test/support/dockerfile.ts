/**
 * @module test/support/dockerfile
 * Reads the project's Dockerfile into stages and instructions, so the runtime-layout test reproduces the
 * image from the Dockerfile itself (its COPY lists, ENV, USER, CMD, HEALTHCHECK) instead of restating it.
 * Covers the syntax the Dockerfile uses: line continuations, comments, `ARG` defaults in `FROM`, flags
 * such as `--from=`, exec-form (JSON) `CMD` and `HEALTHCHECK CMD`.
 */

export interface Instruction {
  /** Upper-case keyword: FROM, COPY, RUN, ... */
  readonly keyword: string;
  /** `--name=value` flags at the start of the arguments. */
  readonly flags: Readonly<Record<string, string>>;
  /** The arguments after the flags. */
  readonly args: string;
}

export interface Stage {
  readonly name: string | undefined;
  /** The base image, `ARG` defaults substituted. */
  readonly from: string;
  readonly instructions: readonly Instruction[];
}

export interface Copy {
  /** The stage copied from, or undefined for the build context. */
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
}

export function parseDockerfile(text: string): Stage[] {
  const globalArgs = new Map<string, string>();
  const stages: { name: string | undefined; from: string; instructions: Instruction[] }[] = [];
  for (const line of logicalLines(text)) {
    const instruction = parseInstruction(line);
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced, bare) => {
        const value = globalArgs.get(braced ?? bare);
        if (value === undefined) throw new Error(`FROM uses the undefined ARG ${braced ?? bare}`);
        return value;
      });
      stages.push({ name: as?.toUpperCase() === 'AS' ? name : undefined, from, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== 'ARG') throw new Error(`${instruction.keyword} before the first FROM`);
      const [name = '', value = ''] = instruction.args.split('=', 2);
      globalArgs.set(name, value);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

export function stage(stages: readonly Stage[], name: string): Stage {
  const found = stages.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`the Dockerfile has no stage "${name}"`);
  return found;
}

export function instructions(of: Stage, keyword: string): Instruction[] {
  return of.instructions.filter((instruction) => instruction.keyword === keyword);
}

/** The single instruction `keyword` of a stage (the last one wins, as in Docker). */
export function last(of: Stage, keyword: string): Instruction {
  const found = instructions(of, keyword).at(-1);
  if (found === undefined) throw new Error(`stage "${of.name}" has no ${keyword}`);
  return found;
}

export function copies(of: Stage): Copy[] {
  return instructions(of, 'COPY').map((copy) => {
    const words = copy.args.split(/\s+/);
    const destination = words.pop();
    if (destination === undefined || words.length === 0) throw new Error(`COPY ${copy.args}: no source`);
    return { from: copy.flags.from, sources: words, destination };
  });
}

/** The environment a stage's `ENV` instructions set (`ENV A=1 B="two"`). */
export function env(of: Stage): Record<string, string> {
  const result: Record<string, string> = {};
  for (const instruction of instructions(of, 'ENV')) {
    for (const match of instruction.args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      const [, name = '', raw = ''] = match;
      result[name] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    }
  }
  return result;
}

/** An exec-form (JSON array) command: `CMD [...]`, or the `CMD [...]` of a `HEALTHCHECK`. */
export function execForm(instruction: Instruction): string[] {
  const json =
    instruction.keyword === 'HEALTHCHECK' ? instruction.args.replace(/^CMD\s+/, '') : instruction.args;
  if (!json.startsWith('['))
    throw new Error(`${instruction.keyword} is not in exec form: ${instruction.args}`);
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((word) => typeof word === 'string')) {
    throw new Error(`${instruction.keyword}: not an array of strings`);
  }
  return parsed;
}

/** Instructions joined across `\` continuations, without comments and blank lines. */
function logicalLines(text: string): string[] {
  const result: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    result.push(`${pending}${line}`.trim());
    pending = '';
  }
  if (pending !== '') result.push(pending.trim());
  return result.filter((line) => line !== '');
}

function parseInstruction(line: string): Instruction {
  const keyword = line.split(/\s+/, 1)[0] ?? '';
  let rest = line.slice(keyword.length).trim();
  const flags: Record<string, string> = {};
  for (
    let flag = /^--([\w-]+)=(\S+)\s+/.exec(rest);
    flag !== null;
    flag = /^--([\w-]+)=(\S+)\s+/.exec(rest)
  ) {
    flags[flag[1] ?? ''] = flag[2] ?? '';
    rest = rest.slice(flag[0].length);
  }
  return { keyword: keyword.toUpperCase(), flags, args: rest };
}
