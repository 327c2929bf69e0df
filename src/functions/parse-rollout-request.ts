/** Validates the body of POST /api/rollouts. */
import { z } from 'zod';
import { isGalleryVersion } from '../domain/versions.js';
import { parseJsonBody, type ParsedRequest } from './parse-json-body.js';

const rolloutRequest = z
  .object({
    image: z.string().min(1, 'must name an image: linux, windows or an image definition'),
    version: z.string().refine(isGalleryVersion, 'must be a gallery version name such as 2026.12.1'),
    scaleSets: z.array(z.string().min(1)).max(500).optional(),
    dryRun: z.boolean().default(false),
    batchPercent: z.number().int().min(1).max(100).optional(),
    maxUnhealthyPercent: z.number().int().min(0).max(100).optional(),
    healthDeadlineMinutes: z.number().int().min(1).max(1440).optional(),
    busyWaitHours: z.number().min(0).max(168).optional(),
    pauseMinutes: z.number().int().min(0).max(1440).optional(),
    regionOrder: z.array(z.string().min(1)).max(100).optional(),
    /** An operator's rollback: scale sets may move to an older version than they run (S8 otherwise leaves them). */
    allowOlder: z.boolean().default(false),
  })
  .strict();

export type RolloutRequest = z.output<typeof rolloutRequest>;

export function parseRolloutRequest(
  body: string,
  definitions: { linux: string; windows: string },
): ParsedRequest<RolloutRequest & { definition: string }> {
  const parsed = parseJsonBody(body, rolloutRequest);
  if (!parsed.ok) return parsed;
  const image = parsed.value.image;
  const definition =
    image === 'linux'
      ? definitions.linux
      : image === 'windows'
        ? definitions.windows
        : [definitions.linux, definitions.windows].find((d) => d === image);
  if (!definition) {
    return {
      ok: false,
      status: 400,
      message: `field "image": unknown image "${image}" (use linux, windows, ${definitions.linux} or ${definitions.windows})`,
    };
  }
  return { ok: true, value: { ...parsed.value, definition } };
}
