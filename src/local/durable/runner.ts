/**
 * Local durable runner: plays the part of the Durable Functions extension for the real
 * durable-functions replay engine, on a virtual clock. Each orchestrator invocation ("episode")
 * receives the full history, exactly as the extension sends it; the actions it returns are turned
 * into history events, activity runs, durable timers and child instances. Event ids mirror the
 * SDK's task counter, and replayed actions are checked against the recorded ones so a
 * non-deterministic orchestrator fails loudly instead of silently diverging (S7).
 *
 * Dev and test only: never part of the deployed bundle.
 */
import { InvocationContext } from '../../functions/azure-functions.js';
import type { VirtualClock } from '../clock.js';
import { ActionType, EventType, event, fromActionInput, toResultJson, type HistoryEvent } from './history.js';
import {
  stateFromFailure,
  testingUtils,
  type ActivityHandler,
  type OrchestratorHandler,
  type OrchestratorState,
} from './sdk-internals.js';

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated';

export interface InstanceStatus {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  parentInstanceId?: string;
}

export interface InstanceStats {
  instanceId: string;
  name: string;
  /** Longest history this instance reached in any one execution (continue-as-new starts a new one). */
  maxHistoryEvents: number;
  /** Orchestrator invocations, i.e. replays of the history. */
  episodes: number;
  /** Events replayed over all episodes (the replay work). */
  eventsReplayed: number;
  /** Wall time spent inside the orchestrator function. */
  replayMs: number;
  executions: number;
}

class NonDeterminismError extends Error {
  override readonly name = 'NonDeterminismError';
}

export class InstanceExistsError extends Error {
  override readonly name = 'InstanceExistsError';
}

interface RetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
}

interface Action {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  fireAt?: string | Date;
  externalEventName?: string;
  retryOptions?: RetryOptions;
}

/** An inbox entry: a history event to deliver, and what the host does once the SDK has seen it. */
interface Delivery {
  event: HistoryEvent;
  /** The SDK allocates task ids while reading this event: it must travel alone in its episode. */
  allocatesIds: boolean;
  afterDelivery?: () => void;
}

interface Instance {
  id: string;
  name: string;
  input: unknown;
  status: RuntimeStatus;
  output: unknown;
  customStatus: unknown;
  error?: string;
  createdAt: number;
  updatedAt: number;
  parent?: { instance: Instance; taskId: number; action: Action; attempt: number };
  history: HistoryEvent[];
  inbox: Delivery[];
  /** Actions returned by earlier episodes of this execution, in order, for the determinism check. */
  recordedActions: { actionType: number; functionName?: string; input: string }[];
  nextTaskId: number;
  stats: InstanceStats;
}

export interface RunnerOptions {
  clock: VirtualClock;
  orchestrators: Map<string, OrchestratorHandler>;
  activities: Map<string, ActivityHandler>;
  /** Receives every log line of orchestrators and activities, and the runner's own. */
  log?: (level: string, source: string, message: string) => void;
  /** Activities allowed to run at once (the Functions host's maxConcurrentActivityFunctions). */
  maxConcurrentActivities?: number;
  /**
   * Run the activities that are ready one after another, in the order they were scheduled, and
   * deliver their completions together: the fake cloud then sees requests in the same order on every
   * run, so a seed gives the same world and the same report (the simulator's deterministic mode).
   */
  serialActivities?: boolean;
}

const SHORT_TIMER_LIMIT = '6.00:00:00';
const LONG_TIMER_INTERVAL = '3.00:00:00';

export class LocalDurableRunner {
  private readonly instances = new Map<string, Instance>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly activityQueue: (() => Promise<void>)[] = [];
  /** Work of the world outside the app that awaits it (a simulated VM calling the app), in order. */
  private readonly worldQueue: (() => Promise<void>)[] = [];
  private running = 0;
  private invocationSeq = 0;
  readonly failures: { instanceId: string; name: string; error: string }[] = [];

  constructor(private readonly options: RunnerOptions) {}

  get clock(): VirtualClock {
    return this.options.clock;
  }

