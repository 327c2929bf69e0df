/**
 * The problems of a scenario file, as `kiln simulate` shows them: each names the field path
 * (`scaleSets[1].capacity`), where it is in the file and what a valid value looks like, with a
 * "did you mean" for a near miss. The Collector gathers them from zod's issues and the parser's own
 * checks, so one ScenarioError holds every problem of the file.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import { z } from 'zod';

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(
    /** The file (or other source name) the scenario came from. */
    readonly source: string,
    readonly problems: ScenarioProblem[],
    summary = 'invalid scenario',
  ) {
    super(
      `${source}: ${summary} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join('\n'),
    );
  }
}

export interface ScenarioProblem {
  /** Field path such as `scaleSets[1].capacity`; empty for the file as a whole. */
  path: string;
  message: string;
  /** 1-based position in the file, when known. */
  line?: number;
  column?: number;
}

function formatProblem(p: ScenarioProblem): string {
  const where = p.line === undefined ? '' : `line ${p.line}, column ${p.column ?? 1}`;
  if (p.path === '') return where ? `${where}: ${p.message}` : p.message;
  return `${p.path}${where ? ` (${where})` : ''}: ${p.message}`;
}

export type PathSegment = string | number;

/** A maximum's message starting with this is a note for the reader, e.g. `must be at most 1440 (a day)`. */
export const LIMIT_NOTE = 'note: ';

export class Collector {
  readonly problems: (ScenarioProblem & { offset: number })[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  add(path: PathSegment[], message: string, atKey = false): void {
    const offset = this.locate(path, atKey);
    const pos = offset === undefined ? undefined : this.lineCounter.linePos(offset);
    this.problems.push({
      path: formatPath(path),
      message,
      line: pos?.line,
      column: pos?.col,
      offset: offset ?? -1,
    });
  }

  /** `where` says whose keys `known` are, e.g. `for action scaleOut`. */
  unknownKey(path: PathSegment[], key: string, known: readonly string[], where = 'here'): void {
    const hint = KEY_HINTS.get(key);
    const suggestion = hint !== undefined && known.includes(hint) ? hint : closest(key, known);
    this.add(
      [...path, key],
      `unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; known keys ${where}: ${known.join(', ')}`,
      true,
    );
  }

  zod(error: z.ZodError, prefix: PathSegment[], schema: z.ZodTypeAny, value: unknown, where?: string): void {
    for (const issue of error.issues) {
      const path = [...prefix, ...issue.path];
      const received = valueAt(value, issue.path);
      switch (issue.code) {
        case 'unrecognized_keys':
          for (const key of issue.keys) this.unknownKey(path, key, knownKeys(schema, issue.path), where);
          break;
        case 'invalid_type':
          if (issue.received === 'undefined') this.add(path, 'is required');
          else if (issue.expected === 'integer')
            this.add(path, `expected a whole number, got ${describe(received)}`);
          else
            this.add(
              path,
              `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describe(received)}`,
            );
          break;
        case 'invalid_enum_value':
          this.add(path, `expected one of ${issue.options.join(', ')}, got ${describe(received)}`);
          break;
        case 'too_small':
          this.add(
            path,
            issue.type === 'array'
              ? `must list at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`
              : issue.type === 'string'
                ? 'must not be empty'
                : `must be at least ${String(issue.minimum)}, got ${describe(received)}`,
          );
          break;
        case 'too_big': {
          const note = issue.message.startsWith(LIMIT_NOTE)
            ? ` (${issue.message.slice(LIMIT_NOTE.length)})`
            : '';
          this.add(
            path,
            issue.type === 'array'
              ? `must list at most ${String(issue.maximum)} items, got ${Array.isArray(received) ? received.length : describe(received)}`
              : `must be at most ${String(issue.maximum)}${note}, got ${describe(received)}`,
          );
          break;
        }
        default:
          this.add(path, issue.message);
      }
    }
  }

  /** Problems in file order (problems without a position first), each once. */
  sorted(): ScenarioProblem[] {
    const seen = new Set<string>();
    return [...this.problems]
      .sort((a, b) => a.offset - b.offset)
      .filter((p) => {
        const key = `${p.path}\u0000${p.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .map(({ offset: _offset, ...p }) => p);
  }

  /**
   * Offset in the file of the node at `path` (of its key when `atKey`), falling back to the nearest
   * ancestor that exists, e.g. the scale set a required key is missing from.
   */
  private locate(path: PathSegment[], atKey: boolean): number | undefined {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node);
    for (let i = 0; i < path.length; i++) {
      if (isAlias(node)) node = node.resolve(this.doc);
      const segment = path[i];
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment),
        );
        if (!pair) return offset;
        const last = i === path.length - 1;
        node = pair.value;
        offset =
          (last && atKey ? rangeStart(pair.key) : (rangeStart(pair.value) ?? rangeStart(pair.key))) ?? offset;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        offset = rangeStart(node) ?? offset;
      } else {
        return offset;
      }
    }
    return offset;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range?.[0];
}

function formatPath(path: PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

function valueAt(value: unknown, path: PathSegment[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PathSegment, unknown>)[segment];
  }
  return current;
}

/** Keys allowed on the object `path` leads to inside `schema`. */
function knownKeys(schema: z.ZodTypeAny, path: PathSegment[]): string[] {
  let current: z.ZodTypeAny | undefined = schema;
  const unwrap = (s: z.ZodTypeAny | undefined): z.ZodTypeAny | undefined => {
    while (s) {
      if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodTypeAny;
      else if (s instanceof z.ZodEffects) s = s.innerType() as z.ZodTypeAny;
      else return s;
    }
    return s;
  };
  for (const segment of path) {
    current = unwrap(current);
    if (current instanceof z.ZodObject)
      current = (current.shape as Record<string, z.ZodTypeAny>)[String(segment)];
    else if (current instanceof z.ZodArray) current = current.element as z.ZodTypeAny;
    else return [];
  }
  current = unwrap(current);
  return current instanceof z.ZodObject ? Object.keys(current.shape as object) : [];
}

/** Keys too far from the one meant for `closest` to find it. */
const KEY_HINTS = new Map([['atMinutes', 'at']]);

/** The known key nearest to `key` (a typo or different case), if any is close enough. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}
