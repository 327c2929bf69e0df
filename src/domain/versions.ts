/**
 * Gallery image version names (`Major.Minor.Patch`, each an int32, e.g. `2026.10.1`) and their
 * order. Versions compare numerically part by part: `2026.10.1` is newer than `2026.9.1`, which a
 * string comparison gets wrong. Shared by the scenario parser, the fake cloud and the simulator.
 */

/** Largest value of one part: Azure stores each part as a signed 32-bit integer. */
export const MAX_VERSION_PART = 2 ** 31 - 1;

const GALLERY_VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/**
 * Why `value` is not a gallery version name, or undefined when it is one. Leading zeros are refused
 * so that two different names can never denote the same version (`2026.01.1` vs `2026.1.1`).
 */
export function galleryVersionProblem(value: string): string | undefined {
  const match = GALLERY_VERSION.exec(value);
  if (!match) {
    return `"${value}" is not a gallery version: expected three dot-separated integers without leading zeros, e.g. 2026.10.1`;
  }
  for (const part of match.slice(1)) {
    if (Number(part) > MAX_VERSION_PART) {
      return `"${value}" is not a gallery version: each part must be at most ${MAX_VERSION_PART}`;
    }
  }
  return undefined;
}

export function isGalleryVersion(value: string): boolean {
  return galleryVersionProblem(value) === undefined;
}

function parts(version: string): number[] {
  const result = version.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
  if (result.some((n) => !Number.isSafeInteger(n))) {
    throw new RangeError(`not a dotted numeric version: "${version}"`);
  }
  return result;
}

/**
 * Orders dotted numeric versions: negative when `a` is older than `b`, 0 when equal, positive when
 * newer. Parts are compared as numbers; a missing trailing part counts as 0 (`1.2` equals `1.2.0`).
 * Throws a RangeError for anything that is not dot-separated digits.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff < 0 ? -1 : 1;
  }
  return 0;
}

/** A copy of `versions` sorted oldest first. */
export function sortVersions(versions: readonly string[]): string[] {
  return [...versions].sort(compareVersions);
}

/** The newest of `versions`, or undefined for an empty list. */
export function newestVersion(versions: readonly string[]): string | undefined {
  let newest: string | undefined;
  for (const version of versions) {
    if (newest === undefined || compareVersions(version, newest) > 0) newest = version;
  }
  return newest;
}
