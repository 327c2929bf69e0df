import { describe, expect, it } from 'vitest';
import {
  buildJobTemplate,
  freeVersionName,
  nextVersionName,
  planPrune,
} from '../../../src/domain/release.js';

const DEC_2026 = '2026-12-01T03:00:00Z';

describe('nextVersionName', () => {
  it('is YEAR.MONTH.1 for the first version of a month', () => {
    expect(nextVersionName([], DEC_2026)).toBe('2026.12.1');
    expect(nextVersionName(['2026.10.1', '2026.11.4'], DEC_2026)).toBe('2026.12.1');
  });

  it('counts on from the highest of the month, gaps and all', () => {
    expect(nextVersionName(['2026.12.1', '2026.12.2'], DEC_2026)).toBe('2026.12.3');
    expect(nextVersionName(['2026.12.3'], DEC_2026)).toBe('2026.12.4');
  });

  it('never returns an existing name when versions of a later month exist (clock skew, manual names)', () => {
    expect(nextVersionName(['2027.1.1', '2027.1.2'], DEC_2026)).toBe('2027.1.3');
    expect(nextVersionName(['2027.1.2', '2027.1.1', '2026.12.7'], DEC_2026)).toBe('2027.1.3');
    expect(nextVersionName(['2027.3.1', '2027.1.9'], '2026-12-31T23:59:59Z')).toBe('2027.3.2');
  });

  it('always names a version newer than every existing one', () => {
    const cases: string[][] = [[], ['2026.12.9'], ['2027.1.1', '2027.1.2'], ['2025.1.1', '2026.11.30']];
    for (const existing of cases) {
      const name = nextVersionName(existing, DEC_2026);
      expect(existing).not.toContain(name);
      for (const v of existing) expect(name.localeCompare(v, 'en', { numeric: true })).toBeGreaterThan(0);
    }
  });

  it('ignores names that are not gallery versions', () => {
    expect(nextVersionName(['latest', '2026.12', 'v2026.12.4'], DEC_2026)).toBe('2026.12.1');
  });
});

describe('freeVersionName', () => {
  it('keeps the chosen name while it is free, else takes the next free one of its month', () => {
    expect(freeVersionName(['2026.11.1'], '2026.12.1')).toBe('2026.12.1');
    expect(freeVersionName(['2026.12.1', '2026.12.2'], '2026.12.1')).toBe('2026.12.3');
  });
});

describe('planPrune (S3)', () => {
  it('keeps the newest `keep`, every referenced and every protected version', () => {
    expect(
      planPrune({
        versions: ['2026.7.1', '2026.8.1', '2026.9.1', '2026.10.1', '2026.12.1'],
        keep: 3,
        referenced: ['2026.7.1'],
        protected: [],
      }),
    ).toEqual(['2026.8.1']);
    expect(
      planPrune({ versions: ['2026.8.1', '2026.9.1'], keep: 0, referenced: [], protected: ['2026.8.1'] }),
    ).toEqual(['2026.9.1']);
  });

  it('orders by version, not by text, and prunes nothing while there are no more than `keep`', () => {
    expect(
      planPrune({
        versions: ['2026.10.1', '2026.9.1', '2026.11.1', '2026.2.1'],
        keep: 3,
        referenced: [],
        protected: [],
      }),
    ).toEqual(['2026.2.1']);
    expect(
      planPrune({ versions: ['2026.10.1', '2026.9.1'], keep: 3, referenced: [], protected: [] }),
    ).toEqual([]);
  });
});

describe('buildJobTemplate', () => {
  const input = {
    image: 'linux' as const,
    containerImage: 'crkiln.azurecr.io/kiln-packer:1',
    subscriptionId: '00000000-0000-0000-0000-000000000000',
    buildRegion: 'westeurope',
    managedImageResourceGroup: 'rg-images',
    managedImageName: 'kiln-linux-2026.12.1',
    tempResourceGroup: 'rg-packer-temp',
    vmSize: 'Standard_D4s_v5',
    tagOrg: 'acme',
    tagEnv: 'prod',
    jobClientId: '22222222-2222-2222-2222-222222222222',
    runId: 'rebuild-linux-2026-12',
  };
  const env = (template: ReturnType<typeof buildJobTemplate>) =>
    Object.fromEntries(template.containers[0]!.env.map((e) => [e.name, e.value]));

  it("tells the job where the build's software report goes, only when kiln has a reports store", () => {
    const url = 'https://stkiln.blob.core.windows.net/software-reports/linux-agent/2026.12.1';
    expect(env(buildJobTemplate({ ...input, softwareReportUrl: url })).KILN_SOFTWARE_REPORT_URL).toBe(url);
    expect(env(buildJobTemplate(input))).not.toHaveProperty('KILN_SOFTWARE_REPORT_URL');
  });
});
