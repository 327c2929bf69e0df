/**
 * What the contract checkers see and what they report. One `Exchange` is one HTTP request a fake
 * received and the answer it gave; a `ContractViolation` names the operation, the side (what kiln
 * sent, or what the fake answered), the field and the rule of the official description it breaks.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export type ContractService = 'arm' | 'github' | 'ado';

export interface Exchange {
  method: string;
  url: URL;
  requestHeaders: IncomingHttpHeaders;
  /** Raw request body ('' when none). */
  requestBody: string;
  status: number;
  responseHeaders: OutgoingHttpHeaders;
  /** Raw response body ('' when none). */
  responseBody: string;
}

export interface ContractViolation {
  service: ContractService;
  /** The operation as its description names it, e.g. `GET /orgs/{org}/actions/runners` or `virtualMachineScaleSets.get`. */
  operation: string;
  direction: 'request' | 'response';
  /** Where: `status`, `query.api-version`, `path.runner_id`, `body/runners/0/status`, … */
  field: string;
  /** Which rule: `required`, `type`, `enum`, `documented-status`, `known-operation`, … */
  rule: string;
  detail: string;
}

/** Checks one exchange of one service; returns the violations (empty when it keeps the contract). */
export type ExchangeChecker = (exchange: Exchange) => ContractViolation[];

/** Parses a JSON body: `value` undefined for an empty body, `ok: false` when it does not parse. */
export function parseBody(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
