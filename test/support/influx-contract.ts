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
  ajv.addSchema(contract as object, DOCUMENT_ID);
  return ajv;
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
