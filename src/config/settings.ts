/**
 * Every setting kiln reads, in one place: environment variable, default, meaning, example, and how it
 * is validated. The loader (load-settings.ts) reads only these; the README table is generated from
 * this list by `npm run docs:settings` and a test keeps the two equal.
 */
import { z } from 'zod';
import { CLIENT_TUNING, MAX_CLIENT_REQUEST_TIMEOUT_MS } from '../retry-policy.js';
import { DEFAULT_PROMOTION_GATE, parsePromotionGate } from '../domain/software-report.js';

export interface SettingSpec {
  env: string;
  description: string;
  example: string;
  default?: string;
  secret?: boolean;
}

const minutes = (label: string) => z.coerce.number().int().min(1, `${label} must be a whole number ≥ 1`);

/** NCRONTAB with six fields (second minute hour day month weekday), as Azure Functions timers take. */
const cronSchema = z
  .string()
  .trim()
  .refine((v) => v.split(/\s+/).length === 6, 'must be an NCRONTAB expression with six fields');

const httpsUrl = z
  .string()
  .trim()
  .url('must be an absolute URL')
  .refine((v) => /^https:\/\//i.test(v), 'must use https');

const regionList = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const regions: { name: string; replicas: number }[] = [];
    for (const part of v
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const m = /^([a-z0-9]+)(?:=(\d+))?$/i.exec(part);
      if (!m || !m[1]) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${part}" is not region or region=replicas` });
        return z.NEVER;
      }
      regions.push({ name: m[1].toLowerCase(), replicas: m[2] ? Number(m[2]) : 1 });
    }
    return regions;
  });

const tag = z
  .string()
  .trim()
  .regex(/^[^=\s]+=[^=\s]+$/, 'must be name=value')
  .transform((v) => {
    const [name, value] = v.split('=') as [string, string];
    return { name, value };
  });

const csv = z
  .string()
  .trim()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/** PROMOTION_GATE: the change kinds that hold a rebuild for approval. */
const promotionGate = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const gate = parsePromotionGate(v);
    if (gate.ok) return gate.holds;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: gate.error });
    return z.NEVER;
  });

/** An Azure table name. */
const tableName = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z][A-Za-z0-9]{2,62}$/,
    'must be 3-63 letters/digits starting with a letter (an Azure table name)',
  );

/**
 * An Azure blob container name: 3-63 lower-case letters, digits and hyphens, starting and ending
 * with a letter or digit, no two hyphens in a row.
 */
const containerName = z
  .string()
  .trim()
  .regex(
    /^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$/,
    'must be 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit (an Azure blob container name)',
  );

/** A whole number in [min, max], e.g. milliseconds or a count. */
const wholeNumber = (min: number, max: number) =>
  z.coerce
    .number()
    .int('must be a whole number')
    .min(min, `must be a whole number ≥ ${min}`)
    .max(max, `must be at most ${max}`);

/**
 * A setting with a default, stated once: the schema falls back to `value` and the README shows it,
 * as the example too unless the spec gives another.
 */
function withDefault<S extends z.ZodTypeAny>(
  spec: Omit<SettingSpec, 'default' | 'example'> & { example?: string },
  schema: S,
  value: z.input<S> & (string | number),
) {
  const shown = String(value);
  return {
    spec: { ...spec, example: spec.example ?? shown, default: shown },
    schema: schema.default(value),
  };
}

