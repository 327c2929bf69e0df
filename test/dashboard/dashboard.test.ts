import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { startServe, type Served } from '../cli/serve-helper.js';

// The dashboard in a real headless Chromium (Debian's, installed by .ci/setup-dashboard.sh), served
// by `kiln serve`: it shows every scale set of the scenario with its drift and runner compliance,
// updates while a rollout runs (its waves and pace too), and logs no console errors. The screenshot
// is kept as test-results/dashboard.png.
const CHROMIUM = '/usr/bin/chromium';
const FIXTURE = resolve('test/dashboard/fixture.yaml');
const SCREENSHOT = resolve('test-results/dashboard.png');
const ROLLOUT = 'rollout-linux-agent-2026.11.1';
const haveChromium = existsSync(CHROMIUM);

/** Runs in the page (WCAG 2 contrast ratio of each text element against its effective background). */
const CONTRAST = `(() => {
  const luminance = (rgb) => {
    const [r, g, b] = rgb.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const clear = 'rgba(0, 0, 0, 0)';
  return [...document.querySelectorAll('.seg, .facts, .note, h1, h2, h3, td, th, #state')].map((el) => {
    let bg = clear;
    for (let p = el; bg === clear && p; p = p.parentElement) bg = getComputedStyle(p).backgroundColor;
    if (bg === clear) bg = 'rgb(255, 255, 255)';
    return { text: (el.textContent || '').slice(0, 30), ratio: ratio(getComputedStyle(el).color, bg) };
  });
})()`;

if (!haveChromium)
  console.warn(
    `dashboard browser test skipped: ${CHROMIUM} is absent (install it with bash .ci/setup-dashboard.sh)`,
  );

