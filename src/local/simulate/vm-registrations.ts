/**
 * The simulated runner VMs of a broker-mode deployment (issue 16). At boot each one does what
 * packer/linux/scripts/bootstrap.sh and packer/windows/scripts/bootstrap-agent.ps1 do: ask its
 * IMDS for a token for kiln's audience and for its attested document (a fresh nonce each time),
 * POST /api/registrations to the app with both, then start the runner with the JIT config (the
 * fake GitHub refuses a config that is not its own, or one already used) or configure the agent
 * with the secret (the fake Azure DevOps accepts only the vault's PAT).
 *
 * Retries follow the bootstraps: 429 and 5xx wait 2, 4, 8, 16, 32 s (at least the broker's
 * Retry-After, at most 5 min); then the service restarts the bootstrap after 5 s and the round
 * begins again. A 401, 403 or 409 ends the boot (the bootstrap exits and is not restarted): the
 * instance stays unregistered until kiln's hygiene reimages it. A simulated VM stops restarting
 * after RESTART_LIMIT_MINUTES of trying (a real one keeps trying), so a broker that is down for a
 * whole scenario costs the simulation bounded work.
 */
import { randomInt } from 'node:crypto';
import type { FakeCloud } from '../fake-cloud/index.js';
import { REGISTRATION_AUDIENCE } from '../fake-cloud/index.js';
import type { BrokeredBoot } from '../fake-cloud/world-instances.js';
import type { LocalAppHost } from '../host/app-host.js';
import type { VirtualClock } from '../clock.js';

/** bootstrap.sh's KILN_REGISTRATION_RETRY_DELAYS default, in seconds. */
const RETRY_DELAYS_SECONDS = [2, 4, 8, 16, 32];
const MAX_RETRY_AFTER_SECONDS = 300;
/** github-runner.service's RestartSec. */
const RESTART_SECONDS = 5;
const RESTART_LIMIT_MINUTES = 120;

export interface RegistrationCounts {
  /** Boots the broker answered with a registration that the runner or agent then used. */
  brokered: number;
  /** Broker refusals by `<status> <reason code>` (e.g. `429 paced`), retried ones included. */
  refused: Record<string, number>;
}

export class SimulatedVmRegistrations {
  readonly counts: RegistrationCounts = { brokered: 0, refused: {} };

  constructor(
    private readonly deps: {
      cloud: FakeCloud;
      host: LocalAppHost;
      clock: VirtualClock;
      /** Queues async work for the durable runner's quiet loop (the world's callbacks are synchronous). */
      enqueue: (work: () => Promise<void>) => void;
      event: (flow: string, message: string) => void;
    },
  ) {}

  /** The world's hook: a broker-mode instance finished booting. */
  readonly boot = (boot: BrokeredBoot): void => {
    const firstAskAt = this.deps.clock.nowMs();
    this.deps.enqueue(() => this.ask(boot, 0, firstAskAt));
  };