  startNew(name: string, options: { instanceId?: string; input?: unknown } = {}): string {
    if (!this.options.orchestrators.has(name))
      throw new Error(`no orchestrator named "${name}" is registered`);
    const instanceId = options.instanceId ?? `${name}-${(++this.invocationSeq).toString(36)}`;
    const existing = this.instances.get(instanceId);
    if (existing && (existing.status === 'Running' || existing.status === 'Pending')) {
      throw new InstanceExistsError(
        `An orchestration instance with the ID "${instanceId}" and status ${existing.status} already exists.`,
      );
    }
    this.createInstance(name, instanceId, roundTrip(options.input));
    return instanceId;
  }

  raiseEvent(instanceId: string, eventName: string, data: unknown): void {
    const instance = this.requireInstance(instanceId);
    if (instance.status !== 'Running' && instance.status !== 'Pending') {
      throw new Error(`instance ${instanceId} is ${instance.status}; it cannot receive events`);
    }
    instance.inbox.push({
      event: event(EventType.EventRaised, this.clock.nowMs(), { Name: eventName, Input: toResultJson(data) }),
      allocatesIds: false,
    });
  }

  terminate(instanceId: string, reason: string): void {
    const instance = this.requireInstance(instanceId);
    if (instance.status !== 'Running' && instance.status !== 'Pending') return;
    instance.status = 'Terminated';
    instance.output = reason;
    instance.inbox = [];
    instance.updatedAt = this.clock.nowMs();
  }

  getStatus(instanceId: string): InstanceStatus | undefined {
    const instance = this.instances.get(instanceId);
    return instance ? this.toStatus(instance) : undefined;
  }

  listInstances(): InstanceStatus[] {
    return [...this.instances.values()].map((i) => this.toStatus(i));
  }

  /** History of the instance's current execution (for tests and the secret-leak check). */
  getHistory(instanceId: string): HistoryEvent[] {
    return [...this.requireInstance(instanceId).history];
  }

  stats(): InstanceStats[] {
    return [...this.instances.values()].map((i) => ({ ...i.stats }));
  }

  /**
   * Queues work the world does at this virtual time that takes real async time (a simulated VM
   * asking the app for its registration). It runs, one item after another, first thing as part of
   * getting quiet, so the clock never moves past it and every run sees the same order.
   */
  enqueueWorldWork(work: () => Promise<void>): void {
    this.worldQueue.push(work);
  }

  /** Runs every episode, activity and queued world work that can run without moving the clock. */
  async runUntilQuiet(): Promise<void> {
    for (;;) {
      // The world first: what happened at this time (a VM that registered) is what kiln sees when it looks now.
      while (this.worldQueue.length > 0) await this.worldQueue.shift()!();
      let progressed = false;
      for (const instance of [...this.instances.values()]) {
        if (instance.inbox.length > 0 && (instance.status === 'Running' || instance.status === 'Pending')) {
          await this.runEpisode(instance);
          progressed = true;
        }
      }
      if (this.options.serialActivities && this.activityQueue.length > 0) {
        // Every ready activity, in order, before any episode: a fan-out's completions still arrive together.
        while (this.activityQueue.length > 0) await this.runActivity(this.activityQueue.shift()!);
        continue;
      }
      this.pumpActivities();
      if (this.inFlight.size > 0) {
        // Completions that arrive together are delivered together: a fan-out costs few episodes.
        await Promise.all([...this.inFlight]);
        continue;
      }
      if (this.clock.nextAt() !== undefined && this.clock.nextAt()! <= this.clock.nowMs()) {
        this.clock.runDue();
        continue;
      }
      if (!progressed) return;
    }
  }

  /**
   * Runs until `untilMs` on the virtual clock or until `done()` says so, advancing the clock to the
   * next due timer or cloud event whenever nothing else can happen.
   */
  async runUntil(untilMs: number, done: () => boolean = () => false): Promise<void> {
    for (;;) {
      await this.runUntilQuiet();
      if (done()) return;
      const next = this.clock.nextAt();
      if (next === undefined || next > untilMs) {
        if (untilMs > this.clock.nowMs() && next === undefined) this.clock.advanceTo(untilMs);
        if (next !== undefined && next > untilMs) this.clock.advanceTo(untilMs);
        return;
      }
      this.clock.advanceTo(next);
      this.clock.runDue();
    }
  }

