/**
 * The software report rules (src/domain/software-report.ts): reading a report, diffing two by tool,
 * PROMOTION_GATE's values and the reasons it holds a version for.
 */
import { describe, expect, it } from 'vitest';
import {
  diffSoftware,
  gateReasons,
  parsePromotionGate,
  parseSoftwareReport,
  type SoftwareReport,
} from '../../../src/domain/software-report.js';

function report(tools: Record<string, string>): SoftwareReport {
  return {
    schemaVersion: 1,
    image: 'windows',
    generatedAt: '2026-12-01T03:00:00Z',
    os: {
      name: 'Windows Server 2022 Datacenter: Azure Edition',
      version: '10.0.20348',
      build: '10.0.20348.2849',
    },
    baseImage: {
      publisher: 'MicrosoftWindowsServer',
      offer: 'WindowsServer',
      sku: '2022-datacenter-azure-edition',
      version: '20348.2849.241206',
    },
    agent: { name: 'azure-pipelines-agent', version: '4.269.0' },
    tools: Object.entries(tools).map(([name, version]) => ({ name, version })),
  };
}

describe('diffSoftware', () => {
  it('names every tool added, removed, and moved by major, minor or patch, sorted by tool', () => {
    const from = report({
      git: '2.47.1.windows.1',
      node: '22.12.0',
      'azure-cli': '2.67.0',
      cmake: '3.31.2',
      pnpm: '9.15.0',
    });
    const to = report({
      git: '3.0.1.windows.1',
      node: '22.13.0',
      cmake: '3.31.5',
      pnpm: '9.15.0',
      azd: '1.21.0',
    });
    expect(diffSoftware(from, to)).toEqual([
      { tool: 'azd', from: null, to: '1.21.0', kind: 'added' },
      { tool: 'azure-cli', from: '2.67.0', to: null, kind: 'removed' },
      { tool: 'cmake', from: '3.31.2', to: '3.31.5', kind: 'patch' },
      { tool: 'git', from: '2.47.1.windows.1', to: '3.0.1.windows.1', kind: 'major' },
      { tool: 'node', from: '22.12.0', to: '22.13.0', kind: 'minor' },
    ]);
  });

  it('counts versions without numbers that differ as major, and a fourth number as patch', () => {
    const changes = diffSoftware(
      report({ a: 'stable', b: '2.47.1.1' }),
      report({ a: 'edge', b: '2.47.1.2' }),
    );
    expect(changes.map((c) => [c.tool, c.kind])).toEqual([
      ['a', 'major'],
      ['b', 'patch'],
    ]);
  });

  it('finds nothing between equal reports', () => {
    expect(diffSoftware(report({ git: '2.47.1' }), report({ git: '2.47.1' }))).toEqual([]);
  });
});

describe('parseSoftwareReport', () => {
  it('reads a report in the documented format', () => {
    const text = JSON.stringify(report({ git: '2.47.1' }));
    expect(parseSoftwareReport(text, 'windows-agent/2026.12.1/software.json').tools).toEqual([
      { name: 'git', version: '2.47.1' },
    ]);
  });

  it.each([
    ['not json', 'is not JSON'],
    [JSON.stringify({ ...report({}), schemaVersion: 2 }), 'schemaVersion is 2; kiln reads version 1'],
    [JSON.stringify({ ...report({}), image: 'mac' }), 'image is "mac"'],
    [JSON.stringify({ ...report({}), tools: [{ name: 'git' }] }), 'tools[0] (git) needs a version'],
    [
      JSON.stringify({
        ...report({}),
        tools: [
          { name: 'git', version: '1' },
          { name: 'git', version: '2' },
        ],
      }),
      'git is listed twice',
    ],
    [JSON.stringify({ ...report({}), agent: undefined }), 'agent must be an object'],
  ])('refuses %s, saying where and what', (text, message) => {
    expect(() => parseSoftwareReport(text, 'x/1.0.0/software.json')).toThrow(message);
    expect(() => parseSoftwareReport(text, 'x/1.0.0/software.json')).toThrow('x/1.0.0/software.json');
  });
});

describe('PROMOTION_GATE', () => {
  it('reads the default, off, and lists; refuses unknown kinds naming them', () => {
    expect(parsePromotionGate('removed,major,unreported')).toEqual({
      ok: true,
      holds: ['removed', 'major', 'unreported'],
    });
    expect(parsePromotionGate(' OFF ')).toEqual({ ok: true, holds: [] });
    expect(parsePromotionGate('major, minor')).toEqual({ ok: true, holds: ['major', 'minor'] });
    const bad = parsePromotionGate('major,huge');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toContain('"huge"');
    expect(parsePromotionGate(' , ').ok).toBe(false);
  });

  it('holds for the kinds it lists, and for a missing report only with unreported', () => {
    const changes = diffSoftware(
      report({ git: '2.47.1', 'azure-cli': '2.67.0', node: '22.1.0' }),
      report({ git: '3.0.1', node: '22.2.0' }),
    );
    expect(gateReasons(changes, ['removed', 'major'])).toEqual([
      'azure-cli 2.67.0 was removed',
      'git changed major version 2.47.1 → 3.0.1',
    ]);
    expect(gateReasons(changes, [])).toEqual([]);
    expect(gateReasons(undefined, ['removed'])).toEqual([]);
    expect(gateReasons(undefined, ['unreported'])[0]).toContain('no software report');
  });
});