/** Setting specs in README order. `schema` validates the raw string (or undefined when unset). */
export const SETTINGS = {
  AZURE_SUBSCRIPTION_ID: {
    spec: {
      env: 'AZURE_SUBSCRIPTION_ID',
      description: 'Subscription that holds the scale sets and the gallery.',
      example: '00000000-0000-0000-0000-000000000000',
    },
    schema: z.string().trim().uuid('must be a subscription GUID'),
  },
  AZURE_CLIENT_ID: withDefault(
    {
      env: 'AZURE_CLIENT_ID',
      description: 'Client id of the user-assigned identity kiln runs as (read by DefaultAzureCredential).',
      example: '11111111-1111-1111-1111-111111111111',
    },
    z.string().trim(),
    '',
  ),
  ARM_ENDPOINT: withDefault(
    {
      env: 'ARM_ENDPOINT',
      description:
        'Azure Resource Manager endpoint (sovereign clouds: e.g. https://management.chinacloudapi.cn).',
    },
    httpsUrl,
    'https://management.azure.com',
  ),
  ARM_AUDIENCE: {
    spec: {
      env: 'ARM_AUDIENCE',
      description: 'Token audience for ARM. Defaults to ARM_ENDPOINT + "/.default".',
      example: 'https://management.azure.com/.default',
      default: '(ARM_ENDPOINT)/.default',
    },
    schema: z.string().trim().optional(),
  },
  KILN_TASK_HUB: withDefault(
    {
      env: 'KILN_TASK_HUB',
      description: 'Durable Functions task hub name (host.json reads it).',
    },
    z
      .string()
      .trim()
      .regex(/^[A-Za-z][A-Za-z0-9]{2,44}$/, 'must be 3-45 letters/digits starting with a letter'),
    'kiln',
  ),
  DRY_RUN: withDefault(
    {
      env: 'DRY_RUN',
      description:
        'Plan-only mode: timers, Event Grid and HTTP requests start dry runs that report what they would do and change nothing.',
    },
    z
      .enum(['true', 'false', 'TRUE', 'FALSE', 'True', 'False', '1', '0'], {
        errorMap: () => ({ message: 'must be true or false' }),
      })
      .transform((v) => v.toLowerCase() === 'true' || v === '1'),
    'false',
  ),
  MANAGED_TAG: withDefault(
    {
      env: 'MANAGED_TAG',
      description: 'Tag that marks a scale set as managed by kiln (S2).',
    },
    tag,
    'kiln-managed=true',
  ),
  CANARY_TAG: withDefault(
    {
      env: 'CANARY_TAG',
      description: 'Tag that marks the canary scale set of an image.',
    },
    tag,
    'kiln-canary=true',
  ),
  SCALE_SET_IDS: withDefault(
    {
      env: 'SCALE_SET_IDS',
      description:
        'Optional explicit list of managed scale set resource ids (comma-separated), used instead of the tag.',
      example: '/subscriptions/…/virtualMachineScaleSets/vmss-gh-linux',
    },
    csv,
    '',
  ),
  KEYVAULT_URL: {
    spec: {
      env: 'KEYVAULT_URL',
      description: 'Key Vault holding the GitHub and Azure DevOps credentials.',
      example: 'https://kv-kiln-prod.vault.azure.net',
    },
    schema: httpsUrl,
  },
  CLIENT_RETRY_BASE_MS: withDefault(
    {
      env: 'CLIENT_RETRY_BASE_MS',
      description:
        'First backoff before a client retries a failed GitHub, Azure DevOps, ARM, Table or Blob storage request; later backoffs grow from it, all within CLIENT_REQUEST_TIMEOUT_MS (Table and Blob storage: their own 30 s). 0 retries at once.',
    },
    wholeNumber(0, 60_000),
    CLIENT_TUNING.clientRetryBaseMs,
  ),
  CLIENT_ATTEMPT_TIMEOUT_MS: withDefault(
    {
      env: 'CLIENT_ATTEMPT_TIMEOUT_MS',
      description:
        'Longest wait for the answer to one GitHub or Azure DevOps HTTP attempt; a request that times out is retried within CLIENT_REQUEST_TIMEOUT_MS.',
    },
    wholeNumber(1, MAX_CLIENT_REQUEST_TIMEOUT_MS),
    CLIENT_TUNING.clientAttemptTimeoutMs,
  ),
  CLIENT_REQUEST_TIMEOUT_MS: withDefault(
    {
      env: 'CLIENT_REQUEST_TIMEOUT_MS',
      description: `Longest one ARM, GitHub or Azure DevOps call takes, every retry and wait included (for ARM also the polls of an operation it awaits); then it fails as transient and the orchestration retries it on its timers. At most ${MAX_CLIENT_REQUEST_TIMEOUT_MS}, so that an activity ends within the 10-minute function timeout.`,
    },
    wholeNumber(1, MAX_CLIENT_REQUEST_TIMEOUT_MS),
    CLIENT_TUNING.clientRequestTimeoutMs,
  ),
  ARM_MAX_RETRIES: withDefault(
    {
      env: 'ARM_MAX_RETRIES',
      description:
        'Retries of an ARM request that failed with 408, 429, 5xx or a dropped connection, after the first attempt.',
    },
    wholeNumber(0, 10),
    CLIENT_TUNING.clientMaxRetries.arm,
  ),
  GITHUB_MAX_RETRIES: withDefault(
    {
      env: 'GITHUB_MAX_RETRIES',
      description:
        'Retries of a GitHub request that failed with 5xx or a dropped connection, after the first attempt (a rate limit is retried once, separately).',
    },
    wholeNumber(0, 10),
    CLIENT_TUNING.clientMaxRetries.github,
  ),
  ADO_MAX_RETRIES: withDefault(
    {
      env: 'ADO_MAX_RETRIES',
      description:
        'Retries of an Azure DevOps request that failed with 408, 429, 5xx or a dropped connection, after the first attempt.',
    },
    wholeNumber(0, 10),
    CLIENT_TUNING.clientMaxRetries.ado,
  ),
  GITHUB_API_URL: withDefault(
    {
      env: 'GITHUB_API_URL',
      description: 'GitHub REST API base URL (GitHub Enterprise Server: https://HOST/api/v3).',
    },
    httpsUrl,
    'https://api.github.com',
  ),
  GITHUB_SCOPE: withDefault(
    {
      env: 'GITHUB_SCOPE',
      description: 'Where runners are registered: org or repo.',
    },
    z.enum(['org', 'repo']),
    'org',
  ),
  GITHUB_OWNER: withDefault(
    {
      env: 'GITHUB_OWNER',
      description: 'Organisation (or repository owner) of the runners. Empty: kiln manages no GitHub fleet.',
      example: 'acme',
    },
    z.string().trim(),
    '',
  ),
  GITHUB_REPO: withDefault(
    {
      env: 'GITHUB_REPO',
      description: 'Repository of the runners when GITHUB_SCOPE=repo.',
      example: 'build',
    },
    z.string().trim(),
    '',
  ),
  GITHUB_AUTH: withDefault(
    {
      env: 'GITHUB_AUTH',
      description: 'How kiln authenticates to GitHub: app (GitHub App, preferred) or pat.',
    },
    z.enum(['app', 'pat']),
    'app',
  ),
  GITHUB_WRITE_INTERVAL_MS: withDefault(
    {
      env: 'GITHUB_WRITE_INTERVAL_MS',
      description:
        "Minimum time between GitHub writes (GitHub's advice against secondary rate limits). 0 disables the spacing.",
    },
    z.coerce.number().int().min(0, 'must be a whole number ≥ 0').max(60_000, 'must be at most 60000'),
    1000,
  ),
  GITHUB_APP_ID: withDefault(
    {
      env: 'GITHUB_APP_ID',
      description: 'GitHub App id (GITHUB_AUTH=app).',
      example: '123456',
    },
    z.string().trim().regex(/^\d*$/, 'must be the numeric App id'),
    '',
  ),
  GITHUB_APP_INSTALLATION_ID: withDefault(
    {
      env: 'GITHUB_APP_INSTALLATION_ID',
      description: 'Installation id of the App; looked up from the owner when empty.',
      example: '7654321',
    },
    z.string().trim().regex(/^\d*$/, 'must be numeric'),
    '',
  ),
  GITHUB_APP_KEY_SECRET: withDefault(
    {
      env: 'GITHUB_APP_KEY_SECRET',
      description: 'Key Vault secret holding the GitHub App private key (PEM).',
    },
    z.string().trim().min(1),
    'github-app-key',
  ),
  GITHUB_PAT_SECRET: withDefault(
    {
      env: 'GITHUB_PAT_SECRET',
      description: 'Key Vault secret holding a GitHub PAT (GITHUB_AUTH=pat).',
    },
    z.string().trim().min(1),
    'gh-pat',
  ),
  GITHUB_WEBHOOK_SECRET_NAME: withDefault(
    {
      env: 'GITHUB_WEBHOOK_SECRET_NAME',
      description:
        "Key Vault secret holding the secret of the GitHub webhook (the App's or the organisation's) that sends workflow_job events to POST /api/github/webhooks: kiln verifies each delivery's X-Hub-Signature-256 with it and refuses the rest (401).",
    },
    z.string().trim().min(1),
    'github-webhook-secret',
  ),
  ADO_ORG_URL: withDefault(
    {
      env: 'ADO_ORG_URL',
      description: 'Azure DevOps organisation URL. Empty disables the Azure DevOps fleet.',
      example: 'https://dev.azure.com/acme',
    },
    z.union([z.literal(''), httpsUrl]),
    '',
  ),
  ADO_POOL: withDefault(
    {
      env: 'ADO_POOL',
      description: 'Agent pool of the Windows agents.',
    },
    z.string().trim().min(1),
    'Default',
  ),
  ADO_AUTH: withDefault(
    {
      env: 'ADO_AUTH',
      description:
        'How kiln authenticates to Azure DevOps: pat (from Key Vault) or entra (managed identity token).',
    },
    z.enum(['pat', 'entra']),
    'pat',
  ),
  ADO_PAT_SECRET: withDefault(
    {
      env: 'ADO_PAT_SECRET',
      description: 'Key Vault secret holding the Azure DevOps PAT (Agent Pools read & manage).',
    },
    z.string().trim().min(1),
    'ado-pat',
  ),
  CLEANUP_SCHEDULE: withDefault(
    {
      env: 'CLEANUP_SCHEDULE',
      description: 'When fleet hygiene runs (NCRONTAB, UTC).',
    },
    cronSchema,
    '0 */15 * * * *',
  ),
  AUTOSCALE_SCHEDULE: withDefault(
    {
      env: 'AUTOSCALE_SCHEDULE',
      description:
        "When the autoscaler looks at job demand and sizes the scale sets tagged with capacity tags (kiln-min, kiln-max, kiln-warm, kiln-warm-schedule) (NCRONTAB, UTC). Each look reads the queued jobs (GitHub: the workflow_job webhooks kiln kept, corrected from the API; Azure DevOps: the pool's job requests) and every autoscaled scale set's instances and runners or agents.",
    },
    cronSchema,
    '0 */1 * * * *',
  ),
  REBUILD_SCHEDULE: withDefault(
    {
      env: 'REBUILD_SCHEDULE',
      description: 'When the monthly image rebuild runs (NCRONTAB, UTC).',
    },
    cronSchema,
    '0 0 3 1 * *',
  ),
  RUNNER_RELEASE_SCHEDULE: withDefault(
    {
      env: 'RUNNER_RELEASE_SCHEDULE',
      description: 'When the GitHub runner release watch runs (NCRONTAB, UTC).',
    },
    cronSchema,
    '0 0 6 * * *',
  ),
  OFFLINE_GRACE_MINUTES: withDefault(
    {
      env: 'OFFLINE_GRACE_MINUTES',
      description: 'An offline registration whose VM still exists is removed after this long.',
    },
    minutes('OFFLINE_GRACE_MINUTES'),
    30,
  ),
  BOOT_DEADLINE_MINUTES: withDefault(
    {
      env: 'BOOT_DEADLINE_MINUTES',
      description:
        'An instance whose runner/agent has not registered this long after provisioning is reimaged.',
    },
    minutes('BOOT_DEADLINE_MINUTES'),
    20,
  ),
  GALLERY_RESOURCE_GROUP: withDefault(
    {
      env: 'GALLERY_RESOURCE_GROUP',
      description: 'Resource group of the Compute Gallery.',
      example: 'rg-kiln-images',
    },
    z.string().trim(),
    '',
  ),
  GALLERY_NAME: withDefault(
    {
      env: 'GALLERY_NAME',
      description: 'Compute Gallery that holds the runner images.',
      example: 'galKiln',
    },
    z.string().trim(),
    '',
  ),
  LINUX_IMAGE_DEFINITION: withDefault(
    {
      env: 'LINUX_IMAGE_DEFINITION',
      description: 'Gallery image definition of the Linux GitHub runner image.',
    },
    z.string().trim().min(1),
    'linux-agent',
  ),
  WINDOWS_IMAGE_DEFINITION: withDefault(
    {
      env: 'WINDOWS_IMAGE_DEFINITION',
      description: 'Gallery image definition of the Windows Azure DevOps agent image.',
    },
    z.string().trim().min(1),
    'windows-agent',
  ),
  TARGET_REGIONS: withDefault(
    {
      env: 'TARGET_REGIONS',
      description: 'Replication regions with replica counts; the first is the build region.',
      example: 'westeurope=1,northeurope=1',
    },
    regionList,
    '',
  ),
  PACKER_JOB_ID: withDefault(
    {
      env: 'PACKER_JOB_ID',
      description: 'Resource id of the Container Apps job that runs Packer.',
      example: '/subscriptions/…/providers/Microsoft.App/jobs/job-kiln-packer',
    },
    z.string().trim(),
    '',
  ),
  PACKER_JOB_CLIENT_ID: withDefault(
    {
      env: 'PACKER_JOB_CLIENT_ID',
      description:
        "Client id of the Packer job's own identity, sent as AZURE_CLIENT_ID with every execution (a start request replaces the job's template).",
      example: '22222222-2222-2222-2222-222222222222',
    },
    z.string().trim(),
    '',
  ),
  PACKER_JOB_IMAGE: withDefault(
    {
      env: 'PACKER_JOB_IMAGE',
      description: 'Container image of the Packer job.',
      example: 'crkiln.azurecr.io/kiln-packer:1',
    },
    z.string().trim(),
    '',
  ),
  PACKER_IMAGE_RG: withDefault(
    {
      env: 'PACKER_IMAGE_RG',
      description: 'Resource group for the intermediate managed images.',
      example: 'rg-images',
    },
    z.string().trim(),
    '',
  ),
  PACKER_TEMP_RG: withDefault(
    {
      env: 'PACKER_TEMP_RG',
      description: 'Temporary resource group Packer builds in.',
      example: 'rg-packer-temp',
    },
    z.string().trim(),
    '',
  ),
  PACKER_VM_SIZE: withDefault(
    { env: 'PACKER_VM_SIZE', description: 'Build VM size.' },
    z.string().trim(),
    'Standard_D4s_v5',
  ),
  TAG_ORG: withDefault(
    {
      env: 'TAG_ORG',
      description: 'Organisation tag put on built images.',
      example: 'acme',
    },
    z.string().trim(),
    '',
  ),
  TAG_ENV: withDefault(
    {
      env: 'TAG_ENV',
      description: 'Environment tag put on built images.',
      example: 'prod',
    },
    z.string().trim(),
    '',
  ),
  BUILD_TIMEOUT_HOURS: withDefault(
    {
      env: 'BUILD_TIMEOUT_HOURS',
      description: 'A Packer build running longer is stopped and the image fails.',
    },
    minutes('BUILD_TIMEOUT_HOURS'),
    8,
  ),
  CANARY_SOAK_MINUTES: withDefault(
    {
      env: 'CANARY_SOAK_MINUTES',
      description: 'How long canary runners must stay healthy.',
    },
    minutes('CANARY_SOAK_MINUTES'),
    30,
  ),
  PROMOTION_GATE: withDefault(
    {
      env: 'PROMOTION_GATE',
      description:
        'Software changes (docs/software-report.md) that hold a rebuild after its canary passed, in state awaitingApproval, until someone approves or rejects it (POST /api/rebuilds/{id}/approve or /reject, kiln rebuild approve|reject ID) or APPROVAL_TIMEOUT_HOURS pass: a comma list of added, removed, major, minor, patch, and unreported (the new version has no software report). off: never hold.',
    },
    promotionGate,
    DEFAULT_PROMOTION_GATE,
  ),
  APPROVAL_TIMEOUT_HOURS: withDefault(
    {
      env: 'APPROVAL_TIMEOUT_HOURS',
      description:
        'How long a rebuild held by PROMOTION_GATE waits for an approval; then it is rejected, nothing is promoted and the canary goes back to the version it ran.',
    },
    wholeNumber(1, 24 * 30),
    72,
  ),
  PRUNE_KEEP: withDefault(
    {
      env: 'PRUNE_KEEP',
      description: 'Newest gallery versions always kept per image (S3).',
    },
    minutes('PRUNE_KEEP'),
    3,
  ),
  RUNNER_MAX_AGE_DAYS: withDefault(
    {
      env: 'RUNNER_MAX_AGE_DAYS',
      description:
        'Rebuild the Linux image when its baked runner is older than this (GitHub refuses runners 30 days behind).',
    },
    minutes('RUNNER_MAX_AGE_DAYS'),
    21,
  ),
  IMAGE_EOL_DAYS: withDefault(
    {
      env: 'IMAGE_EOL_DAYS',
      description: 'End-of-life date set on new gallery versions, in days after publishing.',
    },
    minutes('IMAGE_EOL_DAYS'),
    180,
  ),
  AZURE_TENANT_ID: withDefault(
    {
      env: 'AZURE_TENANT_ID',
      description:
        'Entra tenant of the deployment: the registration broker accepts only tokens this tenant issued (tid and issuer). Required when KILN_REGISTRATION_AUDIENCE is set.',
      example: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
    },
    z
      .string()
      .trim()
      .regex(/^[0-9a-z-]*$/i, 'must be the tenant id (a GUID)'),
    '',
  ),
  AZURE_AUTHORITY_HOST: withDefault(
    {
      env: 'AZURE_AUTHORITY_HOST',
      description:
        "Entra authority (sovereign clouds: e.g. https://login.chinacloudapi.cn). The registration broker reads the tenant's OpenID metadata and signing keys from it.",
    },
    httpsUrl,
    'https://login.microsoftonline.com',
  ),
  KILN_REGISTRATION_AUDIENCE: withDefault(
    {
      env: 'KILN_REGISTRATION_AUDIENCE',
      description:
        "Audience (comma-separated: the App ID URI and/or the client id of kiln's app registration) of the managed identity tokens runner VMs send to POST /api/registrations. Empty: the registration broker is off (answers 404).",
      example: 'api://kiln-registration',
    },
    csv,
    '',
  ),
  KILN_REGISTRATION_RATE_PER_MINUTE: withDefault(
    {
      env: 'KILN_REGISTRATION_RATE_PER_MINUTE',
      description:
        "Registrations the registration broker handles per minute, GitHub runners and Azure DevOps agents together (per app instance, bursts up to the same number); beyond it the broker answers 429 with Retry-After rather than meet GitHub's secondary rate limits or Azure DevOps' throttling.",
    },
    wholeNumber(1, 150),
    30,
  ),
  KILN_TABLE_ENDPOINT: withDefault(
    {
      env: 'KILN_TABLE_ENDPOINT',
      description:
        "Table storage endpoint of the app's storage account (sovereign clouds differ, e.g. https://<account>.table.core.chinacloudapi.cn), reached with kiln's managed identity (Storage Table Data Contributor). kiln keeps its run history there, and the registration broker records which instance provisionings it gave a registration, shared by every app instance. Required when KILN_REGISTRATION_AUDIENCE is set. Empty: no run history (GET /api/runs answers the latest run of each instance id from the durable task hub).",
      example: 'https://stkilnprod.table.core.windows.net',
    },
    z.union([z.literal(''), httpsUrl]),
    '',
  ),
  KILN_REGISTRATION_TABLE: withDefault(
    {
      env: 'KILN_REGISTRATION_TABLE',
      description:
        "Table (in KILN_TABLE_ENDPOINT) of the registration broker's record of issued registrations; created at first use.",
    },
    tableName,
    'kilnregistrations',
  ),
  KILN_RUN_HISTORY_TABLE: withDefault(
    {
      env: 'KILN_RUN_HISTORY_TABLE',
      description:
        'Table (in KILN_TABLE_ENDPOINT) of the run history: a row per run of a rebuild, rollout, cleanup or runner-release watch (who started it, input, outcome, versions and scale sets), never replaced by a later run of the same instance id; created at first use.',
    },
    tableName,
    'kilnruns',
  ),
  KILN_LEASE_TABLE: withDefault(
    {
      env: 'KILN_LEASE_TABLE',
      description:
        'Table (in KILN_TABLE_ENDPOINT) of the one lease per scale set that the autoscaler and rollouts share (a rollout holds it for a wave or a rollback, the autoscaler for a scale-in or capacity change); created at first use. Autoscaling needs KILN_TABLE_ENDPOINT.',
    },
    tableName,
    'kilnleases',
  ),
  KILN_JOB_DEMAND_TABLE: withDefault(
    {
      env: 'KILN_JOB_DEMAND_TABLE',
      description:
        "Table (in KILN_TABLE_ENDPOINT) of GitHub's job demand: the last known status of each workflow job, from workflow_job webhooks corrected by the reconcile read of GitHub's API (issue 19); created at first use.",
    },
    tableName,
    'kilnjobdemand',
  ),
  RUN_HISTORY_DAYS: withDefault(
    {
      env: 'RUN_HISTORY_DAYS',
      description:
        'How many days the run history keeps a run after its start: older runs are never listed and are deleted. GET /api/runs?days= reaches back at most this far.',
    },
    wholeNumber(1, 3650),
    400,
  ),
  KILN_BLOB_ENDPOINT: withDefault(
    {
      env: 'KILN_BLOB_ENDPOINT',
      description:
        "Blob endpoint of the app's storage account (sovereign clouds differ, e.g. https://<account>.blob.core.chinacloudapi.cn). Each image build stores its software report there (docs/software-report.md), written by the Packer job's identity; kiln reads them with its managed identity to compare a new image with the promoted one and to answer GET /api/images/{image}/{version}/software. Empty: builds store no report and kiln reads none.",
      example: 'https://stkilnprod.blob.core.windows.net',
    },
    z.union([z.literal(''), httpsUrl]),
    '',
  ),
  KILN_SOFTWARE_REPORTS_CONTAINER: withDefault(
    {
      env: 'KILN_SOFTWARE_REPORTS_CONTAINER',
      description:
        "Blob container (in KILN_BLOB_ENDPOINT) of the images' software reports: <definition>/<version>/software.json, software.md and sbom.spdx.json. The Bicep creates it.",
    },
    containerName,
    'software-reports',
  ),
  GITHUB_RUNNER_GROUP_ID: withDefault(
    {
      env: 'GITHUB_RUNNER_GROUP_ID',
      description: 'Runner group the registration broker puts JIT runners in (1: the Default group).',
    },
    wholeNumber(1, 2_147_483_647),
    1,
  ),
  GITHUB_RUNNER_LABELS: withDefault(
    {
      env: 'GITHUB_RUNNER_LABELS',
      description: 'Labels (comma-separated) of the runners the registration broker registers.',
    },
    csv.refine((v) => v.length >= 1 && v.length <= 100, 'must name 1 to 100 labels'),
    'self-hosted,linux,x64',
  ),
  AGENT_VERSION: withDefault(
    {
      env: 'AGENT_VERSION',
      description: 'Azure DevOps agent version baked into the Windows image.',
      example: '4.261.0',
    },
    z
      .string()
      .trim()
      .regex(/^(\d+\.\d+\.\d+)?$/, 'must be x.y.z'),
    '',
  ),
  APPLICATIONINSIGHTS_CONNECTION_STRING: withDefault(
    {
      env: 'APPLICATIONINSIGHTS_CONNECTION_STRING',
      description:
        "Application Insights connection string (the Functions host's own setting; the Bicep sets it). kiln's metrics go there through the Azure Monitor exporter. Empty: no Azure Monitor export.",
      example: 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://…',
      secret: true,
    },
    z.union([
      z.literal(''),
      z
        .string()
        .trim()
        .regex(/(^|;)\s*InstrumentationKey=/i, 'must be a connection string with InstrumentationKey='),
    ]),
    '',
  ),
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: withDefault(
    {
      env: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      description:
        "How telemetry is sent to Application Insights (the Functions host's own setting; the Bicep sets it, since local auth is off). Authorization=AAD: kiln's metrics are sent with kiln's managed identity (AZURE_CLIENT_ID), which needs Monitoring Metrics Publisher on the component.",
      example: 'ClientId=11111111-1111-1111-1111-111111111111;Authorization=AAD',
    },
    z.union([
      z.literal(''),
      z
        .string()
        .trim()
        .regex(/(^|;)\s*Authorization=AAD\s*(;|$)/i, 'must say Authorization=AAD'),
    ]),
    '',
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: withDefault(
    {
      env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      description:
        "OTLP/HTTP endpoint kiln's metrics are also exported to (JSON, to this URL + /v1/metrics). The exporter reads the other standard OTEL_EXPORTER_OTLP_* variables (headers, timeout) itself. Empty: no OTLP export.",
      example: 'http://127.0.0.1:4318',
    },
    z.union([z.literal(''), z.string().trim().url('must be an absolute URL')]),
    '',
  ),
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: withDefault(
    {
      env: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
      description:
        'Full OTLP/HTTP URL for metrics, used as is instead of OTEL_EXPORTER_OTLP_ENDPOINT + /v1/metrics.',
      example: 'http://127.0.0.1:4318/v1/metrics',
    },
    z.union([z.literal(''), z.string().trim().url('must be an absolute URL')]),
    '',
  ),
  OTEL_METRIC_EXPORT_INTERVAL: withDefault(
    {
      env: 'OTEL_METRIC_EXPORT_INTERVAL',
      description:
        'Milliseconds between two exports of the metrics (both exporters); what is recorded since the last one is also exported when the app stops.',
    },
    wholeNumber(1_000, 3_600_000),
    60_000,
  ),
} as const satisfies Record<string, { spec: SettingSpec; schema: z.ZodTypeAny }>;

export type SettingName = keyof typeof SETTINGS;
export type RawSettings = { [K in SettingName]: z.output<(typeof SETTINGS)[K]['schema']> };
