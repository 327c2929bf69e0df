import { describe, expect, it } from 'vitest';
import { parseRebuildRequest } from '../../src/functions/parse-rebuild-request.js';

// A version field applies to one image; one that applies to no requested image is refused, naming
// the field and why, rather than dropped while the rebuild promotes an image nobody asked for.
const sha = 'a'.repeat(64);

describe('parseRebuildRequest: version fields and the images they apply to', () => {
  it.each([
    [
      'runnerVersion for windows only',
      { images: ['windows'], runnerVersion: '2.331.0' },
      'field "runnerVersion": applies to the linux image (GitHub runner) only: add "linux" to images or leave it out',
    ],
    [
      'agentVersion for linux only',
      { images: ['linux'], agentVersion: '4.261.0' },
      'field "agentVersion": applies to the windows image (Azure DevOps agent) only: add "windows" to images or leave it out',
    ],
    [
      'runnerSha256 without runnerVersion',
      { runnerSha256: sha },
      'field "runnerSha256": is the checksum of runnerVersion\'s package: give runnerVersion with it',
    ],
  ])('refuses %s', (_case, body, message) => {
    expect(parseRebuildRequest(JSON.stringify(body))).toEqual({ ok: false, status: 400, message });
  });

  it('names every misplaced field at once', () => {
    const parsed = parseRebuildRequest(
      JSON.stringify({ images: ['windows'], runnerVersion: '2.331.0', runnerSha256: sha }),
    );
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toMatch(/^field "runnerVersion": .*linux image/);
    // runnerSha256 comes with its runnerVersion: only the image is wrong.
    expect(!parsed.ok && parsed.message).not.toMatch(/runnerSha256/);
  });

  it.each([
    [
      'runnerVersion with its checksum for linux',
      { images: ['linux'], runnerVersion: '2.331.0', runnerSha256: sha },
    ],
    ['runnerVersion for both images (the default)', { runnerVersion: '2.331.0' }],
    ['agentVersion for windows', { images: ['windows'], agentVersion: '4.261.0' }],
    ['both versions for both images', { runnerVersion: '2.331.0', agentVersion: '4.261.0' }],
  ])('accepts %s', (_case, body) => {
    const parsed = parseRebuildRequest(JSON.stringify(body));
    expect(parsed).toMatchObject({ ok: true, value: body });
  });
});
