/**
 * Validates the body of POST /api/registrations: the computer name of the instance asking, and the
 * attested document of its VM (src/registration/attestation.ts) that binds the request to that VM.
 */
import { z } from 'zod';
import { HOW_TO_GET_ATTESTED_DOCUMENT } from '../registration/attestation.js';
import { parseJsonBody, type ParsedRequest } from './parse-json-body.js';

const registrationRequest = z
  .object({
    // A VM computer name (Linux allows 64 characters, Windows 15); it becomes the runner's name.
    instance: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/,
        'must be the computer name of the instance (letters, digits, -)',
      ),
    // IMDS's base64 PKCS#7 (a few kB); what it proves is the broker's to judge.
    attestedDocument: z
      .string({ required_error: `is required: ${HOW_TO_GET_ATTESTED_DOCUMENT}` })
      .min(1, `must not be empty: ${HOW_TO_GET_ATTESTED_DOCUMENT}`)
      .max(32 * 1024, 'is longer than an attested document (32 KiB)'),
  })
  .strict();

export type RegistrationRequest = z.output<typeof registrationRequest>;

export function parseRegistrationRequest(body: string): ParsedRequest<RegistrationRequest> {
  // An empty body is not "all defaults" here: the instance is required.
  return parseJsonBody(body.trim() === '' ? '{}' : body, registrationRequest);
}
