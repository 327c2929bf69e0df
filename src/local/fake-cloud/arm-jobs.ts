/**
 * The fake ARM's Container Apps job (the Packer job): read it, start an execution with a template,
 * list, read and stop executions.
 */
import { ArmError, type ArmContext } from './arm-context.js';
import { sendJson, type FakeRequest } from './http.js';
import type { WorldExecution } from './world.js';

/** `…/Microsoft.App/jobs/{job}[/…]`. */
export function jobRoutes(ctx: ArmContext) {
  const { world, names, faults, run, body } = ctx;
  return jobRoute;

  function jobRoute(req: FakeRequest, rg: string, job: string, rest: string[], restLower: string[]): void {
    const m = req.method;
    const ok =
      rg.toLowerCase() === names.packerResourceGroup.toLowerCase() &&
      job.toLowerCase() === names.packerJobName.toLowerCase();
    const check = () => {
      if (!ok)
        throw new ArmError(
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.App/jobs/${job}' under resource group '${rg}' was not found.`,
        );
    };
    const findExec = (name: string): WorldExecution => {
      const e = world.executions.get(name);
      if (!e || e.jobName.toLowerCase() !== job.toLowerCase())
        throw new ArmError(404, 'ResourceNotFound', `Job execution '${name}' of job '${job}' was not found.`);
      return e;
    };
    if (rest.length === 0 && m === 'GET')
      return run(req, 'app', 'jobs.get', () => (check(), sendJson(req.res, 200, jobBody())));
    if (rest.length === 1 && restLower[0] === 'start' && m === 'POST') {
      return run(req, 'app', 'jobs.start', () => {
        check();
        const b = body(req, false);
        const template = Object.keys(b).length === 0 ? defaultTemplate() : b;
        const containers = (template as { containers?: unknown }).containers;
        if (!Array.isArray(containers) || containers.length === 0) {
          throw new ArmError(
            400,
            'InvalidRequestContent',
            'JobExecutionTemplate.containers must contain at least one container.',
          );
        }
        for (const c of containers as Record<string, unknown>[]) {
          if (typeof c?.image !== 'string' || typeof c?.name !== 'string')
            throw new ArmError(
              400,
              'ContainerAppInvalidContainer',
              'Every container needs a name and an image.',
            );
        }
        const fail = !!faults.takeFailure('arm', 'jobs.start');
        const exec = world.startExecution(names.packerJobName, template, fail);
        sendJson(req.res, 200, { id: `${world.packerJobId()}/executions/${exec.name}`, name: exec.name });
      });
    }
    if (restLower[0] === 'executions' && rest.length === 1 && m === 'GET') {
      return run(req, 'app', 'jobs.listExecutions', () => {
        check();
        sendJson(req.res, 200, { value: [...world.executions.values()].map(execBody), nextLink: null });
      });
    }
    if (restLower[0] === 'executions' && rest.length === 2 && m === 'GET') {
      return run(
        req,
        'app',
        'jobExecution',
        () => (check(), sendJson(req.res, 200, execBody(findExec(rest[1]!)))),
      );
    }
    if (restLower[0] === 'executions' && rest.length === 3 && restLower[2] === 'stop' && m === 'POST') {
      return run(req, 'app', 'jobs.stopExecution', () => {
        check();
        world.stopExecution(findExec(rest[1]!));
        sendJson(req.res, 200, undefined);
      });
    }
    throw new ArmError(404, 'NotFound', `No route for ${m} ${req.url.pathname}`);
  }

  function defaultTemplate() {
    return {
      containers: [
        { name: 'packer', image: 'crkiln.azurecr.io/kiln-packer:1', resources: { cpu: 2, memory: '4Gi' } },
      ],
    };
  }

  function jobBody() {
    return {
      id: world.packerJobId(),
      name: names.packerJobName,
      type: 'Microsoft.App/jobs',
      location: world.scenario.gallery.regions[0] ?? 'westeurope',
      properties: {
        provisioningState: 'Succeeded',
        environmentId: `/subscriptions/${names.subscriptionId}/resourceGroups/${names.packerResourceGroup}/providers/Microsoft.App/managedEnvironments/cae-kiln`,
        configuration: {
          replicaTimeout: 28800,
          replicaRetryLimit: 0,
          manualTriggerConfig: { replicaCompletionCount: 1, parallelism: 1 },
          triggerType: 'Manual',
        },
        template: defaultTemplate(),
      },
    };
  }

  function execBody(e: WorldExecution) {
    return {
      id: `${world.packerJobId()}/executions/${e.name}`,
      name: e.name,
      type: 'Microsoft.App/jobs/executions',
      properties: {
        status: e.status,
        startTime: new Date(e.startTime).toISOString(),
        ...(e.endTime !== undefined ? { endTime: new Date(e.endTime).toISOString() } : {}),
        template: e.template,
      },
    };
  }
}
