import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/local/clock.js';
import { LocalAppHost } from '../../src/local/host/app-host.js';
import { resetRuntime } from '../../src/functions/runtime.js';

// GET /api/dashboard through the local host: the page itself (the browser test in test/dashboard/
// proves it draws the fleet). Self-contained, locked down by its CSP, behind the function key.
let host: LocalAppHost;

beforeAll(async () => {
  Object.assign(process.env, {
    AZURE_SUBSCRIPTION_ID: '00000000-0000-4000-8000-000000000001',
    KEYVAULT_URL: 'https://127.0.0.1:1',
  });
  resetRuntime();
  host = await LocalAppHost.start({ clock: new VirtualClock('2026-12-01T03:00:00Z') });
});
afterAll(() => host.close());

describe('GET /api/dashboard', () => {
  it('requires the function key, accepting it as ?code= so a browser can open the page', async () => {
    expect((await host.invokeHttp({ method: 'GET', path: '/api/dashboard' })).status).toBe(401);
    const response = await host.invokeHttp({
      method: 'GET',
      path: `/api/dashboard?code=${host.functionKey}`,
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('is one self-contained page: no external scripts, styles, fonts or images', async () => {
    const { body, headers } = await host.invokeHttp({
      method: 'GET',
      path: `/api/dashboard?code=${host.functionKey}`,
    });
    expect(body).toMatch(/^<!doctype html>/);
    expect(body).not.toMatch(/<script[^>]*\bsrc=/i);
    expect(body).not.toMatch(/<link[^>]*rel="stylesheet"/i);
    expect(body).not.toMatch(/@import|url\(|https?:\/\//i);
    const nonce = /<script nonce="([^"]+)">/.exec(body)![1]!;
    expect(headers['content-security-policy']).toBe(
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
    // A fresh nonce per response.
    const again = await host.invokeHttp({ method: 'GET', path: `/api/dashboard?code=${host.functionKey}` });
    expect(again.body).not.toContain(nonce);
  });

  it('is structured for assistive technology: language, title, headings, labelled sections and tables', async () => {
    const { body } = await host.invokeHttp({
      method: 'GET',
      path: `/api/dashboard?code=${host.functionKey}`,
    });
    expect(body).toContain('<html lang="en">');
    expect(body).toContain('<title>kiln — fleet dashboard</title>');
    expect(body).toContain('<h1>kiln fleet</h1>');
    for (const heading of [
      'Scale sets by image version',
      'Active rollouts',
      'Gallery versions',
      'Run history',
      'Rebuilds and software changes',
      'Ghosts removed per day',
      'Capacity on demand',
      'Drift per scale set',
      'Runner and agent versions',
      'Rollout waves',
    ])
      expect(body).toMatch(new RegExp(`<h2 id="[^"]+">${heading}</h2>`));
    expect(body).toContain('role="status" aria-live="polite"');
    expect(body.match(/<th scope="col">/g)!.length).toBe(42);
  });

  it('never embeds the key: the page reads it from its own address', async () => {
    const { body } = await host.invokeHttp({
      method: 'GET',
      path: `/api/dashboard?code=${host.functionKey}`,
    });
    expect(body).not.toContain(host.functionKey);
  });
});
