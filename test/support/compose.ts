/**
 * @module test/support/compose
 * Reads docker-compose.yml the way Compose does for the parts the tests run: YAML merge keys (`<<:`) and
 * `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}` and `$$` interpolation of
 * every string value, before profiles are applied (as Compose does).
 */
import { parse } from 'yaml';

export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  profiles?: string[];
  deploy?: { replicas?: number };
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
}

type Vars = Readonly<Record<string, string | undefined>>;

/** Parse and interpolate a compose file; throws Compose's "required variable" error like `docker compose`. */
export function loadCompose(text: string, vars: Vars): ComposeFile {
  return interpolateAll(parse(text, { merge: true }), vars) as ComposeFile;
}

export function service(compose: ComposeFile, name: string): ComposeService {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

export function interpolate(value: string, vars: Vars): string {
  return value.replace(
    /\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)/g,
    (match, braced: string | undefined, operator: string | undefined, argument: string, bare: string) => {
      if (match === '$$') return '$';
      const name = braced ?? bare;
      const current = vars[name];
      const missing = operator?.startsWith(':')
        ? current === undefined || current === ''
        : current === undefined;
      if (operator?.endsWith('?') && missing) {
        throw new Error(`required variable ${name} is missing a value: ${argument}`);
      }
      if (operator?.endsWith('-') && missing) return argument;
      return current ?? '';
    },
  );
}

function interpolateAll(value: unknown, vars: Vars): unknown {
  if (typeof value === 'string') return interpolate(value, vars);
  if (Array.isArray(value)) return value.map((item) => interpolateAll(item, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateAll(item, vars)]));
  }
  return value;
}
