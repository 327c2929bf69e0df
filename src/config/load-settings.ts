/**
 * The one settings loader. Reads every setting from an environment-like record, reports every
 * problem at once (name, what is wrong, a valid example) and returns typed settings. Domain code
 * never reads process.env; trigger adapters call loadSettings() and pass the result down.
 */
import type { GateKind } from '../domain/software-report.js';
import type { ClientTuning } from '../retry-policy.js';
import { SETTINGS, type RawSettings, type SettingName } from './settings.js';
import { looksLikeCredential } from '../secret-patterns.js';

export type Env = Record<string, string | undefined>;

export interface SettingProblem {
  setting: string;
  problem: string;
  example: string;
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  constructor(readonly problems: SettingProblem[]) {
    super(
      `kiln settings are invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.setting}: ${p.problem} (example: ${p.example})`).join('\n'),
    );
  }
}

/** Typed settings; the clients' timeouts and retries (ClientTuning, src/retry-policy.ts) among them. */
export interface Settings extends ClientTuning {
  subscriptionId: string;
  clientId?: string;
  arm: { endpoint: string; audience: string };
  taskHub: string;
  /** Plan-only mode: every run is a dry run. */
  dryRun: boolean;
  managedTag: { name: string; value: string };
  canaryTag: { name: string; value: string };
  scaleSetIds: string[];
  keyVaultUrl: string;
  github?: {
    apiUrl: string;
    scope: 'org' | 'repo';
    owner: string;
    repo: string;
    auth: 'app' | 'pat';
    appId: string;
    installationId: string;
    appKeySecret: string;
    patSecret: string;
    /** Key Vault secret of the workflow_job webhook (GITHUB_WEBHOOK_SECRET_NAME). */
    webhookSecret: string;
    writeIntervalMs: number;
  };
  ado?: { orgUrl: string; pool: string; auth: 'pat' | 'entra'; patSecret: string };
  /** The registration broker (POST /api/registrations); undefined when KILN_REGISTRATION_AUDIENCE is empty. */
  registration?: {
    audiences: string[];
    tenantId: string;
    authorityHost: string;
    ratePerMinute: number;
    runnerGroupId: number;
    labels: string[];
    /** Where the broker records the provisionings it gave a registration (src/registration/issued-registrations.ts). */
    issuedTable: { endpoint: string; name: string };
  };
  /**
   * GitHub's job demand (src/demand/job-demand-table.ts): undefined when KILN_TABLE_ENDPOINT is
   * empty or there is no GitHub fleet.
   */
  jobDemand?: { table: { endpoint: string; name: string } };
  /** The run history (src/history/run-history.ts); `table` undefined when KILN_TABLE_ENDPOINT is empty. */
  runHistory: { table?: { endpoint: string; name: string }; retentionDays: number };
  /**
   * Where the images' software reports are (docs/software-report.md); undefined when
   * KILN_BLOB_ENDPOINT is empty (builds store none, kiln reads none).
   */
  softwareReports?: { endpoint: string; container: string };
  schedules: { cleanup: string; rebuild: string; runnerRelease: string; autoscale: string };
  /** Labels GitHub runners register with (GITHUB_RUNNER_LABELS): the autoscaler's default for scale sets without a kiln-labels tag. */
  runnerLabels: string[];
  /** The scale sets' lease table the autoscaler and rollouts share (src/leases); undefined when KILN_TABLE_ENDPOINT is empty (no autoscaling). */
  leases?: { endpoint: string; name: string };
  hygiene: { offlineGraceMinutes: number; bootDeadlineMinutes: number };
  gallery: {
    resourceGroup: string;
    name: string;
    definitions: { linux: string; windows: string };
    targetRegions: { name: string; replicas: number }[];
  };
  packer: {
    jobId: string;
    jobImage: string;
    jobClientId: string;
    imageResourceGroup: string;
    tempResourceGroup: string;
    vmSize: string;
    tagOrg: string;
    tagEnv: string;
    agentVersion: string;
  };
  rebuild: {
    buildTimeoutHours: number;
    canarySoakMinutes: number;
    pruneKeep: number;
    runnerMaxAgeDays: number;
    imageEolDays: number;
    /** Change kinds that hold a rebuild for approval (PROMOTION_GATE); empty: none. */
    promotionGate: GateKind[];
    approvalTimeoutHours: number;
  };
  /** Where kiln's metrics are exported (src/telemetry/metrics.ts); neither set: nowhere. */
  telemetry: {
    appInsights?: { connectionString: string; entraAuth: boolean };
    /** The OTLP/HTTP URL metrics are posted to. */
    otlpMetricsUrl?: string;
    exportIntervalMs: number;
  };
}

