/**
 * Contract checks of the fake cloud's traffic: every request kiln sends and every answer a fake gives,
 * against the official descriptions (see README.md here for the sources and their limits). The
 * descriptions load once per process; a checker per fake cloud collects the violations.
 */
import { armChecker, loadArmContract } from './arm.js';
import { checkAdo } from './ado.js';
import { checkGithub } from './github.js';
import type { ContractService, ContractViolation, Exchange, ExchangeChecker } from './types.js';

export type { ContractService, ContractViolation, Exchange } from './types.js';

export interface ContractChecker {
  /** Checks one exchange of a service (services without a description are not checked). */
  check(service: string, exchange: Exchange): void;
  /** Every violation so far, in the order found. */
  readonly violations: ContractViolation[];
}

/** Loads the descriptions (cached per process) and returns a checker with its own violation list. */
export async function createContractChecker(): Promise<ContractChecker> {
  const checkers: Record<ContractService, ExchangeChecker> = {
    arm: armChecker(await loadArmContract()),
    github: checkGithub,
    ado: checkAdo,
  };
  const violations: ContractViolation[] = [];
  return {
    violations,
    check(service, exchange) {
      const checker = checkers[service as ContractService] as ExchangeChecker | undefined;
      if (!checker) return;
      try {
        violations.push(...checker(exchange));
      } catch (err) {
        // A checker bug must show, not pass silently as "no violation".
        violations.push({
          service: service as ContractService,
          operation: `${exchange.method} ${exchange.url.pathname}`,
          direction: 'response',
          field: '',
          rule: 'checker-error',
          detail: String((err as Error)?.stack ?? err),
        });
      }
    },
  };
}

/** One line per violation: operation, side, field, rule and detail. */
export function formatViolation(v: ContractViolation): string {
  return `${v.service} ${v.operation} ${v.direction} ${v.field}: ${v.rule} — ${v.detail}`;
}
