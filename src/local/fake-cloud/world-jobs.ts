/**
 * The fake cloud's GitHub runners and Azure DevOps agents, and the jobs that keep them busy: an
 * instance registers under its computer name, a job makes its registration busy for its minutes (or
 * waits for it to come online), and taking a busy instance away interrupts the job (S1) unless
 * someone other than kiln did it. GitHub refuses to delete a busy runner; disabling a busy agent lets
 * its job finish (that is how Azure DevOps drains an agent). On a recycle scale set (tagged
 * `kiln-recycle=true`) a machine serves one job: its runner is ephemeral (GitHub removes it after the
 * job) and its agent runs with `--once` (offline after the job); it registers again only once reimaged.
 */
import { foreignTouch } from './world-judge.js';
import { WorldState } from './world-state.js';
import {
  MINUTE,
  type AdoJobRequest,
  type WorldAgent,
  type WorldInstance,
  type WorldJob,
  type WorldRunner,
  type WorldScaleSet,
} from './world-types.js';

export abstract class WorldJobs extends WorldState {
  protected nextRunnerId = 1001;
  protected nextAgentId = 101;
  protected nextRequestId = 5001;
  protected nextLabelId = 30;

  /** A fake is about to handle one of kiln's requests: an armed race job is assigned now, between kiln's look and its act. */
  beforeRequest(service: string, operation: string): void {
    for (const job of this.jobs) {
      if (job.state !== 'armed' || job.race?.service !== service || job.race.operation !== operation)
        continue;
      job.state = 'scheduled';
      this.event(
        'sim',
        `race: a job is assigned on ${job.instance} right before kiln's ${service} ${operation}`,
      );
      this.tryStartJob(job);
    }
  }

  protected register(set: WorldScaleSet, inst: WorldInstance, at: number): void {
    const iso = new Date(at).toISOString();
    if (set.kind === 'linux') {
      const existing = this.findRunnerByName(inst.computerName);
      if (existing) {
        existing.status = 'online';
        existing.busy = false;
      } else {
        const r = this.newRunner(inst.computerName, 'linux', 'online', set.name);
        // A JIT runner (jit mode, through the broker) is ephemeral by itself; in PAT mode a recycle
        // scale set's runner registers as bootstrap.sh's `config.sh --ephemeral` does.
        r.ephemeral = recycles(set);
        this.runners.set(r.id, r);
      }
    } else {
      const existing = this.findAgentByName(inst.computerName);
      if (existing) {
        existing.status = 'online';
        existing.statusChangedOn = iso;
      } else {
        const id = this.nextAgentId++;
        this.agents.set(id, this.newAgent(id, inst.computerName, 'online', iso, false));
      }
    }
  }

  protected newRunner(
    name: string,
    os: WorldRunner['os'],
    status: WorldRunner['status'],
    scaleSetLabel?: string,
    foreign = false,
  ): WorldRunner {
    const id = this.nextRunnerId++;
    const osLabel = os === 'linux' ? 'Linux' : os === 'windows' ? 'Windows' : 'macOS';
    const labels: WorldRunner['labels'] = [
      { id: 5, name: 'self-hosted', type: 'read-only' },
      { id: 7, name: 'X64', type: 'read-only' },
      { id: os === 'linux' ? 11 : os === 'windows' ? 12 : 20, name: osLabel, type: 'read-only' },
    ];
    if (scaleSetLabel) labels.push({ id: this.nextLabelId++, name: scaleSetLabel, type: 'custom' });
    return {
      id,
      name,
      os,
      status,
      busy: false,
      labels,
      foreign,
      ephemeral: false,
      version: this.runnerRelease.tag.replace(/^v/, ''),
    };
  }

  protected newAgent(
    id: number,
    name: string,
    status: WorldAgent['status'],
    statusChangedOn: string,
    foreign: boolean,
  ): WorldAgent {
    return {
      id,
      name,
      status,
      enabled: true,
      foreign,
      version: '4.261.0',
      osDescription: 'Microsoft Windows 10.0.20348 ',
      createdOn: new Date(this.clock.nowMs() - 24 * 60 * MINUTE).toISOString(),
      statusChangedOn,
    };
  }

  protected newRequest(at: number): AdoJobRequest {
    const iso = new Date(at).toISOString();
    return {
      requestId: this.nextRequestId++,
      jobId: this.uuid(),
      planId: this.uuid(),
      planType: 'Build',
      queueTime: iso,
      assignTime: iso,
      receiveTime: iso,
      definition: { id: 1, name: 'ci' },
    };
  }