describe.skipIf(!haveChromium)('the dashboard in headless Chromium', () => {
  const scenario = parseScenario(readFileSync(FIXTURE, 'utf8'), FIXTURE);
  let served: Served;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(resolve('test-results'), { recursive: true });
    // AGENT_VERSION as a deployment sets it (infra/main.bicep: the Windows toolset's agent).
    served = await startServe(['--scenario', FIXTURE, '--speed', '120'], undefined, {
      AGENT_VERSION: '4.269.0',
    });
    profile = mkdtempSync(join(tmpdir(), 'kiln-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
    await page.goto(`${served.dashboard}&refresh=1`);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await served?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const bar = (name: string) => page.locator(`[data-scale-set="${name}"] .bar`);
  const cells = (selector: string) => page.locator(`${selector} > *`).allTextContents();
  const waveRows = () => cells('#wave-rows tr[data-wave]');

  it('shows every scale set of the scenario with a bar split by image version', async () => {
    for (const s of scenario.scaleSets.filter((x) => x.managed)) {
      await expect
        .poll(() => page.locator(`[data-scale-set="${s.name}"] h3`).textContent(), { timeout: 20_000 })
        .toBe(s.name);
    }
    expect(await bar('vmss-gh-linux-weu').getAttribute('aria-label')).toBe(
      'vmss-gh-linux-weu: 4 instances on 2026.10.1',
    );
    expect(await page.locator('[data-scale-set="vmss-gh-linux-weu"] .facts').textContent()).toMatch(
      /^canary · westeurope · linux \(GitHub runners\) · model 2026\.10\.1 · 4 instances wanted · runners: 4 online, 0 busy, [01] offline$/,
    );
    expect(await page.locator('#gallery-rows tr').count()).toBe(4);
    expect(await page.locator('#state').textContent()).toMatch(/^Fleet as of 2026-12-01T/);
  });

  // The page runs on the virtual clock, hours after the scenario's start at most: its versions were
  // published 30 days before the start, the fake's latest runner release 10 days before it.
  it('shows drift per scale set: versions with their image age and promoted versions newer, and no pace without a rollout', async () => {
    await expect
      .poll(() => cells('[data-drift="vmss-gh-linux-weu"]'), { timeout: 20_000 })
      .toEqual([
        'vmss-gh-linux-weu',
        '2026.10.1 × 4: 30 days old, 1 behind',
        '4 of 4 not on 2026.11.1',
        'no rollout running',
      ]);
    expect(await cells('[data-drift="vmss-ado-win-weu"]')).toEqual([
      'vmss-ado-win-weu',
      '2026.10.1 × 2: 30 days old, the latest promoted',
      '0 of 2 not on 2026.10.1',
      'no rollout running',
    ]);
    expect(await page.locator('#drift-notes').textContent()).toBe(
      'No rollout running: no pace to estimate from.',
    );
  });

  it("shows each scale set's runner or agent and whether it is compliant", async () => {
    expect(await cells('[data-compliance="vmss-gh-linux-weu"]')).toEqual([
      'vmss-gh-linux-weu',
      '2026.10.1 × 4',
      'runner 2.329.0',
      'update due: 19 days left (GitHub stops sending jobs by 2026-12-21 02:55 UTC at the latest)',
    ]);
    expect(await cells('[data-compliance="vmss-ado-win-weu"]')).toEqual([
      'vmss-ado-win-weu',
      '2026.10.1 × 2',
      'agent 4.269.0',
      'as configured',
    ]);
    expect(await page.locator('#compliance-notes').textContent()).toMatch(
      /^Latest GitHub Actions runner: 2\.330\.0, released 2026-11-21\..*Azure DevOps agent configured \(AGENT_VERSION\): 4\.269\.0\.$/,
    );
  });

  it('is accessible: one h1, labelled sections, text labels on bars, contrast of at least 4.5:1', async () => {
    expect(await page.locator('h1').count()).toBe(1);
    expect(await page.locator('section[aria-labelledby] > h2').count()).toBe(10);
    // No rebuild has run in this world: the rebuilds section says so rather than standing empty.
    expect(await page.locator('#rebuild-rows').textContent()).toBe('No rebuild among the runs shown.');
    // No scale set carries capacity tags: the capacity section says so.
    expect(await page.locator('#capacity-rows').textContent()).toBe(
      'No scale set carries capacity tags: capacities stay as they are.',
    );
    expect(await page.locator('.bar:not([role="img"][aria-label])').count()).toBe(0);
    const ratios = (await page.evaluate(CONTRAST)) as { text: string; ratio: number }[];
    expect(ratios.length).toBeGreaterThan(10);
    for (const r of ratios) expect(r.ratio, r.text).toBeGreaterThanOrEqual(4.5);
  });

  it('updates while a rollout runs: the rollout with its waves, then the bars, then the finished run', async () => {
    const start = await fetch(`${served.url}/api/rollouts`, {
      method: 'POST',
      headers: { 'x-functions-key': served.key, 'content-type': 'application/json' },
      body: JSON.stringify({ image: 'linux', version: '2026.11.1' }),
    });
    expect(start.status).toBe(202);

    const active = page.locator(`#rollouts [data-run="${ROLLOUT}"]`);
    await active.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => active.locator('li').allTextContents(), { timeout: 30_000, interval: 250 })
      .toContainEqual(expect.stringMatching(/^vmss-gh-linux-weu: wave \d+, \d on 2026\.11\.1/));
    // Mid-rollout the lead's bar is split between the old and the new version.
    await page
      .locator('[data-scale-set="vmss-gh-linux-weu"] .seg[data-version="2026.11.1"]')
      .waitFor({ timeout: 30_000 });
    // The waves table gains rows while the rollout runs, and a pace shows once an instance moved.
    await expect
      .poll(async () => (await waveRows()).length, { timeout: 30_000, interval: 250 })
      .toBeGreaterThanOrEqual(1);
    const firstWaves = (await waveRows()).length;
    await expect
      .poll(() => page.locator(`#drift-notes [data-fleet-pace="${ROLLOUT}"]`).textContent(), {
        timeout: 30_000,
        interval: 250,
      })
      .toMatch(
        /: \d+ of 7 instances moved since 2026-12-01 \d\d:\d\d UTC; fleet pace [\d.]+ instances an hour; the remaining \d+ in about [\d.]+ (h|min), by 2026-12-0\d \d\d:\d\d UTC$/,
      );
    // Per scale set: the lead's own pace, the other queued behind it with none yet.
    await expect
      .poll(async () => (await cells('[data-drift="vmss-gh-linux-weu"]'))[3], {
        timeout: 10_000,
        interval: 250,
      })
      .toMatch(
        /^wave \d of rollout-linux-agent-2026\.11\.1: ([\d.]+ instances an hour; the remaining \d in about [\d.]+ (h|min), by 2026-12-01 \d\d:\d\d UTC|done: every instance is on 2026\.11\.1)$/,
      );
    await expect
      .poll(async () => (await cells('[data-drift="vmss-gh-linux-neu"]'))[3], {
        timeout: 10_000,
        interval: 250,
      })
      .toBe('queued in rollout-linux-agent-2026.11.1: not started, no pace yet');
    await expect
      .poll(async () => (await waveRows()).length, { timeout: 60_000, interval: 250 })
      .toBeGreaterThan(firstWaves);
    expect(await page.locator('#waves-notes').textContent()).toMatch(
      new RegExp(`^Running: rollout linux-agent 2026\\.11\\.1 \\(${ROLLOUT}, Running\\)`),
    );
    // Once the lead is done and the other scale set rolls, the lead moves no more: no pace of its own.
    await expect
      .poll(async () => (await cells('[data-drift="vmss-gh-linux-weu"]'))[3], {
        timeout: 60_000,
        interval: 250,
      })
      .toBe(`its part of ${ROLLOUT} ended: every instance is on 2026.11.1`);
    await page
      .screenshot({ path: SCREENSHOT.replace('.png', '-rollout.png'), fullPage: true })
      .catch(() => undefined);

    await expect
      .poll(() => bar('vmss-gh-linux-neu').getAttribute('aria-label'), { timeout: 90_000, interval: 500 })
      .toBe('vmss-gh-linux-neu: 3 instances on 2026.11.1');
    expect(await bar('vmss-gh-linux-weu').getAttribute('aria-label')).toBe(
      'vmss-gh-linux-weu: 4 instances on 2026.11.1',
    );
    await expect
      .poll(() => page.locator('#run-rows tr').first().textContent(), { timeout: 20_000 })
      .toMatch(new RegExp(`${ROLLOUT}.*http node.*Completed.*succeeded`));
    await expect
      .poll(() => page.locator('#rollouts').textContent(), { timeout: 10_000 })
      .toBe('No rollout is running.');
    expect(await bar('vmss-ado-win-weu').getAttribute('aria-label')).toBe(
      'vmss-ado-win-weu: 2 instances on 2026.10.1',
    );

    // Done: the latest rollout's waves stay, one instance a wave (20 % of 4 and of 3, at least one),
    // each back healthy; drift and compliance follow the instances to 2026.11.1.
    await expect
      .poll(() => page.locator('#waves-notes').textContent(), { timeout: 10_000 })
      .toMatch(/^Latest: /);
    const rows = await page
      .locator('#wave-rows tr[data-wave]')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    const of = (name: string) => rows.filter((r) => r[1] === name).map((r) => [r[2], r[3], r[4], r[5]]);
    expect(of('vmss-gh-linux-weu')).toEqual([
      ['1', '1', '1 healthy on 2026.11.1', '1'],
      ['2', '1', '1 healthy on 2026.11.1', '2'],
      ['3', '1', '1 healthy on 2026.11.1', '3'],
      ['4', '1', '1 healthy on 2026.11.1', '4'],
    ]);
    expect(of('vmss-gh-linux-neu').at(-1)).toEqual([expect.any(String), '1', '1 healthy on 2026.11.1', '3']);
    const started = rows.map((r) => r[0]!);
    expect(started).toEqual([...started].sort());
    await expect
      .poll(() => cells('[data-drift="vmss-gh-linux-weu"]'), { timeout: 10_000 })
      .toEqual([
        'vmss-gh-linux-weu',
        '2026.11.1 × 4: 30 days old, the latest promoted',
        '0 of 4 not on 2026.11.1',
        'no rollout running',
      ]);
    expect(await cells('[data-compliance="vmss-gh-linux-neu"]')).toEqual([
      'vmss-gh-linux-neu',
      '2026.11.1 × 3',
      'runner 2.330.0',
      'the latest release',
    ]);
  }, 180_000);

  it('shows the run history a page at a time: "Show older runs" shows the next', async () => {
    const key = { 'x-functions-key': served.key };
    expect(
      (await fetch(`${served.url}/api/cleanups`, { method: 'POST', headers: key, body: '{"dryRun":true}' }))
        .status,
    ).toBe(202);
    const ended = async () =>
      (
        (await (await fetch(`${served.url}/api/runs`, { headers: key })).json()) as {
          runs: { status: string }[];
        }
      ).runs.map((r) => r.status);
    await expect.poll(ended, { timeout: 30_000, interval: 250 }).toEqual(['Completed', 'Completed']);
    await page.goto(`${served.dashboard}&refresh=60&runs=1`);
    const rows = page.locator('#run-rows tr');
    await expect
      .poll(() => rows.allTextContents(), { timeout: 20_000 })
      .toEqual([expect.stringMatching(/^kiln-cleanupcleanupfleet \(dry run\)http nodeCompletedplanned/)]);
    const more = page.getByRole('button', { name: 'Show older runs' });
    await more.click();
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(2);
    expect(await rows.nth(1).textContent()).toMatch(new RegExp(`^${ROLLOUT}`));
    expect(await more.isHidden()).toBe(true);
  });

  it("shows the ghosts removed per day: a real cleanup deletes the fixture's ghost runner", async () => {
    const key = { 'x-functions-key': served.key };
    const cleanups = async () =>
      (
        (await (await fetch(`${served.url}/api/runs?kind=cleanup`, { headers: key })).json()) as {
          runs: { status: string; dryRun: boolean; createdTime: string }[];
        }
      ).runs;
    const before = (await cleanups()).length;
    expect(
      (await fetch(`${served.url}/api/cleanups`, { method: 'POST', headers: key, body: '{}' })).status,
    ).toBe(202);
    await expect
      .poll(async () => (await cleanups()).map((r) => r.status), { timeout: 30_000, interval: 250 })
      .toEqual(Array(before + 1).fill('Completed'));
    const real = (await cleanups()).find((r) => !r.dryRun)!;
    await page.goto(`${served.dashboard}&refresh=60`);
    // The fixture plants one ghost GitHub runner; the dry run before deleted nothing.
    const row = page.locator(`#ghost-rows tr[data-day="${real.createdTime.slice(0, 10)}"]`);
    await expect
      .poll(() => row.textContent(), { timeout: 20_000 })
      .toBe(`${real.createdTime.slice(0, 10)}101`);
  });

  it('logged no console errors, and leaves a screenshot', async () => {
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(consoleErrors).toEqual([]);
  });
});
