/** Validates the body of POST /api/registrations: the computer name of the instance asking. */
import { z } from 'zod';
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
  })
  .strict();

export type RegistrationRequest = z.output<typeof registrationRequest>;

export function parseRegistrationRequest(body: string): ParsedRequest<RegistrationRequest> {
  // An empty body is not "all defaults" here: the instance is required.
  return parseJsonBody(body.trim() === '' ? '{}' : body, registrationRequest);
}
