/**
 * Fake Azure DevOps distributed-task API: agent pools by name, agents of a pool (with
 * `assignedRequest` when asked), get, PATCH (enable/disable) and DELETE, and the pool's job requests
 * (`jobrequests`: the workload's jobs waiting for an agent, the agents' assigned requests, and with
 * `completedRequestCount` other than 0 their last completed ones). Requires api-version 7.1
 * (or 7.1-preview.1) and either Basic auth (`base64(":" + PAT)`, where Azure DevOps also takes an Entra
 * access token for it in the PAT's place) or an Entra bearer token for the Azure DevOps resource.
 */
import type { FaultBook } from './faults.js';
import { applyHttpFault, bearerToken, sendJson, type FakeRequest } from './http.js';
import type { TokenIssuer } from './tokens.js';
import type { AdoJobRequest, World, WorldAgent } from './world.js';

const ADO_RESOURCE = '499b84ac-1321-427f-aa17-267ca6975798';
const ADO_API_VERSIONS = new Set(['7.1', '7.1-preview.1', '7.1-preview']);

export interface AdoFakeOptions {
  world: World;
  tokens: TokenIssuer;
  faults: FaultBook;
  origin: () => string;
  pat: () => string;
}

/**
 * Whether Azure DevOps takes this as the password of Basic auth: the PAT or, as Azure DevOps also
 * takes there, an Entra access token for it (what an agent's `config.cmd --auth pat` sends when
 * given such a token).
 */
export function acceptsAsPassword(o: Pick<AdoFakeOptions, 'pat' | 'tokens'>, password: string): boolean {
  return password !== '' && (password === o.pat() || o.tokens.check(password, ADO_RESOURCE) === 'ok');
}

