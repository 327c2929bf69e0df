/**
 * A `kiln explore` finding as a file: the world (shrunk when it could be) as a scenario in YAML that
 * `kiln simulate --scenario` runs as is, under a comment header that says which seed it came from,
 * what broke (invariant, subject, detail) and the command that shows it again.
 */
import { Document, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { RawScenario } from './generate-world.js';
import { BOUND_FINDING, WORLD_SETTINGS, type FindingKind, type WorldVerdict } from './run-world.js';

/** `seed-<seed>-<kind>.yaml`, e.g. seed-7-S5.yaml. */
export function findingFileName(seed: number, kind: FindingKind): string {
  return `seed-${seed}-${kind}.yaml`;
}

/** How the world in the file came to be. */
export type FindingOrigin =
  | { shrunk: true; runs: number; shrinks: number; seconds: number; interrupted: boolean }
  | {
      shrunk: false;
      /** Why not: e.g. "seed 3 already shows this kind of violation (seed-3-S5.yaml)". */
      reason: string;
    };

const SETTINGS_PREFIX = Object.entries(WORLD_SETTINGS)
  .map(([key, value]) => `${key}=${value}`)
  .join(' ');

/** The command that runs the finding's file again, as explore ran it. */
function reproduceCommand(path: string): string {
  return `${SETTINGS_PREFIX} kiln simulate --scenario ${path}`;
}

/** The file's text: the header, then the world. `path` is where it is written (for the command). */
export function renderFinding(input: {
  seed: number;
  kind: FindingKind;
  raw: RawScenario;
  verdict: WorldVerdict;
  origin: FindingOrigin;
  path: string;
  /** What the seed's own world showed, when the file holds a smaller world. */
  found?: WorldVerdict;
}): string {
  const { seed, kind, raw, verdict, origin, path, found } = input;
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();
  const header: string[] = [`kiln explore finding: ${describeKind(kind)} (seed ${seed})`, ''];
  if (kind === 'crash' || kind === 'hang') {
    header.push(
      kind === 'crash' ? 'The simulator failed on this world:' : 'The world did not finish in time:',
      `  ${oneLine((verdict.crash ?? '').split('\n')[0] ?? '')}`,
    );
  }
  if (kind === 'bound' && verdict.bound)
    header.push(
      `The run took ${verdict.bound.virtualMinutes} virtual minutes, its critical path says at least ${verdict.bound.criticalPathMinutes}.`,
    );
  if (verdict.violations.length > 0) {
    header.push('Violations in this world (invariant, subject, detail):');
    for (const v of verdict.violations)
      header.push(`  ${v.invariant} ${oneLine(v.subject)} at ${v.at}: ${oneLine(v.detail)}`);
  }
  header.push('');
  if (origin.shrunk) {
    const before =
      found?.crash !== undefined
        ? [found.crash.split('\n')[0] ?? '']
        : (found?.violations ?? [])
            .filter((v) => v.invariant === kind)
            .map((v) => `${v.invariant} ${oneLine(v.subject)}: ${oneLine(v.detail)}`);
    if (before.length > 0)
      header.push(`The world of seed ${seed} showed:`, ...before.map((line) => `  ${oneLine(line)}`), '');
    header.push(
      `Shrunk by fast-check from the world of seed ${seed}: ${origin.shrinks} smaller world${origin.shrinks === 1 ? '' : 's'} ` +
        `still showed ${kind}, ${origin.runs} world${origin.runs === 1 ? '' : 's'} run in ${origin.seconds.toFixed(0)} s` +
        (origin.interrupted ? ' (stopped by the time limit: a smaller one may exist).' : '.'),
    );
  } else {
    header.push(`The world of seed ${seed}, not shrunk: ${origin.reason}.`);
  }
  header.push(
    '',
    'Reproduce (explore runs every world with these settings, so faults cost no real seconds):',
    `  ${reproduceCommand(path)}`,
    `The seed's own world: kiln explore --seeds 1 --seed ${seed} --workers 1`,
  );
  const comment = header.map((line) => (line === '' ? '#' : `# ${line}`)).join('\n');
  return `${comment}\n${toYaml(raw)}`;
}

function describeKind(kind: FindingKind): string {
  if (kind === 'crash') return 'simulator crash';
  if (kind === 'hang') return 'world that did not finish';
  if (kind === 'authorization') return 'request refused for want of a role';
  if (kind === 'contract') return 'exchange that breaks an official API description';
  if (kind === 'bound') return `${BOUND_FINDING} (no lower bound)`;
  return `invariant ${kind} broken`;
}

/**
 * YAML in the style of the scenario examples: each list item and each small mapping on one line
 * (`- { name: vmss-gh-a, image: linux, capacity: 3 }`), the rest in block style.
 */
export function toYaml(raw: RawScenario): string {
  const doc = new Document(raw);
  const flowable = (node: unknown): boolean => isScalar(node) || (isSeq(node) && node.flow === true);
  const style = (node: Node | null | undefined, depth: number): void => {
    if (isSeq(node)) {
      for (const item of node.items) style(item as Node, depth + 1);
      if (node.items.every((item) => isScalar(item))) node.flow = true;
    } else if (isMap(node)) {
      for (const pair of node.items) style(pair.value as Node, depth + 1);
      if (depth > 0 && node.items.every((pair) => flowable(pair.value))) node.flow = true;
    }
  };
  style(doc.contents as Node, 0);
  // Items of a list of mappings: one per line, each a flow mapping.
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      if (isSeq(pair.value) && pair.value.items.some((item) => isMap(item))) {
        pair.value.flow = false;
        for (const item of pair.value.items) if (isMap(item)) item.flow = true;
      }
    }
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true });
}
