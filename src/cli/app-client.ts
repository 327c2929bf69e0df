/**
 * How the run-control commands talk to a deployed kiln (or `kiln serve`): the app's HTTP API with
 * the function key in the x-functions-key header (never in the URL, so it stays out of proxies'
 * logs), and one error type whose exit code the commands return. The User-Agent names the CLI, so
 * the run history says a run was started with it.
 */
import { EXIT, type ExitCode } from './exit-codes.js';
import packageJson from '../../package.json' with { type: 'json' };

const USER_AGENT = `kiln-cli/${packageJson.version}`;

export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export interface AppClient {
  base: string;
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

/** Accepts https://app.azurewebsites.net, …/api or …/api/. */
function appBase(app: string | undefined): string {
  if (!app)
    throw new CommandError(
      '--app URL is required (or set KILN_APP_URL), e.g. --app https://func-kiln.azurewebsites.net',
      EXIT.usage,
    );
  let url: URL;
  try {
    url = new URL(app);
  } catch {
    throw new CommandError(
      `--app must be a URL such as https://func-kiln.azurewebsites.net, not "${app}"`,
      EXIT.usage,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new CommandError(`--app must be an http(s) URL, not "${app}"`, EXIT.usage);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api$/, '');
  return `${url.origin}${path}/api`;
}

export function createAppClient(
  app: string | undefined,
  key: string | undefined,
  timeoutMs = 30_000,
): AppClient {
  const base = appBase(app);
  return {
    base,
    async request(method, path, body) {
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, {
          method,
          headers: {
            accept: 'application/json',
            'user-agent': USER_AGENT,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(key ? { 'x-functions-key': key } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const cause = (error as { cause?: { message?: string } }).cause?.message;
        throw new CommandError(
          `cannot reach ${base}: ${cause ?? (error as Error).message}`,
          EXIT.unreachable,
        );
      }
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON: kept as text for the message.
      }
      if (response.status === 401 || response.status === 403)
        throw new CommandError(
          `${base} refused the request (${response.status}): pass the function key with --key or KILN_FUNCTION_KEY`,
          EXIT.unreachable,
        );
      if (response.status >= 500)
        throw new CommandError(
          `${method} ${path} answered ${response.status}: ${errorText(parsed)}`,
          EXIT.unreachable,
        );
      return { status: response.status, body: parsed };
    },
  };
}

export function errorText(body: unknown): string {
  if (body && typeof body === 'object' && 'error' in body) return String((body as { error: unknown }).error);
  return typeof body === 'string' ? body.slice(0, 300) : JSON.stringify(body);
}
