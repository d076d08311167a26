/**
 * @module jarvis_agent/offline-model/render-response
 * Turns a tool's JSON result into a short readable reply: lists as one bullet line per item, objects
 * as `key: value` lines, empty lists said plainly, errors said as errors.
 */
import { type AnsweredCall, isRecord, type JsonRecord, looksLikeId } from './conversation-history.js';

/** Keys that name an item; shown right after its identifier. */
const LABEL_KEYS = ['title', 'name', 'summary', 'label', 'subject', 'course', 'service', 'team'];
/** Scalar fields shown per bullet line after the identifier and label. */
const MAX_BULLET_FIELDS = 6;
const MAX_DEPTH = 3;
const MAX_STRING = 300;

const NUMBER_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function humanize(key: string): string {
  return key.replace(/_/g, ' ');
}

function isScalar(value: unknown): value is string | number | boolean | null | undefined {
  return value === null || value === undefined || ['string', 'number', 'boolean'].includes(typeof value);
}

/** One scalar as text: numbers grouped (12,345.6), booleans as yes/no, nothing as "none". */
export function formatScalar(value: unknown): string {
  if (value === null || value === undefined || value === '') return 'none';
  if (typeof value === 'number') return Number.isFinite(value) ? NUMBER_FORMAT.format(value) : String(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  const text = String(value);
  return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING - 1)}…` : text;
}

function compact(value: unknown): string {
  if (isScalar(value)) return formatScalar(value);
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(compact).join(', ');
  return Object.entries(value as JsonRecord)
    .map(([key, inner]) => `${humanize(key)} ${compact(inner)}`)
    .join(', ');
}

/** One item of a list as a single line: `INC-1002: VPN drops (status: open, priority: high)`. */
export function bulletLine(item: unknown): string {
  if (!isRecord(item)) return `- ${compact(item)}`;
  const entries = Object.entries(item);
  const idEntry = entries.find(
    ([key, value]) => key === 'id' || (key.endsWith('_id') && isScalar(value)) || looksLikeId(value),
  );
  const labelEntry = entries.find(
    ([key, value]) => key !== idEntry?.[0] && LABEL_KEYS.includes(key) && isScalar(value),
  );
  const head = [idEntry, labelEntry]
    .filter((entry) => entry !== undefined)
    .map(([, value]) => formatScalar(value))
    .join(': ');
  const rest = entries
    .filter(([key]) => key !== idEntry?.[0] && key !== labelEntry?.[0])
    .slice(0, MAX_BULLET_FIELDS)
    .map(([key, value]) => `${humanize(key)}: ${compact(value)}`);
  if (head === '') return `- ${rest.join(', ')}`;
  return rest.length > 0 ? `- ${head} (${rest.join(', ')})` : `- ${head}`;
}

function renderList(key: string, items: readonly unknown[], indent: string): string[] {
  if (items.length === 0) return [`${indent}No ${humanize(key)} found.`];
  return [
    `${indent}${humanize(key)} (${items.length}):`,
    ...items.map((item) => `${indent}${bulletLine(item)}`),
  ];
}

function renderObject(value: JsonRecord, indent: string, depth: number): string[] {
  const lines: string[] = [];
  for (const [key, inner] of Object.entries(value)) {
    if (isScalar(inner)) lines.push(`${indent}${humanize(key)}: ${formatScalar(inner)}`);
    else if (Array.isArray(inner) && inner.every(isScalar)) {
      lines.push(
        inner.length === 0
          ? `${indent}No ${humanize(key)} found.`
          : `${indent}${humanize(key)}: ${compact(inner)}`,
      );
    } else if (Array.isArray(inner)) lines.push(...renderList(key, inner, indent));
    else if (depth >= MAX_DEPTH) lines.push(`${indent}${humanize(key)}: ${compact(inner)}`);
    else
      lines.push(
        `${indent}${humanize(key)}:`,
        ...renderObject(inner as JsonRecord, `${indent}  `, depth + 1),
      );
  }
  return lines;
}

/** `name (status: open, priority: high)`: which call a rendered result answers. */
function callLabel(call: AnsweredCall): string {
  const args = Object.entries(call.args)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${humanize(key)}: ${compact(value)}`);
  return args.length > 0 ? `${call.name} (${args.join(', ')})` : call.name;
}

/** The readable reply for one answered function call (without the offline marker). */
export function renderFunctionResponse(call: AnsweredCall): string {
  const { response } = call;
  const keys = Object.keys(response);
  if (typeof response.error === 'string' || (keys.length === 1 && keys[0] === 'error')) {
    // ADK prefixes the tool's own message with "Error in tool 'name': "; the label already names the tool.
    const message = compact(response.error).replace(/^Error in tool '[^']*':\s*/, '');
    return `${callLabel(call)} failed: ${message}`;
  }
  let body: string[];
  if (keys.length === 0) body = ['It returned nothing.'];
  else if (keys.length === 1 && keys[0] === 'result' && isScalar(response.result))
    body = [formatScalar(response.result)];
  else if (keys.length === 1 && Array.isArray(response.results)) {
    body = response.results.length === 0 ? ['No results found.'] : response.results.map(bulletLine);
  } else body = renderObject(response, '', 1);
  return [`Result of ${callLabel(call)}:`, ...body].join('\n');
}
