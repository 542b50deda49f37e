// Validates a parsed topology document against topologies/clab.schema.json (the subset of
// containerlab's topology schema edgeflow uses; see the schema's description) with ajv.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import { topologiesDir } from './paths.js';

// ajv is CommonJS; under NodeNext its default export arrives as the module object.
const Ajv = ((AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule) as unknown as new (opts: object) => {
  compile(schema: object): ValidateFunction;
};

let validator: ValidateFunction | undefined;

export function clabSchemaPath(): string {
  return join(topologiesDir(), 'clab.schema.json');
}

function compiled(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(readFileSync(clabSchemaPath(), 'utf8'));
    validator = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
  }
  return validator;
}

function describe(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  if (e.keyword === 'additionalProperties') return `${where}: unknown key "${(e.params as { additionalProperty: string }).additionalProperty}" (containerlab rejects it too)`;
  if (e.keyword === 'enum') return `${where}: ${e.message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  return `${where}: ${e.message}`;
}

/** Schema errors of a parsed document, one line each; empty when valid. */
export function validateClabSchema(doc: unknown): string[] {
  const v = compiled();
  if (v(doc)) return [];
  return (v.errors ?? []).map(describe);
}