  /** Runs until the instance is no longer running (or the clock passes `untilMs`). */
  async runToCompletion(instanceId: string, untilMs = Number.MAX_SAFE_INTEGER): Promise<InstanceStatus> {
    await this.runUntil(untilMs, () => {
      const status = this.getStatus(instanceId)?.runtimeStatus;
      return status !== 'Running' && status !== 'Pending';
    });
    return this.getStatus(instanceId)!;
  }

  // ----- instances and episodes -----

  private createInstance(
    name: string,
    instanceId: string,
    input: unknown,
    parent?: Instance['parent'],
  ): Instance {
    const now = this.clock.nowMs();
    const instance: Instance = {
      id: instanceId,
      name,
      input,
      status: 'Pending',
      output: undefined,
      customStatus: undefined,
      createdAt: now,
      updatedAt: now,
      parent,
      history: [],
      inbox: [],
      recordedActions: [],
      nextTaskId: 0,
      stats: {
        instanceId,
        name,
        maxHistoryEvents: 0,
        episodes: 0,
        eventsReplayed: 0,
        replayMs: 0,
        executions: 1,
      },
    };
    instance.inbox.push({
      event: event(EventType.ExecutionStarted, now, {
        Name: name,
        Input: toResultJson(input),
        OrchestrationInstance: { InstanceId: instanceId },
        ParentInstance: parent ? { OrchestrationInstance: { InstanceId: parent.instance.id } } : null,
      }),
      allocatesIds: false,
    });
    this.instances.set(instanceId, instance);
    return instance;
  }

  private takeDeliveries(instance: Instance): Delivery[] {
    const first = instance.inbox[0]!;
    if (first.allocatesIds) return instance.inbox.splice(0, 1);
    let count = 0;
    while (count < instance.inbox.length && !instance.inbox[count]!.allocatesIds) count++;
    return instance.inbox.splice(0, count);
  }

  private async runEpisode(instance: Instance): Promise<void> {
    const handler = this.options.orchestrators.get(instance.name)!;
    const deliveries = this.takeDeliveries(instance);
    const now = this.clock.nowMs();
    const newEvents = [event(EventType.OrchestratorStarted, now), ...deliveries.map((d) => d.event)];
    const past = instance.history.map((e) => ({ ...e, IsPlayed: true }));
    const history = [...past, ...newEvents];
    instance.status = 'Running';
    instance.stats.episodes++;
    instance.stats.eventsReplayed += history.length;

    // The extension sends JSON: a round trip makes the SDK see exactly that (dates as strings).
    const trigger = JSON.parse(
      JSON.stringify({
        history,
        input: instance.input,
        instanceId: instance.id,
        isReplaying: past.length > 0,
        parentInstanceId: instance.parent?.instance.id ?? '',
        upperSchemaVersion: 0,
        upperSchemaVersionNew: 0,
        maximumShortTimerDuration: SHORT_TIMER_LIMIT,
        longRunningTimerIntervalDuration: LONG_TIMER_INTERVAL,
        defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
      }),
    );
    const context = new testingUtils.DummyOrchestrationContext(
      instance.name,
      `${instance.id}:${instance.stats.episodes}`,
      (level, ...args) => this.emitLog(level, instance.name, args),
    );

    let state: OrchestratorState | undefined;
    let failure: string | undefined;
    const started = performance.now();
    try {
      state = await handler(trigger, context);
    } catch (error) {
      const extracted = stateFromFailure(error);
      state = extracted.state;
      failure = extracted.message;
    }
    instance.stats.replayMs += performance.now() - started;
    instance.history.push(...newEvents.map((e) => ({ ...e, IsPlayed: true })));
    for (const delivery of deliveries) delivery.afterDelivery?.();

    const actions = flattenActions(state?.actions);
    try {
      this.checkDeterminism(instance, actions);
    } catch (error) {
      failure = (error as Error).message;
      this.emitLog('error', 'runner', [failure]);
    }
    if (state?.customStatus !== undefined) instance.customStatus = roundTrip(state.customStatus);

    if (failure === undefined) {
      const fresh = actions.slice(instance.recordedActions.length);
      for (const action of fresh) {
        instance.recordedActions.push(signature(action));
        this.schedule(instance, action);
      }
    }
    instance.history.push(event(EventType.OrchestratorCompleted, this.clock.nowMs()));
    instance.updatedAt = this.clock.nowMs();
    instance.stats.maxHistoryEvents = Math.max(instance.stats.maxHistoryEvents, instance.history.length);

    if (failure !== undefined) {
      this.finish(instance, 'Failed', undefined, failure);
      return;
    }
    const continueAsNew = actions.find((a) => a.actionType === ActionType.ContinueAsNew);
    if (state?.isDone && continueAsNew) {
      this.continueAsNew(instance, fromActionInput(continueAsNew.input));
    } else if (state?.isDone) {
      this.finish(instance, 'Completed', roundTrip(state.output));
    }
  }