export function loadSettings(env: Env = process.env): Settings {
  const problems: SettingProblem[] = [];
  const raw = {} as Record<SettingName, unknown>;
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const read = readSetting(name, env[name]);
    if ('value' in read) raw[name] = read.value;
    else problems.push({ setting: name, problem: read.problem, example: SETTINGS[name].spec.example });
  }
  const r = raw as RawSettings;
  const requireSetting = (name: SettingName, when: string) => {
    if (r[name] === '' && !problems.some((p) => p.setting === name)) {
      problems.push({
        setting: name,
        problem: `is required when ${when}`,
        example: SETTINGS[name].spec.example,
      });
    }
  };
  const githubEnabled = r.GITHUB_OWNER !== '' && r.GITHUB_OWNER !== undefined;
  if (githubEnabled) {
    if (r.GITHUB_SCOPE === 'repo') requireSetting('GITHUB_REPO', 'GITHUB_SCOPE=repo');
    if (r.GITHUB_AUTH === 'app') requireSetting('GITHUB_APP_ID', 'GITHUB_AUTH=app');
  }
  const registrationEnabled = (r.KILN_REGISTRATION_AUDIENCE ?? []).length > 0;
  if (registrationEnabled) {
    requireSetting('AZURE_TENANT_ID', 'KILN_REGISTRATION_AUDIENCE is set');
    // Without a shared, durable record, app instances (and restarts) would each give an instance
    // its registration again: refused here rather than run the broker with a memory of its own.
    requireSetting('KILN_TABLE_ENDPOINT', 'KILN_REGISTRATION_AUDIENCE is set');
  }
  if (problems.length > 0) throw new SettingsError(problems);

  const armEndpoint = r.ARM_ENDPOINT.replace(/\/+$/, '');
  return {
    subscriptionId: r.AZURE_SUBSCRIPTION_ID,
    clientId: r.AZURE_CLIENT_ID || undefined,
    arm: { endpoint: armEndpoint, audience: r.ARM_AUDIENCE || `${armEndpoint}/.default` },
    taskHub: r.KILN_TASK_HUB,
    dryRun: r.DRY_RUN,
    managedTag: r.MANAGED_TAG,
    canaryTag: r.CANARY_TAG,
    scaleSetIds: r.SCALE_SET_IDS,
    keyVaultUrl: r.KEYVAULT_URL,
    clientRetryBaseMs: r.CLIENT_RETRY_BASE_MS,
    clientAttemptTimeoutMs: r.CLIENT_ATTEMPT_TIMEOUT_MS,
    clientRequestTimeoutMs: r.CLIENT_REQUEST_TIMEOUT_MS,
    clientMaxRetries: { arm: r.ARM_MAX_RETRIES, github: r.GITHUB_MAX_RETRIES, ado: r.ADO_MAX_RETRIES },
    github: githubEnabled
      ? {
          apiUrl: r.GITHUB_API_URL.replace(/\/+$/, ''),
          scope: r.GITHUB_SCOPE,
          owner: r.GITHUB_OWNER,
          repo: r.GITHUB_REPO,
          auth: r.GITHUB_AUTH,
          appId: r.GITHUB_APP_ID,
          installationId: r.GITHUB_APP_INSTALLATION_ID,
          appKeySecret: r.GITHUB_APP_KEY_SECRET,
          patSecret: r.GITHUB_PAT_SECRET,
          webhookSecret: r.GITHUB_WEBHOOK_SECRET_NAME,
          writeIntervalMs: r.GITHUB_WRITE_INTERVAL_MS,
        }
      : undefined,
    ado: r.ADO_ORG_URL
      ? {
          orgUrl: r.ADO_ORG_URL.replace(/\/+$/, ''),
          pool: r.ADO_POOL,
          auth: r.ADO_AUTH,
          patSecret: r.ADO_PAT_SECRET,
        }
      : undefined,
    registration: registrationEnabled
      ? {
          audiences: r.KILN_REGISTRATION_AUDIENCE,
          tenantId: r.AZURE_TENANT_ID.toLowerCase(),
          authorityHost: r.AZURE_AUTHORITY_HOST.replace(/\/+$/, ''),
          ratePerMinute: r.KILN_REGISTRATION_RATE_PER_MINUTE,
          runnerGroupId: r.GITHUB_RUNNER_GROUP_ID,
          labels: r.GITHUB_RUNNER_LABELS,
          issuedTable: {
            endpoint: r.KILN_TABLE_ENDPOINT.replace(/\/+$/, ''),
            name: r.KILN_REGISTRATION_TABLE,
          },
        }
      : undefined,
    runHistory: {
      table: r.KILN_TABLE_ENDPOINT
        ? { endpoint: r.KILN_TABLE_ENDPOINT.replace(/\/+$/, ''), name: r.KILN_RUN_HISTORY_TABLE }
        : undefined,
      retentionDays: r.RUN_HISTORY_DAYS,
    },
    jobDemand:
      r.KILN_TABLE_ENDPOINT && githubEnabled
        ? { table: { endpoint: r.KILN_TABLE_ENDPOINT.replace(/\/+$/, ''), name: r.KILN_JOB_DEMAND_TABLE } }
        : undefined,
    softwareReports: r.KILN_BLOB_ENDPOINT
      ? { endpoint: r.KILN_BLOB_ENDPOINT.replace(/\/+$/, ''), container: r.KILN_SOFTWARE_REPORTS_CONTAINER }
      : undefined,
    schedules: {
      cleanup: r.CLEANUP_SCHEDULE,
      rebuild: r.REBUILD_SCHEDULE,
      runnerRelease: r.RUNNER_RELEASE_SCHEDULE,
      autoscale: r.AUTOSCALE_SCHEDULE,
    },
    runnerLabels: r.GITHUB_RUNNER_LABELS,
    leases: r.KILN_TABLE_ENDPOINT
      ? { endpoint: r.KILN_TABLE_ENDPOINT.replace(/\/+$/, ''), name: r.KILN_LEASE_TABLE }
      : undefined,
    hygiene: { offlineGraceMinutes: r.OFFLINE_GRACE_MINUTES, bootDeadlineMinutes: r.BOOT_DEADLINE_MINUTES },
    gallery: {
      resourceGroup: r.GALLERY_RESOURCE_GROUP,
      name: r.GALLERY_NAME,
      definitions: { linux: r.LINUX_IMAGE_DEFINITION, windows: r.WINDOWS_IMAGE_DEFINITION },
      targetRegions: r.TARGET_REGIONS,
    },
    packer: {
      jobId: r.PACKER_JOB_ID,
      jobImage: r.PACKER_JOB_IMAGE,
      jobClientId: r.PACKER_JOB_CLIENT_ID,
      imageResourceGroup: r.PACKER_IMAGE_RG,
      tempResourceGroup: r.PACKER_TEMP_RG,
      vmSize: r.PACKER_VM_SIZE,
      tagOrg: r.TAG_ORG,
      tagEnv: r.TAG_ENV,
      agentVersion: r.AGENT_VERSION,
    },
    rebuild: {
      buildTimeoutHours: r.BUILD_TIMEOUT_HOURS,
      canarySoakMinutes: r.CANARY_SOAK_MINUTES,
      pruneKeep: r.PRUNE_KEEP,
      runnerMaxAgeDays: r.RUNNER_MAX_AGE_DAYS,
      imageEolDays: r.IMAGE_EOL_DAYS,
      promotionGate: r.PROMOTION_GATE,
      approvalTimeoutHours: r.APPROVAL_TIMEOUT_HOURS,
    },
    telemetry: {
      appInsights: r.APPLICATIONINSIGHTS_CONNECTION_STRING
        ? {
            connectionString: r.APPLICATIONINSIGHTS_CONNECTION_STRING,
            entraAuth: r.APPLICATIONINSIGHTS_AUTHENTICATION_STRING !== '',
          }
        : undefined,
      otlpMetricsUrl:
        r.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ||
        (r.OTEL_EXPORTER_OTLP_ENDPOINT
          ? `${r.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/metrics`
          : undefined),
      exportIntervalMs: r.OTEL_METRIC_EXPORT_INTERVAL,
    },
  };
}

