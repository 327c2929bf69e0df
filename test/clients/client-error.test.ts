/**
 * Error mapping shared by the clients: stable names (TransientError / PermanentError), a message
 * naming operation and status, nothing credential-like in it.
 */
import { describe, expect, it } from 'vitest';
import { scrub, toClientError } from '../../src/clients/client-error.js';
import { PermanentError, TransientError } from '../../src/clients/errors.js';
import { FaultBook } from '../../src/local/fake-cloud/faults.js';

describe('toClientError', () => {
  it('429 and 5xx are transient, other 4xx permanent', () => {
    const e429 = toClientError(
      'arm getScaleSet x',
      Object.assign(new Error('throttled'), { name: 'RestError', statusCode: 429 }),
    );
    expect(e429).toBeInstanceOf(TransientError);
    expect(e429.name).toBe('TransientError');
    expect(e429.message).toBe('arm getScaleSet x failed (HTTP 429): throttled');
    expect(toClientError('op', Object.assign(new Error('boom'), { status: 503 })).name).toBe(
      'TransientError',
    );
    const e404 = toClientError('op', Object.assign(new Error('Not Found'), { status: 404 }));
    expect(e404).toBeInstanceOf(PermanentError);
    expect(e404.name).toBe('PermanentError');
  });

  it('timeouts and dropped connections are transient; unknown errors permanent', () => {
    expect(toClientError('op', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).name).toBe(
      'TransientError',
    );
    expect(
      toClientError('op', new DOMException('The operation was aborted due to timeout', 'TimeoutError')).name,
    ).toBe('TransientError');
    expect(
      toClientError(
        'op',
        new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }) }),
      ).name,
    ).toBe('TransientError');
    expect(toClientError('op', new TypeError('Cannot read properties of undefined')).name).toBe(
      'PermanentError',
    );
  });

  it('keeps an already mapped error and scrubs credentials from service messages', () => {
    const mapped = new TransientError('x');
    expect(toClientError('op', mapped)).toBe(mapped);
    const leaky = Object.assign(
      new Error(
        'denied for Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl and ghs_abcdefghijklmnop1234',
      ),
      { status: 401 },
    );
    const msg = toClientError('github listRunners', leaky).message;
    expect(msg).not.toContain('eyJ');
    expect(msg).not.toContain('ghs_abcdefghijklmnop1234');
    expect(scrub('-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----')).toBe('***');
    expect(scrub('token abcdefgh12345678')).toBe('token ***');
  });
});

describe('FaultBook', () => {
  it('fires a fault `times` times, per service and operation, and counts firings', () => {
    const book = new FaultBook([{ service: 'github', operation: 'deleteRunner', status: 500, times: 2 }]);
    expect(book.takeHttp('github', 'listRunners')).toBeUndefined();
    expect(book.takeHttp('ado', 'deleteRunner')).toBeUndefined();
    expect(book.takeHttp('github', 'deleteRunner')?.status).toBe(500);
    expect(book.takeHttp('github', 'deleteRunner')?.status).toBe(500);
    expect(book.takeHttp('github', 'deleteRunner')).toBeUndefined();
    expect(book.fired).toEqual({ 'github:deleteRunner': 2 });
  });

  it('keeps long-running failures apart from HTTP faults and matches regions loosely', () => {
    const book = new FaultBook([
      { service: 'arm', operation: 'replication', region: 'northeurope', fail: true, times: 1 },
    ]);
    expect(book.takeHttp('arm', 'replication')).toBeUndefined();
    expect(book.takeFailure('arm', 'replication', 'westeurope')).toBeUndefined();
    expect(book.takeFailure('arm', 'replication', 'North Europe')).toBeDefined();
    expect(book.takeFailure('arm', 'replication', 'northeurope')).toBeUndefined();
  });

  it('"*" matches every operation of a service; hang and reset are HTTP faults', () => {
    const book = new FaultBook();
    book.add({ service: 'ado', operation: '*', hang: true, times: 1 });
    book.add({ service: 'ado', operation: 'getAgent', status: 0, times: 1 });
    expect(book.takeHttp('ado', 'listAgents')?.hang).toBe(true);
    expect(book.takeHttp('ado', 'getAgent')?.status).toBe(0);
  });
});