  // ---------------------------------------------------------------- jobs

  protected tryStartJob(job: WorldJob): void {
    if (job.state !== 'scheduled' && job.state !== 'pending') return;
    const found = this.instanceByVmName(job.instance);
    const reg = found ? this.registrationOf(found.set, found.inst) : undefined;
    const ready =
      found &&
      found.inst.provisioningState === 'Succeeded' &&
      reg &&
      reg.status === 'online' &&
      ('busy' in reg ? !reg.busy : !(reg as WorldAgent).assignedRequest && (reg as WorldAgent).enabled);
    if (!ready) {
      // The job waits in the queue for its runner/agent to come (back) online.
      job.state = 'pending';
      return;
    }
    job.state = 'running';
    job.startedAt = this.clock.nowMs();
    job.endsAt = job.startedAt + job.minutes * MINUTE;
    if ('busy' in reg) reg.busy = true;
    else reg.assignedRequest = this.newRequest(job.startedAt);
    this.event(
      found.set.kind === 'linux' ? 'github' : 'ado',
      `job started on ${job.instance} (${reg.name}) for ${job.minutes} min`,
    );
    this.clock.after(job.minutes, () => this.finishJob(job), `job ${job.instance} ends`);
  }

  protected finishJob(job: WorldJob): void {
    if (job.state !== 'running') return;
    job.state = 'done';
    const found = this.instanceByVmName(job.instance);
    const reg = found ? this.registrationOf(found.set, found.inst) : undefined;
    if (reg && 'busy' in reg) {
      reg.busy = false;
      // An ephemeral runner (a JIT runner is one) takes one job; GitHub removes it when the job ends.
      if (reg.ephemeral) {
        this.runners.delete(reg.id);
        this.event('github', `ephemeral runner ${reg.name} removed after its job`);
      }
    } else if (reg) {
      const agent = reg as WorldAgent;
      this.completeRequest(agent, 'succeeded');
      // `run.cmd --once`: the agent exits after its one job; the machine waits for its reimage.
      if (found && recycles(found.set)) {
        agent.status = 'offline';
        agent.statusChangedOn = this.isoNow();
        this.event('ado', `agent ${agent.name} ran once and is offline`);
      }
    }
    this.event(found?.set.kind === 'windows' ? 'ado' : 'github', `job finished on ${job.instance}`);
  }

  protected completeRequest(agent: WorldAgent, result: string): void {
    if (!agent.assignedRequest) return;
    agent.lastCompletedRequest = { ...agent.assignedRequest, finishTime: this.isoNow(), result };
    delete agent.assignedRequest;
  }

  protected interruptJobOn(vmName: string, reason: string, service: string): void {
    const job = this.runningJobOn(vmName);
    if (!job) return;
    if (!this.kilnActs) {
      // Someone else took the instance away: the job ends with it, and it is not kiln's doing.
      job.state = 'done';
      this.event(service, `job on ${vmName} ended with its instance (${reason}, outside kiln)`);
    } else {
      job.state = 'interrupted';
      this.ledger.jobsInterrupted++;
      this.event(service, `JOB INTERRUPTED on ${vmName}: ${reason}`);
      this.violate('S1', vmName, `a running job was interrupted: ${reason}`);
    }
    const found = this.instanceByVmName(vmName);
    const reg = found ? this.registrationOf(found.set, found.inst) : undefined;
    if (reg && 'busy' in reg) reg.busy = false;
    else if (reg) this.completeRequest(reg as WorldAgent, 'canceled');
  }

  /** Jobs that wait for this instance's registration get it when it comes online. */
  protected wakePendingJobs(vmName: string): void {
    for (const job of this.jobs)
      if (job.instance === vmName && job.state === 'pending') this.tryStartJob(job);
  }

  protected setOffline(reg: WorldRunner | WorldAgent | undefined): void {
    if (!reg) return;
    if ('busy' in reg) {
      reg.status = 'offline';
      reg.busy = false;
    } else if (reg.status !== 'offline') {
      reg.status = 'offline';
      reg.statusChangedOn = this.isoNow();
      this.completeRequest(reg, 'abandoned');
    }
  }

  // ---------------------------------------------------------------- GitHub

  /** DELETE of a runner registration: 'busy' when GitHub refuses (a job is running). */
  deleteRunner(id: number): 'deleted' | 'gone' | 'busy' {
    const r = this.runners.get(id);
    if (!r) return 'gone';
    if (r.foreign) foreignTouch(this, 'github', r.name, `delete of runner ${r.name}`);
    if (r.busy) {
      this.event('github', `refused to delete busy runner ${r.name} (422)`);
      return 'busy';
    }
    this.runners.delete(id);
    this.ledger.deleted.githubRunners.push(r.name);
    this.event('github', `deleted runner ${r.name} (${r.status})`);
    return 'deleted';
  }

