/**
 * Errors that cross from activities to orchestrators arrive only as name + message, so each class
 * has a stable `name` and orchestrators decide retry on the name, never on message text.
 */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

export class PermanentError extends Error {
  override readonly name = 'PermanentError';
}

/** Normalises anything thrown into an Error (the Functions library's ensureErrorType idea). */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  try {
    return new Error(JSON.stringify(value));
  } catch {
    return new Error(String(value));
  }
}