  private checkDeterminism(instance: Instance, actions: Action[]): void {
    const recorded = instance.recordedActions;
    for (let i = 0; i < recorded.length; i++) {
      const expected = recorded[i]!;
      const actual = actions[i];
      const got = actual ? signature(actual) : undefined;
      if (
        !got ||
        got.actionType !== expected.actionType ||
        got.functionName !== expected.functionName ||
        got.input !== expected.input
      ) {
        throw new NonDeterminismError(
          `Non-deterministic orchestrator "${instance.name}" (instance ${instance.id}): on replay, action #${i} was ` +
            `${got ? describeAction(got) : 'missing'} but history recorded ${describeAction(expected)}. ` +
            'Orchestrators must use only context time (context.df.currentUtcDateTime) and context APIs (S7).',
        );
      }
    }
  }

  private continueAsNew(instance: Instance, input: unknown): void {
    const carried = instance.inbox.filter((d) => d.event.EventType === EventType.EventRaised);
    instance.input = input;
    instance.history = [];
    instance.recordedActions = [];
    instance.nextTaskId = 0;
    instance.stats.executions++;
    instance.inbox = [
      {
        event: event(EventType.ExecutionStarted, this.clock.nowMs(), {
          Name: instance.name,
          Input: toResultJson(input),
        }),
        allocatesIds: false,
      },
      ...carried,
    ];
  }

  private finish(instance: Instance, status: 'Completed' | 'Failed', output: unknown, error?: string): void {
    instance.status = status;
    instance.output = status === 'Failed' ? error : output;
    instance.error = error;
    instance.inbox = [];
    instance.updatedAt = this.clock.nowMs();
    if (status === 'Failed')
      this.failures.push({ instanceId: instance.id, name: instance.name, error: error ?? '' });
    const parent = instance.parent;
    if (!parent || (parent.instance.status !== 'Running' && parent.instance.status !== 'Pending')) return;
    if (status === 'Completed') {
      this.deliver(parent.instance, {
        event: event(EventType.SubOrchestrationInstanceCompleted, this.clock.nowMs(), {
          TaskScheduledId: parent.taskId,
          Result: toResultJson(output),
        }),
        allocatesIds: false,
      });
      return;
    }
    const failure = new Error(error ?? 'sub-orchestration failed');
    failure.name = 'OrchestrationFailure';
    this.deliver(
      parent.instance,
      this.failureDelivery(
        parent.instance,
        EventType.SubOrchestrationInstanceFailed,
        parent.taskId,
        instance.name,
        failure,
        parent.action,
        parent.attempt,
        () =>
          this.scheduleSubOrchestration(
            parent.instance,
            parent.instance.nextTaskId++,
            parent.action,
            parent.attempt + 1,
          ),
      ),
    );
  }

  // ----- actions -----

  private schedule(instance: Instance, action: Action): void {
    const now = this.clock.nowMs();
    switch (action.actionType) {
      case ActionType.CallActivity:
      case ActionType.CallActivityWithRetry: {
        const id = instance.nextTaskId++;
        this.scheduleActivity(instance, id, action, 1);
        return;
      }
      case ActionType.CallSubOrchestrator:
      case ActionType.CallSubOrchestratorWithRetry: {
        const id = instance.nextTaskId++;
        this.scheduleSubOrchestration(instance, id, action, 1);
        return;
      }
      case ActionType.CreateTimer: {
        const id = instance.nextTaskId++;
        const fireAt = new Date(action.fireAt as string).getTime();
        instance.history.push(
          event(EventType.TimerCreated, now, { FireAt: new Date(fireAt).toISOString() }, id),
        );
        this.clock.schedule(
          fireAt,
          () =>
            this.deliver(instance, {
              event: event(EventType.TimerFired, fireAt, {
                TimerId: id,
                FireAt: new Date(fireAt).toISOString(),
              }),
              allocatesIds: false,
            }),
          `timer ${instance.id}#${id}`,
        );
        return;
      }
      case ActionType.WaitForExternalEvent:
      case ActionType.ContinueAsNew:
        return; // external events are matched by name; continue-as-new is handled when the episode ends
      default:
        throw new Error(
          `the local runner does not support action type ${action.actionType} (entities and HTTP calls are not used by kiln)`,
        );
    }
  }