export function adoHandler(o: AdoFakeOptions) {
  const { world, faults } = o;
  const names = world.names;

  const vssError = (
    req: FakeRequest,
    status: number,
    typeKey: string,
    message: string,
    headers: Record<string, string> = {},
  ) =>
    sendJson(
      req.res,
      status,
      {
        $id: '1',
        innerException: null,
        message,
        typeName: `Microsoft.TeamFoundation.DistributedTask.WebApi.${typeKey}, Microsoft.TeamFoundation.DistributedTask.WebApi`,
        typeKey,
        errorCode: 0,
        eventId: 3000,
      },
      headers,
    );

  return (req: FakeRequest): void => {
    if (!authenticated(req)) {
      return sendJson(req.res, 401, undefined, {
        'www-authenticate': `Bearer authorization_uri=https://login.microsoftonline.com/${names.tenantId}, Basic realm="${o.origin()}/", TFS-Federated`,
        'x-tfs-fedauthrealm': o.origin(),
      });
    }
    const parts = req.url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (
      parts[0]?.toLowerCase() !== names.adoOrganization.toLowerCase() ||
      parts[1] !== '_apis' ||
      parts[2]?.toLowerCase() !== 'distributedtask'
    ) {
      return vssError(req, 404, 'NotFoundException', `The resource ${req.url.pathname} was not found.`);
    }
    // The api-version may come in the query or in the Accept header, as ADO clients do both.
    const fromAccept = /api-version=([0-9a-z.-]+)/i.exec(String(req.headers.accept ?? ''))?.[1];
    const apiVersion = req.url.searchParams.get('api-version') ?? fromAccept;
    if (!apiVersion) {
      return vssError(
        req,
        400,
        'VssVersionNotSpecifiedException',
        'No api-version was supplied for the "' +
          req.method +
          '" request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. "?api-version=1.0").',
      );
    }
    if (!ADO_API_VERSIONS.has(apiVersion)) {
      return vssError(
        req,
        400,
        'VssVersionOutOfRangeException',
        `The requested REST API version of ${apiVersion} is not supported by this fake; use 7.1.`,
      );
    }
    const rest = parts.slice(3);
    const m = req.method;
    if (rest[0]?.toLowerCase() !== 'pools')
      return vssError(req, 404, 'NotFoundException', `The resource ${req.url.pathname} was not found.`);

    if (rest.length === 1 && m === 'GET') {
      return op(req, 'getPools', () => {
        const wanted = req.url.searchParams.get('poolName');
        const pools = [poolBody()].filter((p) => !wanted || p.name.toLowerCase() === wanted.toLowerCase());
        sendJson(req.res, 200, { count: pools.length, value: pools });
      });
    }
    const poolId = Number(rest[1]);
    if (rest.length === 2 && m === 'GET') {
      return op(req, 'getPools', () =>
        poolId === names.adoPoolId
          ? sendJson(req.res, 200, poolBody())
          : vssError(req, 404, 'TaskAgentPoolNotFoundException', `Agent pool ${rest[1]} could not be found.`),
      );
    }
    const resource = rest[2]?.toLowerCase();
    if (resource !== 'agents' && resource !== 'jobrequests')
      return vssError(req, 404, 'NotFoundException', `The resource ${req.url.pathname} was not found.`);
    if (poolId !== names.adoPoolId)
      return vssError(
        req,
        404,
        'TaskAgentPoolNotFoundException',
        `Agent pool ${rest[1]} could not be found.`,
      );
    if (resource === 'jobrequests') {
      if (rest.length === 3 && m === 'GET') return op(req, 'listJobRequests', () => jobRequests(req));
      return vssError(req, 404, 'NotFoundException', `The resource ${req.url.pathname} was not found.`);
    }
    const include = req.url.searchParams.get('includeAssignedRequest') === 'true';
    const includeLast = req.url.searchParams.get('includeLastCompletedRequest') === 'true';

    if (rest.length === 3 && m === 'GET') {
      return op(req, 'listAgents', () => {
        const name = req.url.searchParams.get('agentName');
        const agents = [...world.agents.values()]
          .filter((a) => !name || a.name.toLowerCase() === name.toLowerCase())
          .sort((a, b) => a.id - b.id);
        sendJson(req.res, 200, {
          count: agents.length,
          value: agents.map((a) => agentBody(a, include, includeLast)),
        });
      });
    }
    if (rest.length === 4 && /^\d+$/.test(rest[3]!)) {
      const agentId = Number(rest[3]);
      const notFound = () =>
        vssError(req, 404, 'TaskAgentNotFoundException', `Agent ${agentId} was not found in pool ${poolId}.`);
      if (m === 'GET') {
        return op(req, 'getAgent', () => {
          const a = world.agents.get(agentId);
          return a ? sendJson(req.res, 200, agentBody(a, include, includeLast)) : notFound();
        });
      }
      if (m === 'DELETE') {
        return op(req, 'deleteAgent', () =>
          world.deleteAgent(agentId) === 'gone' ? notFound() : sendJson(req.res, 204, undefined),
        );
      }
      if (m === 'PATCH') {
        return op(req, 'updateAgent', () => {
          let b: Record<string, unknown>;
          try {
            b = JSON.parse(req.body) as Record<string, unknown>;
          } catch {
            return vssError(
              req,
              400,
              'VssRequestContentException',
              'The request body could not be parsed as JSON.',
            );
          }
          if (typeof b !== 'object' || b === null || Array.isArray(b))
            return vssError(
              req,
              400,
              'ArgumentNullException',
              'Value cannot be null.\r\nParameter name: agent',
            );
          const a = world.agents.get(agentId);
          if (!a) return notFound();
          if (b.id !== undefined && Number(b.id) !== agentId)
            return vssError(
              req,
              400,
              'ArgumentException',
              `The agent id in the body (${String(b.id)}) does not match the URL (${agentId}).`,
            );
          if (b.enabled !== undefined) {
            if (typeof b.enabled !== 'boolean')
              return vssError(req, 400, 'ArgumentException', 'enabled must be a boolean.');
            world.setAgentEnabled(a, b.enabled);
          }
          sendJson(req.res, 200, agentBody(a, false, false));
        });
      }
    }
    return vssError(req, 404, 'NotFoundException', `The resource ${req.url.pathname} was not found.`);
  };

  /**
   * `GET …/pools/{poolId}/jobrequests`: the requests waiting for an agent of the pool (no
   * reservedAgent, no assignTime, result null), the ones agents run (reservedAgent, no finishTime),
   * and the agents' last completed ones unless `completedRequestCount=0` (or only that many, newest
   * first). `$top` keeps the first that many, as the service caps the list.
   */
  function jobRequests(req: FakeRequest): void {
    const completedParam = req.url.searchParams.get('completedRequestCount');
    const topParam = req.url.searchParams.get('$top');
    for (const [name, value] of [
      ['completedRequestCount', completedParam],
      ['$top', topParam],
    ] as const)
      if (value !== null && !/^\d+$/.test(value))
        return vssError(
          req,
          400,
          'InvalidRequestParameterException',
          `The value '${value}' is not valid for ${name}.`,
        );
    const agents = [...world.agents.values()].sort((a, b) => a.id - b.id);
    const queued = world.queuedAdoRequests(names.adoPoolName).map((r) => requestBody(r, undefined));
    const running = agents.flatMap((a) =>
      a.assignedRequest && !a.assignedRequest.finishTime ? [requestBody(a.assignedRequest, a)] : [],
    );
    const completed = agents
      .flatMap((a) => (a.lastCompletedRequest ? [requestBody(a.lastCompletedRequest, a)] : []))
      .sort((x, y) => y.finishTime!.localeCompare(x.finishTime!))
      .slice(0, completedParam === null ? undefined : Number(completedParam));
    const all = [...queued, ...running, ...completed].sort((x, y) => x.requestId - y.requestId);
    const value = topParam === null ? all : all.slice(0, Number(topParam));
    sendJson(req.res, 200, { count: value.length, value });
  }

  /** A TaskAgentJobRequest as the service answers it; `agent`: the agent it runs or ran on. */
  function requestBody(r: AdoJobRequest, agent: WorldAgent | undefined) {
    const projectId = '00000000-0000-0000-0000-00000000c0c0';
    const project = `${o.origin()}/${names.adoOrganization}/${projectId}`;
    const owner = {
      _links: {
        web: { href: `${project}/_build/results?buildId=${r.requestId}` },
        self: { href: `${project}/_apis/build/Builds/${r.requestId}` },
      },
      id: r.requestId,
      name: `${r.definition?.name ?? 'ci'} ${r.requestId}`,
    };
    return {
      requestId: r.requestId,
      queueTime: r.queueTime,
      ...(r.assignTime ? { assignTime: r.assignTime } : {}),
      ...(r.receiveTime ? { receiveTime: r.receiveTime } : {}),
      ...(r.finishTime ? { finishTime: r.finishTime } : {}),
      ...(agent && !r.finishTime
        ? { lockedUntil: new Date(Date.parse(r.receiveTime ?? r.queueTime) + 5 * 60_000).toISOString() }
        : {}),
      result: r.result ?? null,
      serviceOwner: '00025394-6065-48ca-87d9-7f5672854ef7',
      hostId: '00000000-0000-0000-0000-00000000b0b0',
      scopeId: projectId,
      planType: r.planType,
      planId: r.planId,
      jobId: r.jobId,
      demands: ['Agent.Version -gtVersion 3.248.0'],
      ...(agent ? { reservedAgent: agentReference(agent) } : {}),
      ...(agent
        ? {}
        : {
            matchedAgents: [...world.agents.values()]
              .filter((a) => a.enabled)
              .sort((a, b) => a.id - b.id)
              .map(agentReference),
          }),
      definition: {
        _links: {
          web: { href: `${project}/_build/definition?definitionId=${r.definition?.id ?? 1}` },
          self: { href: `${project}/_apis/build/Definitions/${r.definition?.id ?? 1}` },
        },
        id: r.definition?.id ?? 1,
        name: r.definition?.name ?? 'ci',
      },
      owner,
      data: { ParallelismTag: 'Private', IsScheduledKey: 'False' },
      poolId: names.adoPoolId,
      orchestrationId: `${r.jobId}.__default`,
      priority: 0,
    };
  }

  /** A TaskAgentReference: what a job request says of its agent. */
  function agentReference(a: WorldAgent) {
    // The agent's own body without what only a TaskAgent carries.
    const {
      maxParallelism: _maxParallelism,
      createdOn: _createdOn,
      statusChangedOn: _statusChangedOn,
      authorization: _authorization,
      ...reference
    } = agentBody(a, false, false);
    return reference;
  }

  function authenticated(req: FakeRequest): boolean {
    const h = req.headers.authorization ?? '';
    const basic = /^Basic\s+(\S+)$/i.exec(h);
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      return decoded.includes(':') && acceptsAsPassword(o, decoded.slice(decoded.indexOf(':') + 1));
    }
    return o.tokens.check(bearerToken(req), ADO_RESOURCE) === 'ok';
  }

  function op(req: FakeRequest, operation: string, fn: () => void): void {
    const fault = faults.takeHttp('ado', operation);
    if (
      applyHttpFault(req, fault, (status) => ({
        body: {
          $id: '1',
          innerException: null,
          message:
            status === 429 ? 'Request was blocked due to exceeding usage of resource.' : `Injected ${status}`,
          typeName: 'Fault',
          typeKey: 'Fault',
          errorCode: 0,
          eventId: 3000,
        },
      }))
    )
      return;
    fn();
  }

  function poolBody() {
    return {
      createdOn: '2025-06-01T08:00:00.000Z',
      autoProvision: false,
      autoUpdate: true,
      autoSize: false,
      targetSize: null,
      agentCloudId: null,
      createdBy: { displayName: 'kiln admin', id: '00000000-0000-0000-0000-00000000a0a0' },
      owner: { displayName: 'kiln admin', id: '00000000-0000-0000-0000-00000000a0a0' },
      properties: {},
      id: names.adoPoolId,
      scope: '00000000-0000-0000-0000-00000000c0c0',
      name: names.adoPoolName,
      isHosted: false,
      poolType: 'automation',
      size: world.agents.size,
      isLegacy: false,
      options: 'none',
    };
  }

  function agentBody(a: WorldAgent, include: boolean, includeLast: boolean) {
    const base = `${o.origin()}/${names.adoOrganization}/_apis/distributedtask/pools/${names.adoPoolId}/agents/${a.id}`;
    return {
      _links: {
        self: { href: base },
        web: {
          href: `${o.origin()}/${names.adoOrganization}/_settings/agentpools?agentId=${a.id}&poolId=${names.adoPoolId}`,
        },
      },
      maxParallelism: 1,
      createdOn: a.createdOn,
      statusChangedOn: a.statusChangedOn,
      authorization: {
        clientId: `00000000-0000-4000-8000-${String(a.id).padStart(12, '0')}`,
        publicKey: { exponent: 'AQAB', modulus: 'fake' },
      },
      id: a.id,
      name: a.name,
      version: a.version,
      osDescription: a.osDescription,
      enabled: a.enabled,
      status: a.status,
      provisioningState: 'Provisioned',
      accessPoint: 'CodexAccessMapping',
      ...(include && a.assignedRequest
        ? { assignedRequest: { ...a.assignedRequest, poolId: names.adoPoolId } }
        : {}),
      ...(includeLast && a.lastCompletedRequest
        ? { lastCompletedRequest: { ...a.lastCompletedRequest, poolId: names.adoPoolId } }
        : {}),
    };
  }
}
