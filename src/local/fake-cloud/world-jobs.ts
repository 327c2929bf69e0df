/**
 * The fake cloud's GitHub runners and Azure DevOps agents, and the jobs that keep them busy: an
 * instance registers under its computer name, a job makes its registration busy for its minutes (or
 * waits for it to come online), and taking a busy instance away interrupts the job (S1) unless
 * someone other than kiln did it. GitHub refuses to delete a busy runner; disabling a busy agent lets
 * its job finish (that is how Azure DevOps drains an agent). On a recycle scale set (tagged
 * `kiln-recycle=true`) a machine serves one job: its runner is ephemeral (GitHub removes it after the
 * job) and its agent runs with `--once` (offline after the job); it registers again only once reimaged.
 */
import { randomUuid, type Random } from '../random.js';
import type { ScenarioWorkload } from '../scenario/types.js';
import { drawArrivals, labelsServe, type Arrival } from './workload.js';
import { foreignTouch } from './world-judge.js';
import { WorldState } from './world-state.js';
import {
  MINUTE,
  type AdoJobRequest,
  type GitHubJobStatus,
  type WorkloadDemand,
  type WorkloadMeter,
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
  private workloadRandom?: Random;

  /**
   * Told each time a workload GitHub job changes at GitHub (queued, in_progress, completed): what
   * the simulator's webhook deliveries (src/local/simulate/webhook-deliveries.ts) listen to.
   */
  onJobChange?: (job: WorldJob, status: GitHubJobStatus) => void;

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

  /**
   * A job request queued at `at`, assigned at once unless `queued` (a workload job waits for an
   * agent; its ids come from a generator of their own, so that arrivals shift none of the world's).
   */
  protected newRequest(at: number, queued = false): AdoJobRequest {
    const iso = new Date(at).toISOString();
    const uuid = queued
      ? () => randomUuid((this.workloadRandom ??= this.randomStream('ado-job-requests')))
      : () => this.uuid();
    return {
      requestId: this.nextRequestId++,
      jobId: uuid(),
      planId: uuid(),
      planType: 'Build',
      queueTime: iso,
      ...(queued ? {} : { assignTime: iso, receiveTime: iso }),
      definition: { id: 1, name: 'ci' },
    };
  }

  // ---------------------------------------------------------------- jobs

  protected tryStartJob(job: WorldJob): void {
    if (job.state !== 'scheduled' && job.state !== 'pending') return;
    const found = this.instanceByVmName(job.instance);
    const reg = found ? this.idleRegistration(found.set, found.inst) : undefined;
    if (!found || !reg) {
      // The job waits in the queue for its runner/agent to come (back) online.
      job.state = 'pending';
      return;
    }
    job.state = 'running';
    job.startedAt = this.clock.nowMs();
    job.endsAt = job.startedAt + job.minutes * MINUTE;
    if ('busy' in reg) reg.busy = true;
    else if (job.request) {
      // The workload job's own request, queued since its arrival, now runs on this agent.
      const iso = new Date(job.startedAt).toISOString();
      job.request = { ...job.request, assignTime: iso, receiveTime: iso };
      reg.assignedRequest = job.request;
    } else reg.assignedRequest = this.newRequest(job.startedAt);
    if (job.github && 'busy' in reg) {
      job.github.runnerName = reg.name;
      job.github.runnerId = reg.id;
      job.github.startedAt = job.startedAt;
      this.onJobChange?.(job, 'in_progress');
    }
    this.event(
      found.set.kind === 'linux' ? 'github' : 'ado',
      `job started on ${job.instance} (${reg.name}) for ${job.minutes} min`,
    );
    this.clock.after(job.minutes, () => this.finishJob(job), `job ${job.instance} ends`);
  }

  /** The instance's runner or agent when it could take a job now: provisioned, online, not busy (an agent: enabled). */
  protected idleRegistration(set: WorldScaleSet, inst: WorldInstance): WorldRunner | WorldAgent | undefined {
    if (inst.provisioningState !== 'Succeeded') return undefined;
    const reg = this.registrationOf(set, inst);
    if (!reg || reg.status !== 'online') return undefined;
    const idle = 'busy' in reg ? !reg.busy : !reg.assignedRequest && reg.enabled;
    return idle ? reg : undefined;
  }

  protected finishJob(job: WorldJob): void {
    if (job.state !== 'running') return;
    job.state = 'done';
    this.githubJobEnded(job, 'success');
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
    // A runner or agent that stays online takes the next queued job that it serves.
    this.dispatchQueued();
  }

  /** A workload GitHub job ended (its runner finished it, or lost it): GitHub reports it completed. */
  private githubJobEnded(job: WorldJob, conclusion: 'success' | 'cancelled'): void {
    if (!job.github || job.github.completedAt !== undefined) return;
    job.github.completedAt = this.clock.nowMs();
    job.github.conclusion = conclusion;
    this.onJobChange?.(job, 'completed');
  }

  /** A workload GitHub job's status as GitHub reports it. */
  githubJobStatus(job: WorldJob): GitHubJobStatus {
    if (job.github?.completedAt !== undefined || job.state === 'done' || job.state === 'interrupted')
      return 'completed';
    return job.state === 'running' ? 'in_progress' : 'queued';
  }

  protected completeRequest(agent: WorldAgent, result: string): void {
    if (!agent.assignedRequest) return;
    agent.lastCompletedRequest = { ...agent.assignedRequest, finishTime: this.isoNow(), result };
    delete agent.assignedRequest;
  }

  protected interruptJobOn(vmName: string, reason: string, service: string): void {
    const job = this.runningJobOn(vmName);
    if (!job) return;
    this.githubJobEnded(job, 'cancelled');
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
    // Then the workload's queue: a job pinned to this instance by the scenario goes first.
    this.dispatchQueued();
  }

  // ---------------------------------------------------------------- workload (issue 19)

  /** Workload jobs that arrived and wait for a runner or agent, oldest first. */
  protected readonly queued: WorldJob[] = [];

  /** The job requests that wait for an agent of this pool (its workload jobs not assigned yet), oldest first. */
  queuedAdoRequests(pool: string): AdoJobRequest[] {
    return this.queued.flatMap((job) =>
      job.request && job.demand?.fleet === 'ado' && job.demand.pool.toLowerCase() === pool.toLowerCase()
        ? [job.request]
        : [],
    );
  }
  private dispatching = false;
  /** Managed instances' running minutes (idle or busy) and capacity changes, measured while a workload runs. */
  readonly meter: WorkloadMeter = {
    idleInstanceMinutes: 0,
    busyInstanceMinutes: 0,
    scaleOuts: 0,
    scaleIns: 0,
  };
  private meteredTo = Number.NaN;
  /** The workload's arrivals, in time order (empty without a workload). */
  arrivals: Arrival[] = [];

  /**
   * Queues each of the workload's jobs at its arrival (one clock entry at a time, so a day of jobs
   * does not crowd the clock's queue) and measures the managed instances from the start of the run.
   */
  protected startWorkload(workload: ScenarioWorkload): void {
    this.arrivals = drawArrivals(workload);
    this.meteredTo = this.clock.nowMs();
    const untilMs = Date.parse(this.scenario.until);
    this.clock.onAdvance((_from, to) => this.measureTo(Math.min(to, untilMs)));
    let next = 0;
    const arm = () => {
      const first = this.arrivals[next];
      if (!first) return;
      this.clock.schedule(
        first.at,
        () => {
          while (next < this.arrivals.length && this.arrivals[next]!.at <= this.clock.nowMs()) {
            const arrival = this.arrivals[next++]!;
            const stream = workload.streams[arrival.stream]!;
            const id = this.jobs.length + 1;
            const job: WorldJob = {
              id,
              instance: '',
              minutes: arrival.minutes,
              state: 'queued',
              demand:
                stream.fleet === 'github'
                  ? { stream: arrival.stream, arrivedAt: arrival.at, fleet: 'github', labels: stream.labels }
                  : { stream: arrival.stream, arrivedAt: arrival.at, fleet: 'ado', pool: stream.pool },
            };
            // Azure DevOps numbers the job's request when it is queued: the pool lists it from then on.
            if (stream.fleet === 'ado') job.request = this.newRequest(arrival.at, true);
            // GitHub's job and run ids pass 2^31; one workflow run per job, a repository per stream.
            if (stream.fleet === 'github')
              job.github = {
                id: GITHUB_JOB_IDS + id,
                runId: GITHUB_RUN_IDS + id,
                repository: `${this.names.githubOwner}/app-${arrival.stream}`,
              };
            this.jobs.push(job);
            this.queued.push(job);
            if (job.github) this.onJobChange?.(job, 'queued');
          }
          this.dispatchQueued();
          arm();
        },
        'workload arrival',
      );
    };
    arm();
  }

  /**
   * Assigns queued jobs, oldest first, each to the first idle, online, registered runner or agent of
   * the scenario's scale sets (in scenario and instance order) that serves it, as GitHub and Azure
   * DevOps do: a runner whose labels include all the job's labels, an agent of the job's pool. A job
   * no idle registration serves stays queued, and a later one that another serves goes first. The job
   * then runs as a scenario's `jobs:` entry does (tryStartJob, finishJob). Other fleets' runners and
   * agents (`foreign`) take none: the simulation follows its own machines only.
   */
  protected dispatchQueued(): void {
    if (this.queued.length === 0 || this.dispatching) return;
    this.dispatching = true;
    try {
      const idle: { set: WorldScaleSet; inst: WorldInstance; reg: WorldRunner | WorldAgent }[] = [];
      for (const set of this.scaleSets.values())
        for (const inst of set.instances.values()) {
          const reg = this.idleRegistration(set, inst);
          if (reg) idle.push({ set, inst, reg });
        }
      for (let i = 0; i < this.queued.length && idle.length > 0;) {
        const job = this.queued[i]!;
        const k = idle.findIndex(({ set, reg }) => this.serves(set, reg, job.demand!));
        if (k < 0) {
          i++;
          continue;
        }
        const [{ inst }] = idle.splice(k, 1) as [(typeof idle)[number]];
        this.queued.splice(i, 1);
        job.instance = inst.name;
        job.state = 'scheduled';
        this.tryStartJob(job);
      }
    } finally {
      this.dispatching = false;
    }
  }

  private serves(set: WorldScaleSet, reg: WorldRunner | WorldAgent, demand: WorkloadDemand): boolean {
    if (demand.fleet === 'github')
      return (
        set.kind === 'linux' &&
        'busy' in reg &&
        labelsServe(
          reg.labels.map((l) => l.name),
          demand.labels,
        )
      );
    return set.kind === 'windows' && demand.pool === this.names.adoPoolName;
  }

  /**
   * The managed scale sets whose runners or agents serve a stream's jobs now: for GitHub, those
   * with a registered runner whose labels include all the stream's labels; for Azure DevOps, those
   * whose agents are in its pool (every Windows scale set's are).
   */
  servingScaleSets(stream: ScenarioWorkload['streams'][number]): string[] {
    return [...this.scaleSets.values()]
      .filter((set) => set.managed)
      .filter((set) => {
        if (stream.fleet === 'ado') return set.kind === 'windows' && stream.pool === this.names.adoPoolName;
        if (set.kind !== 'linux') return false;
        const registered = [...set.instances.values()].flatMap((inst) => {
          const reg = this.registrationOf(set, inst);
          return reg && 'busy' in reg ? [reg.labels.map((l) => l.name)] : [];
        });
        // A scale set with no runner yet (an autoscaled one may start empty): the labels its runners
        // will register with.
        const labels = registered.length > 0 ? registered : [this.labelsToRegister(set)];
        return labels.some((have) => labelsServe(have, stream.labels));
      })
      .map((set) => set.name);
  }

  /**
   * The labels a new runner of this scale set registers with: its kiln-labels tag; else, through the
   * broker (jit), GITHUB_RUNNER_LABELS' default; else config.sh's own and the scale set's name (pat).
   */
  private labelsToRegister(set: WorldScaleSet): string[] {
    const tagged = set.tags['kiln-labels'];
    if (tagged) return tagged.split(',').map((l) => l.trim());
    if (set.tags['kiln-registration'] === 'jit') return ['self-hosted', 'linux', 'x64'];
    return ['self-hosted', 'X64', 'Linux', set.name];
  }

  /**
   * Managed scale sets whose machines serve one job each: a recycle scale set's, and GitHub's in jit
   * mode (a just-in-time runner is ephemeral). The oracle cannot reuse their machines either.
   */
  oneJobScaleSets(): Set<string> {
    return new Set(
      [...this.scaleSets.values()]
        .filter(
          (set) =>
            set.managed &&
            (recycles(set) || (set.kind === 'linux' && set.tags['kiln-registration'] === 'jit')),
        )
        .map((set) => set.name),
    );
  }

  /**
   * Adds the time since the last measurement to the managed instances that are running (provisioned
   * and powered on): busy while a job runs on one, idle otherwise (booting its runner, waiting for a
   * job, or left without a registration after an ephemeral runner's job). The world stands still
   * between two instants of the clock, so the sum is exact.
   */
  measureTo(ms: number): void {
    if (Number.isNaN(this.meteredTo) || ms <= this.meteredTo) return;
    const minutes = (ms - this.meteredTo) / MINUTE;
    this.meteredTo = ms;
    const busy = new Set(this.jobs.filter((j) => j.state === 'running').map((j) => j.instance));
    for (const set of this.scaleSets.values()) {
      if (!set.managed) continue;
      for (const inst of set.instances.values()) {
        if (inst.provisioningState !== 'Succeeded' || inst.powerState !== 'running') continue;
        if (busy.has(inst.name)) this.meter.busyInstanceMinutes += minutes;
        else this.meter.idleInstanceMinutes += minutes;
      }
    }
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

/** Where workload GitHub jobs' ids and their runs' ids start (above 2^31, as GitHub's are). */
const GITHUB_JOB_IDS = 30_000_000_000;
const GITHUB_RUN_IDS = 12_000_000_000;

/** Tagged `kiln-recycle=true`: each machine serves one job (scale-set.bicep sets the tag). */
function recycles(set: WorldScaleSet): boolean {
  return set.tags['kiln-recycle'] === 'true';
}
