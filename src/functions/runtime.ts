/**
 * The composition root: settings are loaded and the clients built once per worker process, on first
 * use, and handed to the activity factories. Tests and the local host reset it after changing the
 * environment.
 */
import { createArmClient } from '../clients/arm/index.js';
import { createAdoClient } from '../clients/ado/index.js';
import { createSoftwareReportStore } from '../clients/blobs.js';
import { createCredential } from '../clients/credential.js';
import { createGitHubClient } from '../clients/github/index.js';
import { createSecretReader } from '../clients/keyvault.js';
import type { ActivityDeps } from '../activities/deps.js';
import { createRegistrationReader } from '../activities/registrations.js';
import { loadSettings, type Settings } from '../config/load-settings.js';
import { createRegistrationBroker } from '../registration/broker.js';
import { createIssuedRegistrationsTable } from '../registration/issued-registrations.js';
import { startMetrics } from '../telemetry/metrics.js';
import { createRunHistoryTable } from '../history/run-history.js';
import { createScaleSetLeasesTable } from '../leases/scale-set-leases.js';
import { createJobDemandTable } from '../demand/job-demand-table.js';
import { createWebhookReceiver } from '../demand/webhook-receiver.js';

let runtime: ActivityDeps | undefined;
let broker: ReturnType<typeof createRegistrationBroker> | undefined;
let webhookReceiver: ReturnType<typeof createWebhookReceiver> | undefined;
let clock: () => Date = () => new Date();

/** The time trigger adapters act at (run periods in instance ids). A local host sets its virtual clock here. */
export function now(): Date {
  return clock();
}

export function useClock(source: () => Date): void {
  clock = source;
}

export function getSettings(): Settings {
  return getRuntime().settings;
}

export function getRuntime(): ActivityDeps {
  if (!runtime) {
    const settings = loadSettings(process.env);
    const credential = createCredential(settings);
    const secrets = createSecretReader(settings.keyVaultUrl, credential);
    const metrics = startMetrics(settings.telemetry, credential);
    const github = settings.github
      ? createGitHubClient(settings.github, secrets, {
          writeSpacingMs: settings.github.writeIntervalMs,
          retryBaseMs: settings.clientRetryBaseMs,
          retries: settings.clientMaxRetries.github,
          timeoutMs: settings.clientAttemptTimeoutMs,
          deadlineMs: settings.clientRequestTimeoutMs,
          observer: metrics,
        })
      : undefined;
    const ado = settings.ado
      ? createAdoClient(settings.ado, secrets, credential, {
          backoffMs: settings.clientRetryBaseMs,
          maxAttempts: 1 + settings.clientMaxRetries.ado,
          timeoutMs: settings.clientAttemptTimeoutMs,
          deadlineMs: settings.clientRequestTimeoutMs,
          observer: metrics,
        })
      : undefined;
    runtime = {
      settings,
      arm: createArmClient(settings, credential, {
        retryBaseMs: settings.clientRetryBaseMs,
        maxRetries: settings.clientMaxRetries.arm,
        timeoutMs: settings.clientRequestTimeoutMs,
        observer: metrics,
      }),
      github,
      ado,
      registrations: createRegistrationReader({ github, ado, now }),
      now,
      metrics,
      secrets,
    };
    // kiln's tables in the app's storage account, each reached with the app's identity.
    const tableOptions = (table: { endpoint: string; name: string }) => ({
      endpoint: table.endpoint,
      tableName: table.name,
      credential,
      retryBaseMs: settings.clientRetryBaseMs,
    });
    const issuedTable = settings.registration?.issuedTable;
    if (issuedTable) runtime.issuedRegistrations = createIssuedRegistrationsTable(tableOptions(issuedTable));
    const demandTable = settings.jobDemand?.table;
    if (demandTable) runtime.jobDemand = createJobDemandTable(tableOptions(demandTable));
    const historyTable = settings.runHistory.table;
    if (historyTable) runtime.runHistory = createRunHistoryTable(tableOptions(historyTable));
    if (settings.leases) runtime.leases = createScaleSetLeasesTable(tableOptions(settings.leases));
    // The images' software reports, in the same account's Blob service, read with the app's identity.
    const reports = settings.softwareReports;
    if (reports)
      runtime.softwareReports = createSoftwareReportStore({
        endpoint: reports.endpoint,
        container: reports.container,
        credential,
        retryBaseMs: settings.clientRetryBaseMs,
      });
  }
  return runtime;
}

/** The registration broker, with its caches (signing keys, managed scale sets) and pacing, built once. */
export function getRegistrationBroker(): ReturnType<typeof createRegistrationBroker> {
  broker ??= createRegistrationBroker(getRuntime());
  return broker;
}

/**
 * The receiver of GitHub's workflow_job webhooks, with its cached webhook secret, built once;
 * undefined without a GitHub fleet.
 */
export function getGitHubWebhookReceiver(): ReturnType<typeof createWebhookReceiver> | undefined {
  const deps = getRuntime();
  const github = deps.settings.github;
  if (!github || !deps.secrets) return undefined;
  webhookReceiver ??= createWebhookReceiver({
    secrets: deps.secrets,
    secretName: github.webhookSecret,
    store: deps.jobDemand,
    now: deps.now,
  });
  return webhookReceiver;
}

/**
 * Forgets the runtime (the next use builds it afresh from the environment) after exporting what its
 * metrics hold: the app's last word when the host stops it, and the end of a local run.
 */
export async function shutdownRuntime(): Promise<void> {
  const metrics = runtime?.metrics;
  runtime = undefined;
  broker = undefined;
  webhookReceiver = undefined;
  await metrics?.shutdown();
}

/** shutdownRuntime, not waited for: the runtime is forgotten at once, its last export goes on. */
export function resetRuntime(): void {
  void shutdownRuntime();
}
