/** Validates the body of POST /api/cleanups. */
import { z } from 'zod';
import { parseJsonBody, type ParsedRequest } from './parse-json-body.js';

const cleanupRequest = z.object({ dryRun: z.boolean().default(false) }).strict();

export type CleanupRequest = z.output<typeof cleanupRequest>;

export function parseCleanupRequest(body: string): ParsedRequest<CleanupRequest> {
  return parseJsonBody(body, cleanupRequest);
}
