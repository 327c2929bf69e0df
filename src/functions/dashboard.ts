/**
 * GET /api/dashboard: the self-contained fleet dashboard (dashboard-page.ts). Function auth like every
 * route; the page reuses the key it was opened with (`?code=`) for its own requests. A strict
 * Content-Security-Policy allows only the page's own inline script and style and requests to itself.
 */
import { randomBytes } from 'node:crypto';
import { app, HttpResponse } from './azure-functions.js';
import { dashboardPage } from './dashboard-page.js';

export function registerDashboard(): void {
  app.http('dashboard', {
    route: 'dashboard',
    methods: ['GET'],
    authLevel: 'function',
    handler: () => {
      const nonce = randomBytes(16).toString('base64');
      return new HttpResponse({
        status: 200,
        body: dashboardPage(nonce),
        headers: {
          'Content-Type': 'text/html; charset=utf-8',
          'Cache-Control': 'no-store',
          'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
          'Referrer-Policy': 'no-referrer',
          'X-Content-Type-Options': 'nosniff',
        },
      });
    },
  });
}
