/**
 * Turns an HTTP body into a validated request, or a 400 message naming the field and the problem.
 * An empty body means "all defaults".
 */
import type { z } from 'zod';

const MAX_BODY_BYTES = 64 * 1024;

export type ParsedRequest<T> = { ok: true; value: T } | { ok: false; status: 400 | 413; message: string };

export function parseJsonBody<S extends z.ZodTypeAny>(body: string, schema: S): ParsedRequest<z.output<S>> {
  if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
    return { ok: false, status: 413, message: `request body is larger than ${MAX_BODY_BYTES} bytes` };
  }
  let json: unknown = {};
  if (body.trim() !== '') {
    try {
      json = JSON.parse(body);
    } catch (error) {
      return {
        ok: false,
        status: 400,
        message: `request body is not valid JSON: ${(error as Error).message}`,
      };
    }
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, status: 400, message: 'request body must be a JSON object' };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const message = result.error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys')
        return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      const field = issue.path.join('.') || '(body)';
      return `field "${field}": ${issue.message}`;
    })
    .join('; ');
  return { ok: false, status: 400, message };
}