  /** generate-jitconfig: an ephemeral runner, offline until a runner starts with its config. */
  createJitRunner(name: string, labels: string[], secret: string): WorldRunner | 'exists' {
    if (this.findRunnerByName(name)) return 'exists';
    const r = this.newRunner(name, 'linux', 'offline');
    r.ephemeral = true;
    r.labels = labels.map((l, i) => ({ id: 100 + i, name: l, type: 'custom' as const }));
    r.jit = { secret, started: false };
    this.runners.set(r.id, r);
    return r;
  }

  /**
   * A runner starts with an encoded JIT config (what `run.sh --jitconfig` does against the Actions
   * service): the first start brings its runner online; GitHub refuses a config whose runner already
   * started (a replay) or is gone (an ephemeral runner is removed after its one job).
   */
  startJitRunner(encoded: string): { ok: true; runner: WorldRunner } | { ok: false; reason: string } {
    let agentId: unknown;
    let secret: unknown;
    try {
      const config = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Record<string, string>;
      ({ agentId } = JSON.parse(Buffer.from(config['.runner'] ?? '', 'base64').toString('utf8')) as {
        agentId?: unknown;
      });
      ({ secret } = JSON.parse(Buffer.from(config['.credentials'] ?? '', 'base64').toString('utf8')) as {
        secret?: unknown;
      });
    } catch {
      return { ok: false, reason: 'not a JIT config' };
    }
    const r = typeof agentId === 'number' ? this.runners.get(agentId) : undefined;
    if (!r?.jit || r.jit.secret !== secret)
      return {
        ok: false,
        reason: 'the runner of this config is not registered (an ephemeral runner is removed after its job)',
      };
    if (r.jit.started) return { ok: false, reason: 'a runner already started with this config' };
    r.jit.started = true;
    r.status = 'online';
    this.event('github', `JIT runner ${r.name} started and is online`);
    const found = this.instanceByComputerName(r.name);
    if (found) this.wakePendingJobs(found.inst.name);
    return { ok: true, runner: r };
  }

  // ---------------------------------------------------------------- Azure DevOps

  deleteAgent(id: number): 'deleted' | 'gone' {
    const a = this.agents.get(id);
    if (!a) return 'gone';
    if (a.foreign) foreignTouch(this, 'ado', a.name, `delete of agent ${a.name}`);
    if (a.assignedRequest && !a.assignedRequest.finishTime) {
      const found = this.instanceByComputerName(a.name);
      if (found) this.interruptJobOn(found.inst.name, `agent ${a.name} deleted while busy`, 'ado');
      else {
        this.ledger.jobsInterrupted++;
        this.event('ado', `JOB INTERRUPTED: agent ${a.name} deleted while busy`);
        this.violate('S1', a.name, 'an agent was deleted while its job ran');
      }
    }
    this.agents.delete(id);
    this.ledger.deleted.adoAgents.push(a.name);
    this.event('ado', `deleted agent ${a.name} (${a.status})`);
    return 'deleted';
  }

  /**
   * Enable/disable. Disabling a busy agent lets its running job finish (that is how Azure DevOps
   * drains an agent), so it is not an interruption; it is recorded as an event.
   */
  setAgentEnabled(agent: WorldAgent, enabled: boolean): void {
    if (agent.foreign)
      foreignTouch(this, 'ado', agent.name, `${enabled ? 'enable' : 'disable'} of agent ${agent.name}`);
    if (enabled) delete agent.disabledByKiln;
    else if (this.kilnActs) agent.disabledByKiln = true;
    if (agent.enabled === enabled) return;
    agent.enabled = enabled;
    const busy = agent.assignedRequest && !agent.assignedRequest.finishTime;
    this.event(
      'ado',
      `${enabled ? 'enabled' : 'disabled'} agent ${agent.name}${busy ? ' (busy: its job keeps running)' : ''}`,
    );
    if (enabled) {
      const found = this.instanceByComputerName(agent.name);
      if (found) this.wakePendingJobs(found.inst.name);
    }
  }
}

/** Tagged `kiln-recycle=true`: each machine serves one job (scale-set.bicep sets the tag). */
function recycles(set: WorldScaleSet): boolean {
  return set.tags['kiln-recycle'] === 'true';
}
