/**
 * Checks made in the browser before anything is sent: a JSON object where one is expected, and the
 * capabilities' `examples` in the shape the service requires. The service validates again; these only
 * spare the operator a round trip and say exactly what to fix.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** `text` as a JSON object; empty text is `fallback` (or an error when there is none). */
export function parseJsonObject(
  text: string,
  what: string,
  fallback?: Record<string, unknown>,
): Parsed<Record<string, unknown>> {
  if (text.trim() === '') {
    return fallback === undefined
      ? { ok: false, error: `${what} is empty: enter a JSON object` }
      : { ok: true, value: fallback };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `${what} is not valid JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      error: `${what} must be a JSON object ({...}), not ${Array.isArray(value) ? 'an array' : String(value)}`,
    };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Capabilities: a JSON object whose `examples`, when present, is a list of non-empty strings. */
export function parseCapabilities(text: string): Parsed<Record<string, unknown>> {
  const parsed = parseJsonObject(text, 'Capabilities', {});
  if (!parsed.ok) return parsed;
  const examples = parsed.value.examples;
  if (examples !== undefined) {
    if (!Array.isArray(examples))
      return { ok: false, error: 'Capabilities: "examples" must be a list of sample queries' };
    if (examples.length > 2000)
      return { ok: false, error: 'Capabilities: "examples" holds at most 2000 queries' };
    const bad = examples.findIndex((e) => typeof e !== 'string' || e.trim() === '' || e.length > 2000);
    if (bad >= 0) {
      return {
        ok: false,
        error: `Capabilities: examples[${bad}] must be a non-empty string of at most 2000 characters`,
      };
    }
  }
  return parsed;
}

const TAG = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/** Comma-separated tags. */
export function parseTags(text: string): Parsed<string[]> {
  const tags = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const bad = tags.find((t) => !TAG.test(t));
  if (bad !== undefined)
    return { ok: false, error: `Tag "${bad}" may hold only letters, digits and _ . : / -` };
  if (new Set(tags).size !== tags.length) return { ok: false, error: 'Tags must not repeat' };
  return { ok: true, value: tags };
}

export function checkAgentName(name: string): string | undefined {
  return name === '' || NAME.test(name)
    ? undefined
    : 'Name: a letter or underscore, then letters, digits, underscores or hyphens (at most 128)';
}