  private async ask(boot: BrokeredBoot, retry: number, firstAskAt: number): Promise<void> {
    const { cloud } = this.deps;
    if (!cloud.world.bootIsCurrent(boot)) return;
    const flow = boot.set.kind === 'linux' ? 'github' : 'ado';
    const name = boot.inst.computerName;
    let token: string;
    let attestedDocument: string;
    try {
      token = await this.imdsToken(boot.inst.name);
      attestedDocument = await this.imdsAttestedDocument(boot.inst.name);
    } catch {
      // IMDS failed (a fault, a dropped connection): the bootstraps retry it as they retry the broker.
      this.retryLater(boot, retry, firstAskAt, 0);
      return;
    }
    const answer = await this.deps.host.invokeHttp({
      method: 'POST',
      path: '/api/registrations',
      body: JSON.stringify({ instance: name, attestedDocument }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    // The world may have moved on while the app answered (it cannot: the clock stands still), but a
    // boot is only acted on while it is the instance's own.
    if (!cloud.world.bootIsCurrent(boot)) return;
    const body = parseBody(answer.body);
    if (answer.status === 200) {
      this.registerWith(boot, body, flow);
      return;
    }
    // The broker's code for the refusal (`paced`, `registered`, …), with the status: what the report counts.
    const reason = `${answer.status} ${typeof body.reason === 'string' ? body.reason : 'unknown'}`;
    this.counts.refused[reason] = (this.counts.refused[reason] ?? 0) + 1;
    const transient = answer.status === 429 || answer.status >= 500;
    if (!transient) {
      this.deps.event(
        flow,
        `${name}: the registration broker refused (${answer.status}): ${String(body.error)}`,
      );
      return;
    }
    this.retryLater(boot, retry, firstAskAt, Number(answer.headers['retry-after'] ?? 0) || 0);
  }

  /** The bootstrap's next try: after its next delay (at least `retryAfterSeconds`), or a restart once it gave up. */
  private retryLater(boot: BrokeredBoot, retry: number, firstAskAt: number, retryAfterSeconds: number): void {
    const { clock } = this.deps;
    const flow = boot.set.kind === 'linux' ? 'github' : 'ado';
    const name = boot.inst.computerName;
    let waitSeconds: number;
    let nextRetry: number;
    if (retry < RETRY_DELAYS_SECONDS.length) {
      waitSeconds = Math.max(
        RETRY_DELAYS_SECONDS[retry]!,
        Math.min(retryAfterSeconds, MAX_RETRY_AFTER_SECONDS),
      );
      nextRetry = retry + 1;
    } else {
      // The bootstrap gave up; systemd (Restart=always) starts it again.
      waitSeconds = RESTART_SECONDS;
      nextRetry = 0;
    }
    const at = clock.nowMs() + waitSeconds * 1000;
    if (at - firstAskAt > RESTART_LIMIT_MINUTES * 60_000) {
      this.deps.event(
        flow,
        `${name}: no registration after ${RESTART_LIMIT_MINUTES} min of trying; the simulated VM stops asking`,
      );
      return;
    }
    clock.schedule(
      at,
      () => this.deps.enqueue(() => this.ask(boot, nextRetry, firstAskAt)),
      `broker retry ${name}`,
    );
  }

  private registerWith(boot: BrokeredBoot, body: Record<string, unknown>, flow: string): void {
    const { world } = this.deps.cloud;
    const name = boot.inst.computerName;
    if (boot.set.kind === 'linux') {
      const started = world.startJitRunner(String(body.encoded_jit_config ?? ''));
      if (!started.ok) {
        this.deps.event(flow, `${name}: run.sh --jitconfig failed: ${started.reason}`);
        return;
      }
    } else {
      if (!this.deps.cloud.acceptsAdoPat(String(body.token ?? ''))) {
        this.deps.event(flow, `${name}: config.cmd failed: Azure DevOps refused the registration secret`);
        return;
      }
      world.registerAgent(boot);
    }
    this.counts.brokered++;
  }

  private imdsToken(vmName: string): Promise<string> {
    const url = `${this.deps.cloud.imdsTokenUrl(vmName)}?api-version=2018-02-01&resource=${encodeURIComponent(REGISTRATION_AUDIENCE)}`;
    return imdsField(url, 'access_token', `the fake IMDS of ${vmName} gave no token`);
  }

  /** The `signature` of the VM's attested document, for a nonce of 10 random digits as bootstrap.sh picks. */
  private imdsAttestedDocument(vmName: string): Promise<string> {
    const nonce = String(randomInt(1e9, 1e10));
    const url = `${this.deps.cloud.imdsAttestedUrl(vmName)}?api-version=2018-10-01&nonce=${nonce}`;
    return imdsField(url, 'signature', `the fake IMDS of ${vmName} gave no attested document`);
  }
}

/** One field of an IMDS answer, as the bootstraps read it (with the Metadata header); throws when there is none. */
async function imdsField(url: string, field: string, failure: string): Promise<string> {
  const response = await fetch(url, { headers: { Metadata: 'true' } });
  const body = (await response.json()) as Record<string, unknown>;
  const value = body[field];
  if (!response.ok || typeof value !== 'string' || value === '')
    throw new Error(`${failure} (${response.status})`);
  return value;
}

function parseBody(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
