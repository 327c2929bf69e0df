/** Validates the body of POST /api/rebuilds. */
import { z } from 'zod';
import { isGalleryVersion } from '../domain/versions.js';
import { parseJsonBody, type ParsedRequest } from './parse-json-body.js';

const rebuildRequest = z
  .object({
    images: z
      .array(z.enum(['linux', 'windows']))
      .min(1, 'must name at least one image')
      .refine((images) => new Set(images).size === images.length, 'must not repeat an image')
      .default(['linux', 'windows']),
    dryRun: z.boolean().default(false),
    runnerVersion: z.string().refine(isGalleryVersion, 'must be a runner version such as 2.330.0').optional(),
    runnerSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')
      .optional(),
    agentVersion: z.string().refine(isGalleryVersion, 'must be an agent version such as 4.261.0').optional(),
  })
  .strict()
  // A field no requested image uses would be dropped without a word while the rebuild promotes an
  // image the operator did not ask for: refused instead.
  .superRefine((request, ctx) => {
    const refuse = (field: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [field], message });
    if (request.runnerVersion !== undefined && !request.images.includes('linux'))
      refuse(
        'runnerVersion',
        'applies to the linux image (GitHub runner) only: add "linux" to images or leave it out',
      );
    if (request.agentVersion !== undefined && !request.images.includes('windows'))
      refuse(
        'agentVersion',
        'applies to the windows image (Azure DevOps agent) only: add "windows" to images or leave it out',
      );
    if (request.runnerSha256 !== undefined && request.runnerVersion === undefined)
      refuse('runnerSha256', "is the checksum of runnerVersion's package: give runnerVersion with it");
  });

export type RebuildRequest = z.output<typeof rebuildRequest>;

export function parseRebuildRequest(body: string): ParsedRequest<RebuildRequest> {
  return parseJsonBody(body, rebuildRequest);
}
