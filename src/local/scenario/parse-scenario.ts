/**
 * Reads a simulation scenario (format version 1, docs/scenarios.md) from JSON or YAML,
 * validates it and applies every default, so the fake cloud and `kiln simulate` only ever see a
 * complete `Scenario`. Like the settings loader it collects every problem and throws them together
 * in one ScenarioError, each naming the field path (`scaleSets[1].capacity`), where it is in the file
 * and what is wrong: a scenario author fixes the file in one pass, and `kiln simulate` exits 2.
 *
 * The parts, one job each: schema.ts (what each field may hold), validate.ts (each field and item on
 * its own, then the cross-field checks), problems.ts (the messages, paths and positions),
 * defaults.ts (the defaults and the complete Scenario) and demo-scenario.ts.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { Scenario } from './types.js';
import { BUILT_IN_DEMO_SCENARIO } from './demo-scenario.js';
import { Collector, ScenarioError } from './problems.js';
import { validate } from './validate.js';

export { BUILT_IN_DEMO_SCENARIO } from './demo-scenario.js';
export { SCENARIO_DEFAULTS } from './defaults.js';
export { ScenarioError, type ScenarioProblem } from './problems.js';

/**
 * Parses a scenario from JSON or YAML text (JSON is read by the YAML parser, which accepts it and
 * reports positions the same way). `sourceName` names the file in error messages.
 */
export function parseScenario(text: string, sourceName: string): Scenario {
  const lineCounter = new LineCounter();
  // `merge: true` lets authors share scale set settings with YAML merge keys (<<: *base).
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      sourceName,
      doc.errors.map((error) => {
        const pos = error.pos ? lineCounter.linePos(error.pos[0]) : undefined;
        return { path: '', message: error.message, line: pos?.line, column: pos?.col };
      }),
      'not valid YAML or JSON',
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ScenarioError(
      sourceName,
      [{ path: '', message: (error as Error).message }],
      'not valid YAML or JSON',
    );
  }
  const collector = new Collector(doc, lineCounter);
  const scenario = validate(raw, collector);
  if (collector.problems.length > 0 || scenario === undefined) {
    throw new ScenarioError(sourceName, collector.sorted());
  }
  return scenario;
}

/** Reads and parses a scenario file; an unreadable file is a ScenarioError naming the path. */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, not a scenario file'
          : (error as Error).message;
    throw new ScenarioError(path, [{ path: '', message }], 'cannot read the scenario file');
  }
  return parseScenario(text, path);
}

/** The scenario `kiln simulate` runs without `--scenario` (demo-scenario.ts). */
export function builtInDemoScenario(): Scenario {
  return parseScenario(BUILT_IN_DEMO_SCENARIO, 'built-in demo scenario');
}
