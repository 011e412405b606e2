import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

/**
 * Validates against Cliniko's own OpenAPI description: the response schema of an operation, or the
 * request body schema of one. OpenAPI 3.0's `nullable` is turned into JSON Schema first.
 */
type Doc = {
  paths: Record<string, Record<string, { responses?: Record<string, unknown>; requestBody?: unknown }>>;
  components: Record<string, Record<string, unknown>>;
};

const doc = parse(
  readFileSync(new URL('../../contract/cliniko-openapi.yaml', import.meta.url), 'utf8'),
) as Doc;

/** OpenAPI 3.0 → JSON Schema: `nullable: true` admits null; refs point into the registered doc. */
function convert(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convert);
  if (!node || typeof node !== 'object') return node;
  const obj = node as Record<string, unknown>;
  if (typeof obj.$ref === 'string') return { $ref: `cliniko${obj.$ref}` };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'nullable' || k === 'example' || k.startsWith('x-')) continue;
    out[k] = k === 'enum' ? v : convert(v);
  }
  // 3.0 marks a bound exclusive with a boolean; JSON Schema puts the bound itself there.
  for (const [flag, bound] of [
    ['exclusiveMaximum', 'maximum'],
    ['exclusiveMinimum', 'minimum'],
  ] as const) {
    if (typeof obj[flag] !== 'boolean') continue;
    if (obj[flag] === true) out[flag] = obj[bound];
    else delete out[flag];
    if (obj[flag] === true) delete out[bound];
  }
  if (obj.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  return out;
}

// Cliniko writes its e-mail pattern in capitals and applies it case-insensitively.
const ajv = new Ajv({
  strict: false,
  allErrors: true,
  validateFormats: true,
  code: {
    regExp: Object.assign((pattern: string, flags?: string) => new RegExp(pattern, `${flags ?? ''}i`), {
      code: 'new RegExp',
    }),
  },
});
addFormats.default(ajv);
for (const f of ['int64', 'int32', 'decimal', 'integer', 'float', 'double', 'phone']) ajv.addFormat(f, true);
const { schemas, requestBodies, responses, parameters } = doc.components;
ajv.addSchema({
  $id: 'cliniko',
  components: convert({ schemas, requestBodies, responses, parameters }) as object,
});

const cache = new Map<string, ValidateFunction>();

function compiled(key: string, schema: unknown): ValidateFunction {
  let fn = cache.get(key);
  if (!fn) {
    fn = ajv.compile(convert(schema) as object);
    cache.set(key, fn);
  }
  return fn;
}

function resolve(node: unknown): Record<string, unknown> {
  let n = node as Record<string, unknown>;
  while (n && typeof n.$ref === 'string') {
    const parts = (n.$ref as string).replace(/^#\//, '').split('/');
    n = parts.reduce<Record<string, unknown>>(
      (acc, p) => acc[p] as Record<string, unknown>,
      doc as unknown as Record<string, unknown>,
    );
  }
  return n;
}

export function responseErrors(path: string, method: string, status: number, body: unknown): string[] {
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`openapi.yaml has no ${method} ${path}`);
  const response = resolve(op.responses?.[String(status)]);
  const schema = (response?.content as Record<string, { schema: unknown }> | undefined)?.['application/json']
    ?.schema;
  if (!schema) throw new Error(`openapi.yaml has no ${status} JSON schema for ${method} ${path}`);
  const fn = compiled(`${method} ${path} ${status}`, schema);
  return fn(body) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

export function requestErrors(path: string, method: string, body: unknown): string[] {
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op?.requestBody) throw new Error(`openapi.yaml has no request body for ${method} ${path}`);
  const rb = resolve(op.requestBody);
  const schema = (rb.content as Record<string, { schema: unknown }>)['application/json']?.schema;
  const fn = compiled(`req ${method} ${path}`, schema);
  return fn(body) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
