/**
 * Starting an orchestration as a singleton (S5): a run whose instance id is already running is not
 * started again; the caller gets the running instance's status instead.
 */
import type { DurableClient, DurableOrchestrationStatus, HttpManagementPayload } from 'durable-functions';
import { HttpResponse, type HttpRequest } from './azure-functions.js';
import type { StartedBy } from '../orchestration-contracts.js';
import { isActiveStatus } from '../run-status.js';
import { looksLikeCredential } from '../secret-patterns.js';

export type StartOutcome =
  | { started: true; instanceId: string }
  | { started: false; instanceId: string; status: DurableOrchestrationStatus };

export async function previousStatus(
  client: DurableClient,
  instanceId: string,
): Promise<DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(instanceId);
  } catch {
    // The client reports an unknown instance by throwing; any other failure surfaces at startNew.
    return undefined;
  }
}

export async function startSingleton(
  client: DurableClient,
  orchestration: string,
  instanceId: string,
  input: unknown,
  previous?: DurableOrchestrationStatus,
): Promise<StartOutcome> {
  const status = previous ?? (await previousStatus(client, instanceId));
  if (status && isActiveStatus(status.runtimeStatus)) return { started: false, instanceId, status };
  try {
    await client.startNew(orchestration, { instanceId, input });
  } catch (error) {
    const now = await previousStatus(client, instanceId);
    if (now && isActiveStatus(now.runtimeStatus)) return { started: false, instanceId, status: now };
    throw error;
  }
  return { started: true, instanceId };
}

/**
 * Who started a run over HTTP, as far as the request says: the client its User-Agent names first
 * (kiln-cli/0.1.0, curl/8.5.0), for the run history. Informative only: the function key names no one.
 * Anything that looks like a credential is left out (the history is no place for one, S6).
 */
export function startedOverHttp(request: HttpRequest): StartedBy {
  const client = /^[A-Za-z0-9][\w.-]*(?:\/[\w.+-]+)?/.exec(request.headers.get('user-agent') ?? '')?.[0];
  return client && !looksLikeCredential(client)
    ? { by: 'http', client: client.slice(0, 100) }
    : { by: 'http' };
}

/**
 * The durable status links of a run, at the host and port the request came to. The extension's own
 * links name the host it believes it is (the app's default host name on Azure, the durable API's
 * loopback port locally), which a caller behind a custom domain or `kiln serve` cannot reach; the
 * SDK's createCheckStatusResponse moves its links to the request's origin the same way.
 */
export function statusLinks(
  client: DurableClient,
  request: HttpRequest,
  instanceId: string,
): HttpManagementPayload {
  const requestOrigin = new URL(request.url).origin;
  const { id, ...links } = client.createHttpManagementPayload(instanceId);
  const moved = Object.entries(links).map(([name, link]) => {
    const linkOrigin = new URL(link).origin;
    return [name, `${requestOrigin}${link.slice(linkOrigin.length)}`];
  });
  return { id, ...Object.fromEntries(moved) } as HttpManagementPayload;
}

/** The answer to an HTTP start: 202 with the status URLs, or 409 pointing at the run already going. */
export function startResponse(
  client: DurableClient,
  request: HttpRequest,
  outcome: StartOutcome,
  run: string,
): HttpResponse {
  if (outcome.started) return client.createCheckStatusResponse(request, outcome.instanceId);
  const links = statusLinks(client, request, outcome.instanceId);
  return new HttpResponse({
    status: 409,
    headers: { Location: links.statusQueryGetUri },
    jsonBody: {
      error: `${run} is already ${outcome.status.runtimeStatus}`,
      id: outcome.instanceId,
      statusQueryGetUri: links.statusQueryGetUri,
    },
  });
}
