/**
 * @module jarvis_agent/offline-model/tool-specs
 * A normalised view of the function declarations an ADK request offers the model, read from
 * `llmRequest.config.tools` so that any tool kind (function, MCP, agent-as-tool) is seen the same way.
 */
import type { LlmRequest } from '@google/adk';

export type ParamType = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | 'unknown';

export interface ParamSpec {
  readonly name: string;
  readonly description: string;
  readonly type: ParamType;
  /** Allowed values, merged over `anyOf` branches (e.g. `['this_month', 'last_month']`). */
  readonly enumValues: readonly string[];
  /** Regular-expression patterns of the string branches (e.g. `^\d{4}-\d{2}$`). */
  readonly patterns: readonly string[];
  readonly required: boolean;
  readonly minimum: number | undefined;
  readonly maximum: number | undefined;
}

export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly params: readonly ParamSpec[];
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  // ADK's zod conversion turns some bounds into strings.
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

const PARAM_TYPES: readonly ParamType[] = ['string', 'integer', 'number', 'boolean', 'array', 'object'];

function typeOf(schema: JsonObject): ParamType | undefined {
  const raw = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  const lower = asString(raw).toLowerCase();
  return PARAM_TYPES.find((type) => type === lower);
}

/** Reads one parameter's JSON schema (Gemini `Schema` with upper-case types, or plain JSON Schema). */
function readParam(name: string, schema: unknown, required: boolean): ParamSpec {
  const node = isObject(schema) ? schema : {};
  const branches = [
    node,
    ...(Array.isArray(node.anyOf) ? node.anyOf : []),
    ...(Array.isArray(node.oneOf) ? node.oneOf : []),
  ].filter(isObject);
  const enumValues: string[] = [];
  const patterns: string[] = [];
  let type: ParamType | undefined;
  let minimum: number | undefined;
  let maximum: number | undefined;
  for (const branch of branches) {
    type ??= typeOf(branch);
    if (Array.isArray(branch.enum)) {
      for (const value of branch.enum) if (typeof value === 'string') enumValues.push(value);
    }
    if (typeof branch.pattern === 'string') patterns.push(branch.pattern);
    minimum ??= asNumber(branch.minimum);
    maximum ??= asNumber(branch.maximum);
  }
  return {
    name,
    description: asString(node.description),
    type: type ?? 'unknown',
    enumValues,
    patterns,
    required,
    minimum,
    maximum,
  };
}

/** Reads one function declaration; `undefined` when it has no usable name. */
export function readToolSpec(declaration: unknown): ToolSpec | undefined {
  if (!isObject(declaration) || typeof declaration.name !== 'string' || declaration.name === '')
    return undefined;
  const schema = isObject(declaration.parameters)
    ? declaration.parameters
    : isObject(declaration.parametersJsonSchema)
      ? declaration.parametersJsonSchema
      : {};
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(
    Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === 'string') : [],
  );
  return {
    name: declaration.name,
    description: asString(declaration.description),
    params: Object.entries(properties).map(([param, paramSchema]) =>
      readParam(param, paramSchema, required.has(param)),
    ),
  };
}

/** Every function declaration the request offers, in declaration order. */
export function readToolSpecs(request: Pick<LlmRequest, 'config'>): ToolSpec[] {
  const specs: ToolSpec[] = [];
  for (const tool of request.config?.tools ?? []) {
    const declarations =
      isObject(tool) && Array.isArray(tool.functionDeclarations) ? tool.functionDeclarations : [];
    for (const declaration of declarations) {
      const spec = readToolSpec(declaration);
      if (spec !== undefined) specs.push(spec);
    }
  }
  return specs;
}