/**
 * One setting's value as the loader reads it (unset or blank: its default), or what is wrong with it,
 * in the words every settings error uses (a value that could be a credential masked).
 */
export function readSetting(
  name: SettingName,
  value: string | undefined,
): { value: unknown } | { problem: string } {
  const unset = value === undefined || value.trim() === '';
  const result = SETTINGS[name].schema.safeParse(unset ? undefined : value);
  if (result.success) return { value: result.data };
  if (unset) return { problem: 'is required but not set' };
  return { problem: `${result.error.issues[0]?.message ?? 'is invalid'} (got "${mask(name, value)}")` };
}

const SECRET_NAME = /(TOKEN|PASSWORD|PRIVATE_KEY|CONNECTION_STRING|CLIENT_SECRET|_PAT|_KEY)$/i;

/**
 * Masks a value whose setting name looks like it holds a secret, or that looks like a credential
 * itself; settings that name secrets are not secret.
 */
export function mask(name: string, value: string): string {
  // Values that are credentials whatever setting they were put in (a PAT pasted into the wrong field).
  if (looksLikeCredential(value)) return `***(${value.length} chars)`;
  if (SETTINGS[name as SettingName]?.spec && !('secret' in SETTINGS[name as SettingName].spec)) return value;
  return SECRET_NAME.test(name) ? `***(${value.length} chars)` : value;
}