  private scheduleActivity(instance: Instance, id: number, action: Action, attempt: number): void {
    const name = action.functionName!;
    const input = fromActionInput(action.input);
    instance.history.push(
      event(EventType.TaskScheduled, this.clock.nowMs(), { Name: name, Input: toResultJson(input) }, id),
    );
    const handler = this.options.activities.get(name);
    this.enqueueActivity(async () => {
      let delivery: Delivery;
      try {
        if (!handler)
          throw new Error(
            `The function '${name}' doesn't exist, is disabled, or is not an activity function.`,
          );
        const context = new InvocationContext({
          invocationId: `${instance.id}:${id}:${attempt}`,
          functionName: name,
          logHandler: (level, ...args) => this.emitLog(level, name, args),
        });
        const result = await handler(roundTrip(input), context);
        delivery = {
          event: event(EventType.TaskCompleted, this.clock.nowMs(), {
            TaskScheduledId: id,
            Result: toResultJson(result),
          }),
          allocatesIds: false,
        };
      } catch (error) {
        delivery = this.failureDelivery(
          instance,
          EventType.TaskFailed,
          id,
          name,
          error,
          action,
          attempt,
          () => this.scheduleActivity(instance, instance.nextTaskId++, action, attempt + 1),
        );
      }
      this.deliver(instance, delivery);
    });
  }

  private scheduleSubOrchestration(instance: Instance, id: number, action: Action, attempt: number): void {
    const name = action.functionName!;
    const childId = action.instanceId ?? `${instance.id}:${id}`;
    instance.history.push(
      event(
        EventType.SubOrchestrationInstanceCreated,
        this.clock.nowMs(),
        { Name: name, InstanceId: childId, Input: toResultJson(action.input) },
        id,
      ),
    );
    if (!this.options.orchestrators.has(name)) {
      this.deliver(
        instance,
        this.failureDelivery(
          instance,
          EventType.SubOrchestrationInstanceFailed,
          id,
          name,
          new Error(`no orchestrator named "${name}"`),
          action,
          attempt,
          () => this.scheduleSubOrchestration(instance, instance.nextTaskId++, action, attempt + 1),
        ),
      );
      return;
    }
    const existing = this.instances.get(childId);
    if (existing && (existing.status === 'Running' || existing.status === 'Pending')) {
      throw new InstanceExistsError(`sub-orchestration instance ${childId} is already running`);
    }
    this.createInstance(name, childId, roundTrip(action.input), { instance, taskId: id, action, attempt });
  }

  /**
   * A failure event. For a task with retry options the SDK allocates a timer id when it reads the
   * failure, so the event travels alone and the host then creates that retry timer; when the timer
   * fires the SDK allocates the next attempt's id (or gives up after the last attempt).
   */
  private failureDelivery(
    instance: Instance,
    type: number,
    id: number,
    name: string,
    error: unknown,
    action: Action,
    attempt: number,
    reschedule: () => void,
  ): Delivery {
    const err = error instanceof Error ? error : new Error(String(error));
    const failed = event(type, this.clock.nowMs(), {
      TaskScheduledId: id,
      Reason: `Function '${name}' failed: ${err.message}`,
      Details: err.stack ?? err.message,
      FailureDetails: { ErrorType: err.name, ErrorMessage: err.message },
    });
    const retry = action.retryOptions;
    if (!retry) return { event: failed, allocatesIds: false };
    return {
      event: failed,
      allocatesIds: true,
      afterDelivery: () => {
        const timerId = instance.nextTaskId++;
        const delay = Math.min(
          retry.firstRetryIntervalInMilliseconds * Math.pow(retry.backoffCoefficient ?? 1, attempt - 1),
          retry.maxRetryIntervalInMilliseconds ?? Number.MAX_SAFE_INTEGER,
        );
        const fireAt = this.clock.nowMs() + delay;
        instance.history.push(
          event(
            EventType.TimerCreated,
            this.clock.nowMs(),
            { FireAt: new Date(fireAt).toISOString() },
            timerId,
          ),
        );
        this.clock.schedule(
          fireAt,
          () =>
            this.deliver(instance, {
              event: event(EventType.TimerFired, fireAt, {
                TimerId: timerId,
                FireAt: new Date(fireAt).toISOString(),
              }),
              allocatesIds: true,
              afterDelivery: () => {
                if (attempt < retry.maxNumberOfAttempts) reschedule();
              },
            }),
          `retry timer ${instance.id}#${timerId}`,
        );
      },
    };
  }

