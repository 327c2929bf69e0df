/**
 * What an image version holds (its software report, docs/software-report.md), how two versions differ
 * and whether that difference must wait for a person before promotion (PROMOTION_GATE).
 */
import type { ImageKind } from './release.js';

export interface SoftwareTool {
  name: string;
  version: string;
  /** The toolset line it was resolved from (`latest`, `22.x`) or the pinned version. */
  requested?: string;
  source?: string;
  verifiedBy?: string;
}

export interface SoftwareReport {
  schemaVersion: 1;
  image: ImageKind;
  generatedAt: string;
  os: { name: string; version: string; build: string };
  baseImage: { publisher: string; offer: string; sku: string; version: string };
  agent: { name: string; version: string };
  tools: SoftwareTool[];
  sbom?: { format: string; file: string; generator?: string };
}

export type ChangeKind = 'added' | 'removed' | 'major' | 'minor' | 'patch';

export interface SoftwareChange {
  tool: string;
  from: string | null;
  to: string | null;
  kind: ChangeKind;
}

/** One change as people read it: `git 2.47.1 → 3.0.1`, `azure-cli 2.67.0` (removed), `azd 1.21.0` (added). */
export function describeChange(change: Pick<SoftwareChange, 'tool' | 'from' | 'to'>): string {
  return `${change.tool} ${[change.from, change.to].filter((v) => v !== null).join(' → ')}`;
}

/** The gallery version tag that names a version's report blob. */
export const SOFTWARE_REPORT_TAG = 'kiln-software-report';

/** Blob names of a version's report, relative to the reports container. */
export function softwareReportBlobs(definition: string, version: string) {
  const prefix = `${definition}/${version}`;
  return {
    json: `${prefix}/software.json`,
    markdown: `${prefix}/software.md`,
    sbom: `${prefix}/sbom.spdx.json`,
  };
}

export class SoftwareReportError extends Error {}

/**
 * Reads a report's JSON text, refusing one kiln cannot compare (with what was wrong and where):
 * `where` names it in the message, e.g. the blob.
 */
export function parseSoftwareReport(text: string, where: string): SoftwareReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SoftwareReportError(`${where} is not JSON: ${(error as Error).message}`);
  }
  const bad = (what: string) =>
    new SoftwareReportError(`${where}: ${what} (format: docs/software-report.md)`);
  if (!isObject(value)) throw bad('the report must be a JSON object');
  if (value.schemaVersion !== 1)
    throw bad(`schemaVersion is ${JSON.stringify(value.schemaVersion)}; kiln reads version 1`);
  if (value.image !== 'linux' && value.image !== 'windows')
    throw bad(`image is ${JSON.stringify(value.image)}; expected "linux" or "windows"`);
  if (!Array.isArray(value.tools)) throw bad('tools must be a list');
  const seen = new Set<string>();
  value.tools.forEach((tool, index) => {
    if (!isObject(tool) || typeof tool.name !== 'string' || tool.name === '')
      throw bad(`tools[${index}] needs a name`);
    if (typeof tool.version !== 'string' || tool.version === '')
      throw bad(`tools[${index}] (${tool.name}) needs a version`);
    if (seen.has(tool.name)) throw bad(`tools[${index}]: ${tool.name} is listed twice`);
    seen.add(tool.name);
  });
  for (const field of ['os', 'baseImage', 'agent'] as const)
    if (!isObject(value[field])) throw bad(`${field} must be an object`);
  return value as unknown as SoftwareReport;
}

/**
 * How `to` differs from `from`, tool by tool, sorted by tool name. Versions are compared by their
 * numbers: the first differing one says major, minor or patch; versions without numbers that differ
 * count as major (nothing smaller can be claimed for them).
 */
export function diffSoftware(from: SoftwareReport, to: SoftwareReport): SoftwareChange[] {
  const before = new Map(from.tools.map((t) => [t.name, t.version]));
  const after = new Map(to.tools.map((t) => [t.name, t.version]));
  const changes: SoftwareChange[] = [];
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const was = before.get(name) ?? null;
    const now = after.get(name) ?? null;
    if (was === now) continue;
    const kind = was === null ? 'added' : now === null ? 'removed' : versionChangeKind(was, now);
    if (kind) changes.push({ tool: name, from: was, to: now, kind });
  }
  return changes.sort((a, b) => a.tool.localeCompare(b.tool));
}

function numbersOf(version: string): number[] {
  return (version.match(/\d+/g) ?? []).map(Number);
}

/** undefined: the two spell the same numbers (e.g. `v1.2` and `1.2`), which is no change. */
function versionChangeKind(from: string, to: string): 'major' | 'minor' | 'patch' | undefined {
  const a = numbersOf(from);
  const b = numbersOf(to);
  if (a.length === 0 || b.length === 0) return 'major';
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return i === 0 ? 'major' : i === 1 ? 'minor' : 'patch';
  }
  // Equal once padded, but of different lengths (1.2 and 1.2.0): counted as a patch change.
  return a.length === b.length ? undefined : 'patch';
}

/** What PROMOTION_GATE may list: change kinds, and `unreported` (the new version has no report). */
export const GATE_KINDS = ['added', 'removed', 'major', 'minor', 'patch', 'unreported'] as const;
export type GateKind = (typeof GATE_KINDS)[number];

export const DEFAULT_PROMOTION_GATE = 'removed,major,unreported';

/** PROMOTION_GATE's value as the kinds that hold, or why it cannot be read. `off` holds nothing. */
export function parsePromotionGate(
  value: string,
): { ok: true; holds: GateKind[] } | { ok: false; error: string } {
  const text = value.trim().toLowerCase();
  if (text === 'off' || text === 'none') return { ok: true, holds: [] };
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) return { ok: false, error: `list change kinds (${GATE_KINDS.join(', ')}) or off` };
  const unknown = parts.filter((p) => !(GATE_KINDS as readonly string[]).includes(p));
  if (unknown.length > 0)
    return {
      ok: false,
      error: `unknown change kind ${unknown.map((u) => `"${u}"`).join(', ')}: use ${GATE_KINDS.join(', ')}, or off`,
    };
  return { ok: true, holds: [...new Set(parts)] as GateKind[] };
}

/**
 * Why the gate holds a new version (empty: it promotes as before). `changes` undefined: the new
 * version has no report. A version without a promoted report to compare with has no changes.
 */
export function gateReasons(changes: SoftwareChange[] | undefined, holds: readonly GateKind[]): string[] {
  if (changes === undefined)
    return holds.includes('unreported')
      ? ['the new version has no software report, so what it holds is unknown']
      : [];
  return changes
    .filter((c) => holds.includes(c.kind))
    .map((c) =>
      c.kind === 'removed'
        ? `${c.tool} ${c.from} was removed`
        : c.kind === 'added'
          ? `${c.tool} ${c.to} was added`
          : `${c.tool} changed ${c.kind} version ${c.from} → ${c.to}`,
    );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
