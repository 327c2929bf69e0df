/**
 * The simulation report (format version 1, docs/scenarios.md): what `kiln simulate` prints as
 * JSON, and its readable text rendering.
 */
import { describeChange, type SoftwareChange } from '../../domain/software-report.js';
import type { RebuildOutput } from '../../orchestrations/rebuild.js';
import type { ContractViolation } from '../contracts/types.js';
import type { AuthorizationFailure } from '../fake-cloud/access.js';
import type { Violation } from '../fake-cloud/world.js';
import type { RolloutKind } from '../../orchestrations/rollout.js';
import type { RegistrationsRemoved } from './removals.js';
import type { SettingUsed } from './settings-used.js';
import type { WorkloadReport } from './workload-report.js';

export type Outcome = 'succeeded' | 'partial' | 'rolledBack' | 'failed' | 'planned';

export interface ReportEvent {
  at: string;
  flow: string;
  message: string;
}

export interface SimulationReport {
  scenario: string;
  outcome: Outcome;
  /** The outcomes the scenario expects (its `expect.outcome`; default succeeded, or planned in a dry run). */
  expected: Outcome[];
  /**
   * Invariants kiln broke, judged by the simulator from the world's truth, whatever kiln reported:
   * S1-S5, S8 (forward only), S9 (nothing half-done, an honest report).
   */
  violations: Violation[];
  /**
   * Every request the fake cloud refused for want of a role (ARM 403 AuthorizationFailed or
   * LinkedAuthorizationFailed, Key Vault 403 ForbiddenByRbac, a guest or Packer refused), in order.
   * kiln's Bicep grants what its flows need, so any entry is a defect in the roles or the flows.
   */
  authorizationFailures: AuthorizationFailure[];
  /**
   * Requests kiln sent or answers the fakes gave that break the official API descriptions (GitHub's
   * OpenAPI, the Azure SDKs' operation specs, Azure DevOps' REST reference): src/local/contracts.
   */
  contractViolations: ContractViolation[];
  dryRun: boolean;
  /**
   * The settings the app ran with that differ from kiln's defaults (name, value, where it came from),
   * besides the fake cloud's endpoints, identities and names and DRY_RUN; values that look like a
   * credential are masked.
   */
  settings: SettingUsed[];
  images: Record<
    string,
    {
      version: string;
      state: string;
      regions: string[];
      reason?: string;
      /** What the new version holds next to the promoted one (its software report's diff). */
      changes?: SoftwareChange[];
      /** How the approval PROMOTION_GATE asked for ended. */
      approval?: RebuildOutput['approval'];
      /** What the rebuild could not tidy up (a managed image it published from), with why. */
      leftBehind?: string[];
      /** A promoted version: when the last managed instance of the image ran it (absent: never all of them). */
      fleetUpdatedAt?: string;
      /** From the end of the build until `fleetUpdatedAt`. */
      minutesToFleetUpdated?: number;
      /** The least each could have been (the critical path of the image's rebuild). */
      lowerBound?: { fleetUpdatedAt: string; minutesToFleetUpdated: number };
    }
  >;
  scaleSets: Record<
    string,
    {
      state: string;
      version: string;
      previousVersion: string;
      instancesUpdated: number;
      instancesPending: number;
      managed: boolean;
      /** Why it was rolled back, refused, left pending or untouched. */
      reason?: string;
    }
  >;
  jobsInterrupted: number;
  /** What the fake cloud deleted, whoever asked: the world's own count. */
  deleted: { githubRunners: string[]; adoAgents: string[]; galleryVersions: string[]; instances: string[] };
  /**
   * The runners and agents kiln deleted, by why, from its runs' own outputs: hygiene's ghosts, offline
   * registrations past the grace period and recycled agents, the runners rollouts removed while
   * draining instances, and the offline runners the registration broker replaced. Each `total`
   * equals the length of the matching `deleted` list when every deletion is accounted for.
   */
  registrationsRemoved: RegistrationsRemoved;
  foreignTouched: number;
  /**
   * Instances of broker-mode scale sets that registered through kiln's registration broker, and the
   * broker's refusals by `<status> <reason>` (a retried 429 counts each time).
   */
  registrations: { brokered: number; refused: Record<string, number> };
  /**
   * Registration secrets (GitHub App key or PAT, Azure DevOps PAT) that a runner or agent identity
   * may read from Key Vault, so a job on the VM could too: 0 when every fleet registers through the broker.
   */
  secretsReachableFromVms: number;
  apiCalls: Record<string, number>;
  /** Injected faults that fired, by service:operation (kiln had to retry or fail over each one). */
  faultsInjected: Record<string, number>;
  virtualMinutes: number;
  criticalPathMinutes: number;
  /**
   * What the scenario's job demand (its `workload`) met: jobs, their queue waits, the managed
   * instances' idle and busy minutes, capacity changes, and the oracle's plan for the same arrivals.
   * Present only when the scenario has a workload.
   */
  workload?: WorkloadReport;
  maxHistoryEvents: number;
  /** Fleet hygiene decisions over all cleanup runs (identical in a dry run and a real run). */
  hygiene: {
    runs: number;
    decisions: {
      removeRunners: string[];
      removeAgents: string[];
      reimage: string[];
      /** Instances of recycle scale sets whose one job was done (`<scaleSet>_<instanceId>`). */
      recycle: string[];
      keptBusy: string[];
      foreign: string[];
    };
    errors: string[];
  };
  /**
   * Every rollout that ran (one per image version: S5). `source` is who started it (http, eventgrid,
   * rebuild); `kind` what it was: http, eventgrid, or a rebuild's canary, promotion or restore (the
   * canary put back).
   */
  rollouts: {
    definition: string;
    version: string;
    source: string;
    kind: RolloutKind;
    state: string;
    reason?: string;
  }[];
  /** Orchestration instances at the end of the run (a singleton re-run counts once; `hygiene.runs` counts runs). */
  orchestrations: {
    instances: number;
    completed: number;
    failed: { instanceId: string; error: string }[];
    running: string[];
  };
  events: ReportEvent[];
}

