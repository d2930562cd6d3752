import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Validates Rota's answers against InfluxDB's own published contract (the vendored
 * subset in test/contract/influxdb, extracted by scripts/extract-influx-contract.mjs):
 * the schema of an operation's response for a status is looked up in the document and
 * compiled with its `$ref`s resolved from the document itself, so no schema is written
 * by hand here.
 */

const CONTRACT_URL = new URL('../contract/influxdb/oss-subset.json', import.meta.url);
const DOCUMENT_ID = 'influxdb-oss';
/** The contract's paths are relative to its server, `/api/v2`. */
const SERVER_BASE = '/api/v2';

interface ResponseObject {
  $ref?: string;
  content?: Record<string, { schema?: unknown }>;
}
interface Contract {
  paths: Record<string, Record<string, { responses?: Record<string, ResponseObject> }>>;
  components: { responses?: Record<string, ResponseObject> };
}

export interface InfluxOperation {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** The contract's path template, with or without `/api/v2`: `/tasks/{taskID}/runs`. */
  path: string;
}

export interface InfluxResponse {
  status: number;
  /** The parsed JSON body; `undefined` for an empty one. */
  body: unknown;
}

const contract = JSON.parse(readFileSync(CONTRACT_URL, 'utf8')) as Contract;

function buildAjv(): Ajv {
  // strict off: the document carries OpenAPI keywords (`example`, `readOnly`, `nullable`) beside JSON Schema.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // InfluxDB serves its `links` as relative references (`/api/v2/tasks/1`), as its own
  // examples show, though the contract says `uri`; held to `uri`, InfluxDB fails too.
  ajv.addFormat('uri', ajv.formats['uri-reference'] ?? true);
  // Formats the contract names without defining: Flux source and Flux durations.
  ajv.addFormat('flux', true);
  ajv.addFormat('duration', /^(-?\d+(ns|us|µs|ms|s|m|h|d|w|mo|y))+$|^0$/);
  ajv.addSchema(withDiscriminators(contract) as object, DOCUMENT_ID);
  return ajv;
}

/**
 * OpenAPI's `discriminator` picks the one branch of a `oneOf` that a value's property
 * names, where plain JSON Schema tries every branch: InfluxDB's endpoint and check
 * branches share a base with no per-branch `type`, so an http endpoint also matches the
 * Slack branch and `oneOf` fails for InfluxDB's own answers. Each such `oneOf` becomes
 * the mapping it declares: the property must name a mapped branch, and that branch must hold.
 */
function withDiscriminators(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withDiscriminators);
  if (typeof node !== 'object' || node === null) return node;
  const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, withDiscriminators(v)]));
  const discriminator = out.discriminator as
    | { propertyName?: string; mapping?: Record<string, string> }
    | undefined;
  if (!Array.isArray(out.oneOf) || !discriminator?.propertyName || !discriminator.mapping) return out;
  const property = discriminator.propertyName;
  const { oneOf: _oneOf, discriminator: _d, ...rest } = out;
  return {
    ...rest,
    required: [...new Set([...((rest.required as string[] | undefined) ?? []), property])],
    properties: {
      ...(rest.properties as object | undefined),
      [property]: { enum: Object.keys(discriminator.mapping) },
    },
    allOf: Object.entries(discriminator.mapping).map(([value, ref]) => ({
      if: { properties: { [property]: { const: value } }, required: [property] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
      then: { $ref: ref },
    })),
  };
}

const ajv = buildAjv();
const compiled = new Map<string, ValidateFunction>();

const escapePointer = (token: string) => token.replaceAll('~', '~0').replaceAll('/', '~1');

/** The JSON pointer, in the document, of the schema an operation answers `status` with. */
export function responseSchemaPointer(operation: InfluxOperation, status: number): string | undefined {
  const path = operation.path.startsWith(SERVER_BASE)
    ? operation.path.slice(SERVER_BASE.length)
    : operation.path;
  const method = operation.method.toLowerCase();
  const responses = contract.paths[path]?.[method]?.responses;
  if (!responses) throw new Error(`the contract has no operation ${operation.method} ${path}`);
  const key = String(status) in responses ? String(status) : 'default';
  const response = responses[key];
  if (!response) throw new Error(`${operation.method} ${path} declares no response ${status} and no default`);
  let pointer = `/paths/${escapePointer(path)}/${method}/responses/${key}`;
  let target = response;
  if (response.$ref) {
    const name = response.$ref.replace('#/components/responses/', '');
    const shared = contract.components.responses?.[name];
    if (!shared) throw new Error(`unresolved response ${response.$ref}`);
    pointer = `/components/responses/${escapePointer(name)}`;
    target = shared;
  }
  if (target.content?.['application/json']?.schema === undefined) return undefined;
  return `${pointer}/content/${escapePointer('application/json')}/schema`;
}

/**
 * The contract violations of one response, as `instancePath message` lines; empty when
 * it conforms. A status the operation declares without a body must come with none.
 */
export function influxViolations(operation: InfluxOperation, response: InfluxResponse): string[] {
  const pointer = responseSchemaPointer(operation, response.status);
  if (pointer === undefined) {
    return response.body === undefined || response.body === ''
      ? []
      : [`status ${response.status} declares no body, got ${JSON.stringify(response.body).slice(0, 80)}`];
  }
  let validate = compiled.get(pointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` });
    compiled.set(pointer, validate);
  }
  if (validate(response.body)) return [];
  return (validate.errors ?? []).map(describe);
}

function describe(error: ErrorObject): string {
  const params = error.keyword === 'enum' ? ` ${JSON.stringify(error.params)}` : '';
  return `${error.instancePath || '/'} ${error.message ?? error.keyword}${params}`;
}

/**
 * The contract operation a concrete request was: `GET /api/v2/checks/01J…/labels` is
 * `GET /checks/{checkID}/labels`. A literal segment beats a parameter, so
 * `/tasks/{taskID}/runs` never reads as `/tasks/{taskID}/{x}`.
 */
export function operationOf(method: string, concretePath: string): InfluxOperation | undefined {
  const path = new URL(concretePath, 'http://x').pathname;
  const relative = path.startsWith(SERVER_BASE) ? path.slice(SERVER_BASE.length) : path;
  const segments = relative.split('/');
  const candidates = Object.keys(contract.paths).filter((template) => {
    const parts = template.split('/');
    return (
      parts.length === segments.length &&
      parts.every((part, i) => (part.startsWith('{') ? segments[i] !== '' : part === segments[i])) &&
      contract.paths[template]?.[method.toLowerCase()] !== undefined
    );
  });
  const literals = (template: string) => template.split('/').filter((part) => !part.startsWith('{')).length;
  const best = candidates.sort((a, b) => literals(b) - literals(a))[0];
  return best ? { method: method.toUpperCase() as InfluxOperation['method'], path: best } : undefined;
}
