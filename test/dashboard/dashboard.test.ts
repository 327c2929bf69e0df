import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { startServe, type Served } from '../cli/serve-helper.js';

// The dashboard in a real headless Chromium (Debian's, installed by .ci/setup-dashboard.sh), served
// by `kiln serve`: it shows every scale set of the scenario, updates while a rollout runs, and logs
// no console errors. The screenshot is kept as test-results/dashboard.png.
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
  return [...document.querySelectorAll('.seg, .facts, h1, h2, h3, td, th, #state')].map((el) => {
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
    served = await startServe(['--scenario', FIXTURE, '--speed', '120']);
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

  it('is accessible: one h1, labelled sections, text labels on bars, contrast of at least 4.5:1', async () => {
    expect(await page.locator('h1').count()).toBe(1);
    expect(await page.locator('section[aria-labelledby] > h2').count()).toBe(4);
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

  it('logged no console errors, and leaves a screenshot', async () => {
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(consoleErrors).toEqual([]);
  });
});
