import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  galleryVersionProblem,
  isGalleryVersion,
  newestVersion,
  sortVersions,
} from '../../../src/domain/versions.js';

describe('compareVersions', () => {
  it.each([
    ['2026.10.1', '2026.9.1', 1],
    ['2026.9.1', '2026.10.1', -1],
    ['2026.10.1', '2026.10.1', 0],
    ['2026.10.2', '2026.10.10', -1],
    ['2027.1.1', '2026.12.99', 1],
    ['1.2', '1.2.0', 0],
    ['1.2.1', '1.2', 1],
  ])('%s vs %s → %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });

  it('refuses anything that is not dotted digits', () => {
    expect(() => compareVersions('2026.10.x', '2026.10.1')).toThrow(RangeError);
    expect(() => compareVersions('', '1')).toThrow(RangeError);
  });
});

describe('sortVersions and newestVersion', () => {
  it('order numerically, not as strings', () => {
    const versions = ['2026.10.1', '2026.9.1', '2026.2.3', '2026.11.1'];
    expect(sortVersions(versions)).toEqual(['2026.2.3', '2026.9.1', '2026.10.1', '2026.11.1']);
    expect(versions[0]).toBe('2026.10.1'); // sortVersions copies
    expect(newestVersion(versions)).toBe('2026.11.1');
    expect(newestVersion([])).toBeUndefined();
  });
});

describe('galleryVersionProblem', () => {
  it.each(['2026.10.1', '0.0.0', '1.0.0', `${2 ** 31 - 1}.0.1`])('accepts %s', (version) => {
    expect(galleryVersionProblem(version)).toBeUndefined();
    expect(isGalleryVersion(version)).toBe(true);
  });

  it.each([
    ['2026.10', /three dot-separated integers/],
    ['2026.10.1.2', /three dot-separated integers/],
    ['2026.01.1', /leading zeros/],
    ['v2026.10.1', /three dot-separated integers/],
    ['2026.10.-1', /three dot-separated integers/],
    ['', /three dot-separated integers/],
    [`${2 ** 31}.0.1`, /at most 2147483647/],
  ])('refuses %j', (version, message) => {
    expect(galleryVersionProblem(version)).toMatch(message);
    expect(isGalleryVersion(version)).toBe(false);
  });
});
