/**
 * The one Ajv set-up shared by the JSON-schema based checkers (GitHub's OpenAPI description), and
 * the translation of Ajv's errors into violations. OpenAPI 3.0 schemas carry keywords that are not
 * JSON Schema (`nullable`, `example`, `x-*`): Ajv knows `nullable` and, not strict, skips the rest.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ContractService, ContractViolation } from './types.js';

// ajv-formats is CommonJS; its default export arrives wrapped depending on the loader.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

export function newAjv(): Ajv {
  // validateSchema off: the documents are whole OpenAPI descriptions, not JSON schemas themselves.
  const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true, logger: false });
  addFormats(ajv);
  return ajv;
}

/** Turns Ajv errors on a body into violations (field `body/<json pointer>`, rule = the schema keyword). */
export function ajvViolations(
  errors: ErrorObject[] | null | undefined,
  base: Pick<ContractViolation, 'operation' | 'direction'> & { service: ContractService },
): ContractViolation[] {
  const out: ContractViolation[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    let field = `body${e.instancePath}`;
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'required') field += `/${String(params.missingProperty)}`;
    if (e.keyword === 'additionalProperties') field += `/${String(params.additionalProperty)}`;
    let detail = e.message ?? e.keyword;
    if (e.keyword === 'enum') detail += `: ${JSON.stringify(params.allowedValues)}`;
    const key = `${field} ${e.keyword}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...base, field, rule: e.keyword, detail: `${detail} (schema ${e.schemaPath})` });
  }
  return out;
}

export type { ValidateFunction };