  private deliver(instance: Instance, delivery: Delivery): void {
    if (instance.status !== 'Running' && instance.status !== 'Pending') return;
    instance.inbox.push(delivery);
  }

  private enqueueActivity(work: () => Promise<void>): void {
    this.activityQueue.push(work);
  }

  private runActivity(work: () => Promise<void>): Promise<void> {
    return work().catch((error) =>
      this.emitLog('error', 'runner', [`activity crashed: ${(error as Error).message}`]),
    );
  }

  private pumpActivities(): void {
    const limit = this.options.maxConcurrentActivities ?? 32;
    while (this.running < limit && this.activityQueue.length > 0) {
      const work = this.activityQueue.shift()!;
      this.running++;
      const promise: Promise<void> = this.runActivity(work).finally(() => {
        this.running--;
        this.inFlight.delete(promise);
        this.pumpActivities();
      });
      this.inFlight.add(promise);
    }
  }

  // ----- helpers -----

  private requireInstance(instanceId: string): Instance {
    const instance = this.instances.get(instanceId);
    if (!instance) throw new Error(`no orchestration instance "${instanceId}"`);
    return instance;
  }

  private toStatus(instance: Instance): InstanceStatus {
    return {
      name: instance.name,
      instanceId: instance.id,
      runtimeStatus: instance.status,
      input: instance.input ?? null,
      output: instance.output ?? null,
      customStatus: instance.customStatus ?? null,
      createdTime: new Date(instance.createdAt).toISOString(),
      lastUpdatedTime: new Date(instance.updatedAt).toISOString(),
      parentInstanceId: instance.parent?.instance.id,
    };
  }

  private emitLog(level: string, source: string, args: unknown[]): void {
    const message = args
      .map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : JSON.stringify(a)))
      .join(' ');
    this.options.log?.(level, source, message);
  }
}

function flattenActions(actions: unknown[][] | undefined): Action[] {
  const flat: Action[] = [];
  const visit = (a: unknown) => {
    if (Array.isArray(a)) a.forEach(visit);
    else if (a && typeof a === 'object') {
      const action = a as Action & { compoundActions?: unknown[] };
      if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny)
        action.compoundActions?.forEach(visit);
      else flat.push(action);
    }
  };
  (actions ?? []).forEach(visit);
  return flat;
}

function signature(action: Action): { actionType: number; functionName?: string; input: string } {
  let input: unknown;
  if (action.actionType === ActionType.CreateTimer) input = new Date(action.fireAt as string).toISOString();
  else if (action.actionType === ActionType.WaitForExternalEvent) input = action.externalEventName;
  else input = { input: fromActionInput(action.input), instanceId: action.instanceId };
  return {
    actionType: action.actionType,
    functionName: action.functionName,
    input: JSON.stringify(input) ?? '',
  };
}

function describeAction(a: { actionType: number; functionName?: string; input: string }): string {
  const type = Object.entries(ActionType).find(([, v]) => v === a.actionType)?.[0] ?? `type ${a.actionType}`;
  const input = a.input.length > 200 ? `${a.input.slice(0, 200)}…` : a.input;
  return `${type}${a.functionName ? ` "${a.functionName}"` : ''} ${input}`;
}

function roundTrip<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
