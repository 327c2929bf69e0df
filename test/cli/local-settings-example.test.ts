import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSettings, IMAGE_PIPELINE_SETTINGS } from '../../src/cli/doctor-checks.js';
import { loadSettings } from '../../src/config/load-settings.js';
import { SETTINGS } from '../../src/config/settings.js';

// local.settings.json.example is what an operator copies to run the app under `func start` and to
// point `kiln doctor --settings` at: it holds every setting doctor asks for, with placeholders.
const example = (
  JSON.parse(readFileSync('local.settings.json.example', 'utf8')) as { Values: Record<string, string> }
).Values;

/** Settings of the Functions host itself, which kiln does not read. */
const HOST_SETTINGS = ['FUNCTIONS_WORKER_RUNTIME', 'AzureWebJobsStorage'];

describe('local.settings.json.example', () => {
  it('names every setting the loader requires and every one the image pipeline check asks for', () => {
    const required = [
      ...Object.values(SETTINGS)
        .filter(({ spec }) => !('default' in spec))
        .map(({ spec }) => spec.env),
      ...Object.keys(IMAGE_PIPELINE_SETTINGS),
    ];
    expect(required.filter((name) => !example[name])).toEqual([]);
  });

  it("passes doctor's settings checks as it is", () => {
    const { results } = checkSettings(example);
    expect(results.filter((r) => r.status !== 'pass')).toEqual([]);
    expect(results.map((r) => r.check)).toEqual(['settings', 'image pipeline settings']);
  });

  it('turns on every check doctor runs: the GitHub fleet, the Azure DevOps fleet and the registration broker', () => {
    const settings = loadSettings(example);
    expect(settings.github).toBeDefined();
    expect(settings.ado).toBeDefined();
    expect(settings.registration).toBeDefined();
  });

  it('holds only settings kiln or the Functions host reads', () => {
    const known = new Set([...Object.values(SETTINGS).map(({ spec }) => spec.env), ...HOST_SETTINGS]);
    expect(Object.keys(example).filter((name) => !known.has(name))).toEqual([]);
  });
});
