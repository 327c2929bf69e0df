/**
 * POST /api/rebuilds/{id}/approve and /reject: a person's answer to a rebuild PROMOTION_GATE holds
 * (state awaitingApproval). The answer reaches the orchestration as its APPROVAL_EVENT; a rebuild
 * that is not waiting for one is refused with what it is doing instead, so an answer never lands on
 * a later wait it was not meant for.
 */
import { app, HttpResponse, type HttpRequest, type InvocationContext } from './azure-functions.js';
import * as df from 'durable-functions';
import { z } from 'zod';
import { describeStartedBy } from '../history/run-record.js';
import { Orchestrations } from '../names.js';
import { APPROVAL_EVENT, type ApprovalDecision } from '../orchestrations/rebuild.js';
import { looksLikeCredential } from '../secret-patterns.js';
import { parseJsonBody } from './parse-json-body.js';
import { previousStatus, startedOverHttp, statusLinks } from './start-run.js';

const decisionBody = z
  .object({
    /** Who answers, as the caller says (kiln rebuild approve sends the user's name). */
    by: z.string().trim().min(1).max(100).optional(),
    reason: z.string().trim().max(500, 'must be at most 500 characters').optional(),
  })
  .strict();

export function registerApproval(): void {
  for (const decision of ['approve', 'reject'] as const) {
    app.http(`${decision}Rebuild`, {
      route: `rebuilds/{id}/${decision}`,
      methods: ['POST'],
      authLevel: 'function',
      extraInputs: [df.input.durableClient()],
      handler: (request: HttpRequest, context: InvocationContext) => decide(decision, request, context),
    });
  }
}

async function decide(
  decision: ApprovalDecision['decision'],
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponse> {
  const id = request.params.id ?? '';
  const body = parseJsonBody(await request.text(), decisionBody);
  if (!body.ok) return new HttpResponse({ status: body.status, jsonBody: { error: body.message } });
  const client = df.getClient(context);
  const status = await previousStatus(client, id);
  if (!status || status.name !== Orchestrations.rebuild || id.includes(':'))
    return new HttpResponse({ status: 404, jsonBody: { error: `no rebuild "${id}"` } });
  const custom = (status.customStatus ?? {}) as { state?: string; phase?: string; version?: string };
  if (status.runtimeStatus !== df.OrchestrationRuntimeStatus.Running || custom.state !== 'awaitingApproval') {
    const doing =
      status.runtimeStatus === df.OrchestrationRuntimeStatus.Running
        ? `is ${custom.phase ?? 'running'}`
        : `has ended (${status.runtimeStatus})`;
    return new HttpResponse({
      status: 409,
      jsonBody: {
        error: `rebuild ${id} ${doing}: it is not awaiting approval, so there is nothing to ${decision}`,
      },
    });
  }
  const by = whoDecides(request, body.value.by);
  const answer: ApprovalDecision = {
    decision,
    by,
    ...(body.value.reason ? { reason: body.value.reason } : {}),
  };
  await client.raiseEvent(id, APPROVAL_EVENT, answer);
  context.log(`rebuild ${id} (${custom.version ?? 'version unknown'}): ${decision} by ${by}`);
  return new HttpResponse({
    status: 202,
    headers: { Location: statusLinks(client, request, id).statusQueryGetUri },
    jsonBody: { ...statusLinks(client, request, id), version: custom.version, decision, by },
  });
}

/**
 * Who answered: the App Service authentication principal when the app has one in front, else the
 * name the caller gave, else its client (user agent). Never a credential-looking text.
 */
function whoDecides(request: HttpRequest, given: string | undefined): string {
  const principal = request.headers.get('x-ms-client-principal-name')?.trim();
  for (const name of [principal, given]) if (name && !looksLikeCredential(name)) return name.slice(0, 100);
  return describeStartedBy(startedOverHttp(request));
}