/**
 * 0 when every run ended as the scenario expects, every invariant held, no request was refused
 * for want of a role and every exchange kept the API contracts; 1 otherwise.
 */
export function exitCodeFor(report: SimulationReport): 0 | 1 {
  return report.violations.length === 0 &&
    report.authorizationFailures.length === 0 &&
    report.contractViolations.length === 0 &&
    report.expected.includes(report.outcome)
    ? 0
    : 1;
}

export function renderText(
  report: SimulationReport,
  range: {
    start: string;
    until: string;
    latency?: { provision: number; register: number };
    /** The scenario's autoscaled scale sets (an `autoscale` block). */
    autoscaled?: string[];
  },
): string {
  const lines: string[] = [];
  const time = (iso: string) => iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z');
  lines.push(`kiln simulate — scenario "${report.scenario}"${report.dryRun ? ' (dry run)' : ''}`);
  lines.push(`virtual time ${time(range.start)} → ${time(range.until)}`);
  lines.push('');
  lines.push("Settings (those that differ from kiln's defaults)");
  const width = Math.max(0, ...report.settings.map((s) => s.name.length));
  for (const s of report.settings) lines.push(`  ${s.name.padEnd(width)} = ${s.value}  (${s.from})`);
  if (report.settings.length === 0) lines.push("  (kiln's defaults)");
  lines.push('');
  lines.push('Timeline');
  const runs = collapseRepeats(report.events);
  const shown = runs.slice(0, 200);
  for (const { first, last, count } of shown) {
    const repeats = count > 1 ? `  ×${count}${last.at !== first.at ? ` (until ${time(last.at)})` : ''}` : '';
    lines.push(`  ${time(first.at)}  ${first.flow.padEnd(8)} ${first.message}${repeats}`);
  }
  const hidden = runs.slice(shown.length).reduce((n, run) => n + run.count, 0);
  if (hidden > 0) lines.push(`  … ${hidden} more events (--report json has them all)`);
  if (report.events.length === 0) lines.push('  (nothing happened)');
  if (Object.keys(report.images).length > 0) {
    lines.push('');
    lines.push('Images');
    for (const [image, i] of Object.entries(report.images)) {
      lines.push(
        `  ${image.padEnd(24)} ${i.state.padEnd(10)} ${i.version}  regions: ${i.regions.join(', ') || '—'}`,
      );
      if (i.reason) lines.push(`  ${''.padEnd(24)} ${i.reason}`);
      if (i.fleetUpdatedAt)
        lines.push(
          `  ${''.padEnd(24)} fleet updated at ${i.fleetUpdatedAt}, ${i.minutesToFleetUpdated} min after the build${i.lowerBound ? ` (at best ${i.lowerBound.minutesToFleetUpdated} min)` : ''}`,
        );
      for (const c of i.changes ?? [])
        lines.push(`  ${''.padEnd(24)} ${c.kind.padEnd(8)} ${describeChange(c)}`);
      if (i.approval?.decision)
        lines.push(
          `  ${''.padEnd(24)} approval: ${i.approval.decision}${i.approval.by ? ` by ${i.approval.by}` : ''}${i.approval.at ? ` at ${i.approval.at}` : ''}`,
        );
    }
  }
  lines.push('');
  lines.push('Scale sets');
  for (const [name, s] of Object.entries(report.scaleSets)) {
    const from = s.previousVersion !== s.version ? ` (from ${s.previousVersion})` : '';
    const counts =
      s.instancesUpdated || s.instancesPending
        ? `, ${s.instancesUpdated} updated, ${s.instancesPending} pending`
        : '';
    const scope = s.managed ? '' : '  (not managed: outside kiln scope)';
    lines.push(`  ${name.padEnd(24)} ${s.state.padEnd(10)} ${s.version}${from}${counts}${scope}`);
    if (s.reason) lines.push(`  ${''.padEnd(24)} ${s.reason}`);
  }
  const d = report.hygiene.decisions;
  if (report.rollouts.length > 0) {
    lines.push('');
    lines.push('Rollouts');
    for (const r of report.rollouts)
      lines.push(
        `  ${r.kind.padEnd(10)} ${r.definition} ${r.version}: ${r.state}${r.reason ? ` — ${r.reason}` : ''}`,
      );
  }
  lines.push('');
  lines.push('Hygiene (what the cleanup runs decided, each registration or instance once)');
  lines.push(`  cleanup runs          ${report.hygiene.runs}`);
  lines.push(
    `  runners to remove     ${d.removeRunners.length}${d.removeRunners.length ? `  (${abbreviate(d.removeRunners)})` : ''}`,
  );
  lines.push(
    `  agents to remove      ${d.removeAgents.length}${d.removeAgents.length ? `  (${abbreviate(d.removeAgents)})` : ''}`,
  );
  lines.push(
    `  instances to reimage  ${d.reimage.length}${d.reimage.length ? `  (${abbreviate(d.reimage)})` : ''}`,
  );
  lines.push(
    `  instances to recycle  ${d.recycle.length}${d.recycle.length ? `  (${abbreviate(d.recycle)})` : ''}`,
  );
  lines.push(
    `  kept busy             ${d.keptBusy.length}${d.keptBusy.length ? `  (${abbreviate(d.keptBusy)})` : ''}`,
  );
  lines.push(`  foreign (untouched)   ${d.foreign.length}`);
  for (const error of report.hygiene.errors) lines.push(`  error: ${error}`);
  lines.push('');
  lines.push(...renderRemovals(report));
  if (report.workload) {
    lines.push('');
    lines.push(...renderWorkload(report.workload, range.latency, range.autoscaled ?? []));
  }
  lines.push('');
  lines.push('Summary');
  const asExpected = report.expected.includes(report.outcome);
  lines.push(
    `  outcome               ${report.outcome}${asExpected ? '' : `  (NOT AS EXPECTED: ${report.expected.join(' or ')})`}`,
  );
  lines.push(
    `  invariants            ${report.violations.length === 0 ? 'all held' : `${report.violations.length} violation(s)`}`,
  );
  for (const v of report.violations)
    lines.push(`    ${v.invariant} ${v.subject} at ${time(v.at)}: ${v.detail}`);
  lines.push(
    `  authorization         ${report.authorizationFailures.length === 0 ? 'no request refused' : `${report.authorizationFailures.length} refusal(s)`}`,
  );
  for (const f of report.authorizationFailures)
    lines.push(`    ${f.code} at ${time(f.at)}: ${f.identity} may not ${f.action} on ${f.scope}`);
  lines.push(
    `  API contracts         ${report.contractViolations.length === 0 ? 'all kept' : `${report.contractViolations.length} violation(s)`}`,
  );
  // The same break repeats on every like exchange: each distinct one once.
  for (const c of new Set(
    report.contractViolations.map((v) => `${v.service} ${v.operation} ${v.direction} ${v.field}: ${v.rule}`),
  ))
    lines.push(`    ${c}`);
  lines.push(`  jobs interrupted      ${report.jobsInterrupted}`);
  lines.push(`  foreign touched       ${report.foreignTouched}`);
  const refused = Object.entries(report.registrations.refused);
  lines.push(
    `  registrations         ${report.registrations.brokered} brokered${refused.length ? `, refused ${refused.map(([k, v]) => `${k} ×${v}`).join(', ')}` : ''}`,
  );
  lines.push(`  secrets VMs can read  ${report.secretsReachableFromVms}`);
  lines.push(
    `  deleted               ${report.deleted.githubRunners.length} GitHub runners, ${report.deleted.adoAgents.length} Azure DevOps agents, ` +
      `${report.deleted.galleryVersions.length} gallery versions, ${report.deleted.instances.length} instances`,
  );
  lines.push(
    `  API calls             ${Object.entries(report.apiCalls)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  const faults = Object.entries(report.faultsInjected);
  if (faults.length) lines.push(`  faults injected       ${faults.map(([k, v]) => `${k} ×${v}`).join(', ')}`);
  lines.push(
    `  virtual minutes       ${report.virtualMinutes} (critical path ${report.criticalPathMinutes})`,
  );
  lines.push(`  max history events    ${report.maxHistoryEvents}`);
  for (const f of report.orchestrations.failed) lines.push(`  FAILED ${f.instanceId}: ${f.error}`);
  return lines.join('\n') + '\n';
}

/**
 * What kiln removed, by why, and whether that accounts for every deletion the fake cloud counted: a
 * deletion kiln does not account for is named, not hidden in a total.
 */
function renderRemovals(report: SimulationReport): string[] {
  const { githubRunners: runners, adoAgents: agents } = report.registrationsRemoved;
  const runnerCount = (n: number) => `${n} GitHub runner${n === 1 ? '' : 's'}`;
  const both = (r: number, a: number) => `${runnerCount(r)}, ${a} Azure DevOps agent${a === 1 ? '' : 's'}`;
  const accounted = (what: string, total: number, deleted: number) =>
    total === deleted ? [] : [`${what}: kiln's runs count ${total}, the fake cloud deleted ${deleted}`];
  const gaps = [
    ...accounted('GitHub runners', runners.total, report.deleted.githubRunners.length),
    ...accounted('Azure DevOps agents', agents.total, report.deleted.adoAgents.length),
  ];
  const row = (label: string, value: string) => `  ${label.padEnd(24)}${value}`;
  return [
    'Registrations removed (by kiln, and why)',
    row('ghosts removed', `${both(runners.ghosts, agents.ghosts)}  (their VM is gone)`),
    row('offline removed', `${both(runners.offline, agents.offline)}  (offline past the grace period)`),
    row('recycled agents removed', `${agents.recycled}  (before their one-job machine was reimaged)`),
    row('removed while draining', `${runnerCount(runners.whileDraining)}  (by rollouts, before an upgrade)`),
    row(
      'replaced by the broker',
      `${runnerCount(runners.replacedByBroker)}  (offline, of an instance that asked for a new one)`,
    ),
    row(
      'total',
      `${both(runners.total, agents.total)}${gaps.length ? `  (NOT ACCOUNTED FOR: ${gaps.join('; ')})` : '  (every deletion the fake cloud counted)'}`,
    ),
  ];
}

/**
 * The workload next to the oracle: the waits against what a new machine takes to serve (provisioning
 * plus registration), the idle minutes as a multiple of the oracle's.
 */
function renderWorkload(
  w: WorkloadReport,
  latency: { provision: number; register: number } | undefined,
  autoscaled: string[],
): string[] {
  const row = (label: string, value: string) => `  ${label.padEnd(22)}${value}`;
  const waits = (q: WorkloadReport['queueWaitSeconds']) => `p50 ${q.p50} s, p95 ${q.p95} s, max ${q.max} s`;
  const ratio =
    w.oracle.idleInstanceMinutes > 0
      ? `${(Math.round((w.idleInstanceMinutes / w.oracle.idleInstanceMinutes) * 10) / 10).toFixed(1)} × the oracle's ${w.oracle.idleInstanceMinutes}`
      : `the oracle's: ${w.oracle.idleInstanceMinutes}`;
  const changes = w.scaleOuts + w.scaleIns;
  return [
    'Workload (job demand on the managed scale sets, next to an oracle that knew every arrival)',
    row(
      'jobs',
      `${w.jobs}${w.jobsNeverStarted ? `, ${w.jobsNeverStarted} NEVER STARTED` : ', every one started'}`,
    ),
    row(
      'queue wait',
      `${waits(w.queueWaitSeconds)}${latency ? `  (a new machine serves after ${(latency.provision + latency.register) * 60} s: provision ${latency.provision} + register ${latency.register} min)` : ''}`,
    ),
    row(
      'oracle queue wait',
      `${waits(w.oracle.queueWaitSeconds)}  (no min or max capacity holds it back yet)`,
    ),
    row('instance minutes', `idle ${w.idleInstanceMinutes} (${ratio}), busy ${w.busyInstanceMinutes}`),
    row(
      'capacity changes',
      `${w.scaleOuts} scale-out${w.scaleOuts === 1 ? '' : 's'}, ${w.scaleIns} scale-in${w.scaleIns === 1 ? '' : 's'}  (${
        autoscaled.length > 0
          ? `kiln's autoscaler on ${autoscaled.join(', ')}, and any made outside kiln`
          : `no scale set is autoscaled${changes ? ': these were made outside kiln' : ': capacity stays as the scenario sets it'}`
      })`,
    ),
  ];
}

/**
 * Consecutive events of one flow with the same message, as one run with its count: a dry run's
 * cleanup plans the same every 15 minutes, which would otherwise fill the timeline.
 */
function collapseRepeats(events: ReportEvent[]): { first: ReportEvent; last: ReportEvent; count: number }[] {
  const runs: { first: ReportEvent; last: ReportEvent; count: number }[] = [];
  for (const event of events) {
    const run = runs.at(-1);
    if (run && run.first.flow === event.flow && run.first.message === event.message) {
      run.last = event;
      run.count++;
    } else runs.push({ first: event, last: event, count: 1 });
  }
  return runs;
}

function abbreviate(names: string[]): string {
  return names.length <= 4 ? names.join(', ') : `${names.slice(0, 3).join(', ')}, … ${names.length - 3} more`;
}
