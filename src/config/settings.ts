/**
 * Every setting kiln reads, in one place: environment variable, default, meaning, example, and how it
 * is validated. The loader (load-settings.ts) reads only these; the README table is generated from
 * this list by `npm run docs:settings` and a test keeps the two equal.
 */
import { z } from 'zod';

export interface SettingSpec {
  env: string;
  description: string;
  example: string;
  default?: string;
  secret?: boolean;
}

const minutes = (label: string) => z.coerce.number().int().min(1, `${label} must be a whole number ≥ 1`);

/** NCRONTAB with six fields (second minute hour day month weekday), as Azure Functions timers take. */
export const cronSchema = z
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
  AZURE_CLIENT_ID: {
    spec: {
      env: 'AZURE_CLIENT_ID',
      description: 'Client id of the user-assigned identity kiln runs as (read by DefaultAzureCredential).',
      example: '11111111-1111-1111-1111-111111111111',
      default: '',
    },
    schema: z.string().trim().optional(),
  },
  ARM_ENDPOINT: {
    spec: {
      env: 'ARM_ENDPOINT',
      description:
        'Azure Resource Manager endpoint (sovereign clouds: e.g. https://management.chinacloudapi.cn).',
      example: 'https://management.azure.com',
      default: 'https://management.azure.com',
    },
    schema: httpsUrl.default('https://management.azure.com'),
  },
  ARM_AUDIENCE: {
    spec: {
      env: 'ARM_AUDIENCE',
      description: 'Token audience for ARM. Defaults to ARM_ENDPOINT + "/.default".',
      example: 'https://management.azure.com/.default',
      default: '(ARM_ENDPOINT)/.default',
    },
    schema: z.string().trim().optional(),
  },
  KILN_TASK_HUB: {
    spec: {
      env: 'KILN_TASK_HUB',
      description: 'Durable Functions task hub name (host.json reads it).',
      example: 'kiln',
      default: 'kiln',
    },
    schema: z
      .string()
      .trim()
      .regex(/^[A-Za-z][A-Za-z0-9]{2,44}$/, 'must be 3-45 letters/digits starting with a letter')
      .default('kiln'),
  },
  DRY_RUN: {
    spec: {
      env: 'DRY_RUN',
      description:
        'Plan-only mode: timers, Event Grid and HTTP requests start dry runs that report what they would do and change nothing.',
      example: 'false',
      default: 'false',
    },
    schema: z
      .enum(['true', 'false', 'TRUE', 'FALSE', 'True', 'False', '1', '0'], {
        errorMap: () => ({ message: 'must be true or false' }),
      })
      .transform((v) => v.toLowerCase() === 'true' || v === '1')
      .default('false'),
  },
  MANAGED_TAG: {
    spec: {
      env: 'MANAGED_TAG',
      description: 'Tag that marks a scale set as managed by kiln (S2).',
      example: 'kiln-managed=true',
      default: 'kiln-managed=true',
    },
    schema: tag.default('kiln-managed=true'),
  },
  CANARY_TAG: {
    spec: {
      env: 'CANARY_TAG',
      description: 'Tag that marks the canary scale set of an image.',
      example: 'kiln-canary=true',
      default: 'kiln-canary=true',
    },
    schema: tag.default('kiln-canary=true'),
  },
  SCALE_SET_IDS: {
    spec: {
      env: 'SCALE_SET_IDS',
      description:
        'Optional explicit list of managed scale set resource ids (comma-separated), used instead of the tag.',
      example: '/subscriptions/…/virtualMachineScaleSets/vmss-gh-linux',
      default: '',
    },
    schema: csv.default(''),
  },
  KEYVAULT_URL: {
    spec: {
      env: 'KEYVAULT_URL',
      description: 'Key Vault holding the GitHub and Azure DevOps credentials.',
      example: 'https://kv-kiln-prod.vault.azure.net',
    },
    schema: httpsUrl,
  },
  CLIENT_RETRY_BASE_MS: {
    spec: {
      env: 'CLIENT_RETRY_BASE_MS',
      description:
        "First backoff before a client retries a failed GitHub, Azure DevOps or ARM request; later backoffs grow from it, all within the client's fixed deadline per request. 0 retries at once.",
      example: '1000',
      default: '1000',
    },
    schema: z.coerce
      .number()
      .int('must be a whole number')
      .min(0, 'must be a whole number ≥ 0')
      .max(60_000, 'must be at most 60000')
      .default(1000),
  },
  GITHUB_API_URL: {
    spec: {
      env: 'GITHUB_API_URL',
      description: 'GitHub REST API base URL (GitHub Enterprise Server: https://HOST/api/v3).',
      example: 'https://api.github.com',
      default: 'https://api.github.com',
    },
    schema: httpsUrl.default('https://api.github.com'),
  },
  GITHUB_SCOPE: {
    spec: {
      env: 'GITHUB_SCOPE',
      description: 'Where runners are registered: org or repo.',
      example: 'org',
      default: 'org',
    },
    schema: z.enum(['org', 'repo']).default('org'),
  },
  GITHUB_OWNER: {
    spec: {
      env: 'GITHUB_OWNER',
      description: 'Organisation (or repository owner) of the runners. Empty: kiln manages no GitHub fleet.',
      example: 'acme',
      default: '',
    },
    schema: z.string().trim().default(''),
  },
  GITHUB_REPO: {
    spec: {
      env: 'GITHUB_REPO',
      description: 'Repository of the runners when GITHUB_SCOPE=repo.',
      example: 'build',
      default: '',
    },
    schema: z.string().trim().default(''),
  },
  GITHUB_AUTH: {
    spec: {
      env: 'GITHUB_AUTH',
      description: 'How kiln authenticates to GitHub: app (GitHub App, preferred) or pat.',
      example: 'app',
      default: 'app',
    },
    schema: z.enum(['app', 'pat']).default('app'),
  },
  GITHUB_WRITE_INTERVAL_MS: {
    spec: {
      env: 'GITHUB_WRITE_INTERVAL_MS',
      description:
        "Minimum time between GitHub writes (GitHub's advice against secondary rate limits). 0 disables the spacing.",
      example: '1000',
      default: '1000',
    },
    schema: z.coerce
      .number()
      .int()
      .min(0, 'must be a whole number ≥ 0')
      .max(60_000, 'must be at most 60000')
      .default(1000),
  },
  GITHUB_APP_ID: {
    spec: {
      env: 'GITHUB_APP_ID',
      description: 'GitHub App id (GITHUB_AUTH=app).',
      example: '123456',
      default: '',
    },
    schema: z.string().trim().regex(/^\d*$/, 'must be the numeric App id').default(''),
  },
  GITHUB_APP_INSTALLATION_ID: {
    spec: {
      env: 'GITHUB_APP_INSTALLATION_ID',
      description: 'Installation id of the App; looked up from the owner when empty.',
      example: '7654321',
      default: '',
    },
    schema: z.string().trim().regex(/^\d*$/, 'must be numeric').default(''),
  },
  GITHUB_APP_KEY_SECRET: {
    spec: {
      env: 'GITHUB_APP_KEY_SECRET',
      description: 'Key Vault secret holding the GitHub App private key (PEM).',
      example: 'github-app-key',
      default: 'github-app-key',
    },
    schema: z.string().trim().min(1).default('github-app-key'),
  },
  GITHUB_PAT_SECRET: {
    spec: {
      env: 'GITHUB_PAT_SECRET',
      description: 'Key Vault secret holding a GitHub PAT (GITHUB_AUTH=pat).',
      example: 'gh-pat',
      default: 'gh-pat',
    },
    schema: z.string().trim().min(1).default('gh-pat'),
  },
  ADO_ORG_URL: {
    spec: {
      env: 'ADO_ORG_URL',
      description: 'Azure DevOps organisation URL. Empty disables the Azure DevOps fleet.',
      example: 'https://dev.azure.com/acme',
      default: '',
    },
    schema: z.union([z.literal(''), httpsUrl]).default(''),
  },
  ADO_POOL: {
    spec: {
      env: 'ADO_POOL',
      description: 'Agent pool of the Windows agents.',
      example: 'Default',
      default: 'Default',
    },
    schema: z.string().trim().min(1).default('Default'),
  },
  ADO_AUTH: {
    spec: {
      env: 'ADO_AUTH',
      description:
        'How kiln authenticates to Azure DevOps: pat (from Key Vault) or entra (managed identity token).',
      example: 'pat',
      default: 'pat',
    },
    schema: z.enum(['pat', 'entra']).default('pat'),
  },
  ADO_PAT_SECRET: {
    spec: {
      env: 'ADO_PAT_SECRET',
      description: 'Key Vault secret holding the Azure DevOps PAT (Agent Pools read & manage).',
      example: 'ado-pat',
      default: 'ado-pat',
    },
    schema: z.string().trim().min(1).default('ado-pat'),
  },
  CLEANUP_SCHEDULE: {
    spec: {
      env: 'CLEANUP_SCHEDULE',
      description: 'When fleet hygiene runs (NCRONTAB, UTC).',
      example: '0 */15 * * * *',
      default: '0 */15 * * * *',
    },
    schema: cronSchema.default('0 */15 * * * *'),
  },
  REBUILD_SCHEDULE: {
    spec: {
      env: 'REBUILD_SCHEDULE',
      description: 'When the monthly image rebuild runs (NCRONTAB, UTC).',
      example: '0 0 3 1 * *',
      default: '0 0 3 1 * *',
    },
    schema: cronSchema.default('0 0 3 1 * *'),
  },
  RUNNER_RELEASE_SCHEDULE: {
    spec: {
      env: 'RUNNER_RELEASE_SCHEDULE',
      description: 'When the GitHub runner release watch runs (NCRONTAB, UTC).',
      example: '0 0 6 * * *',
      default: '0 0 6 * * *',
    },
    schema: cronSchema.default('0 0 6 * * *'),
  },
  OFFLINE_GRACE_MINUTES: {
    spec: {
      env: 'OFFLINE_GRACE_MINUTES',
      description: 'An offline registration whose VM still exists is removed after this long.',
      example: '30',
      default: '30',
    },
    schema: minutes('OFFLINE_GRACE_MINUTES').default(30),
  },
  BOOT_DEADLINE_MINUTES: {
    spec: {
      env: 'BOOT_DEADLINE_MINUTES',
      description:
        'An instance whose runner/agent has not registered this long after provisioning is reimaged.',
      example: '20',
      default: '20',
    },
    schema: minutes('BOOT_DEADLINE_MINUTES').default(20),
  },
  GALLERY_RESOURCE_GROUP: {
    spec: {
      env: 'GALLERY_RESOURCE_GROUP',
      description: 'Resource group of the Compute Gallery.',
      example: 'rg-kiln-images',
      default: '',
    },
    schema: z.string().trim().default(''),
  },
  GALLERY_NAME: {
    spec: {
      env: 'GALLERY_NAME',
      description: 'Compute Gallery that holds the runner images.',
      example: 'galKiln',
      default: '',
    },
    schema: z.string().trim().default(''),
  },
  LINUX_IMAGE_DEFINITION: {
    spec: {
      env: 'LINUX_IMAGE_DEFINITION',
      description: 'Gallery image definition of the Linux GitHub runner image.',
      example: 'linux-agent',
      default: 'linux-agent',
    },
    schema: z.string().trim().min(1).default('linux-agent'),
  },
  WINDOWS_IMAGE_DEFINITION: {
    spec: {
      env: 'WINDOWS_IMAGE_DEFINITION',
      description: 'Gallery image definition of the Windows Azure DevOps agent image.',
      example: 'windows-agent',
      default: 'windows-agent',
    },
    schema: z.string().trim().min(1).default('windows-agent'),
  },
  TARGET_REGIONS: {
    spec: {
      env: 'TARGET_REGIONS',
      description: 'Replication regions with replica counts; the first is the build region.',
      example: 'westeurope=1,northeurope=1',
      default: '',
    },
    schema: regionList.default(''),
  },
  PACKER_JOB_ID: {
    spec: {
      env: 'PACKER_JOB_ID',
      description: 'Resource id of the Container Apps job that runs Packer.',
      example: '/subscriptions/…/providers/Microsoft.App/jobs/job-kiln-packer',
      default: '',
    },
    schema: z.string().trim().default(''),
  },
  PACKER_JOB_CLIENT_ID: {
    spec: {
      env: 'PACKER_JOB_CLIENT_ID',
      description:
        "Client id of the Packer job's own identity, sent as AZURE_CLIENT_ID with every execution (a start request replaces the job's template).",
      example: '22222222-2222-2222-2222-222222222222',
      default: '',
    },
    schema: z.string().trim().default(''),
  },
  PACKER_JOB_IMAGE: {
    spec: {
      env: 'PACKER_JOB_IMAGE',
      description: 'Container image of the Packer job.',
      example: 'crkiln.azurecr.io/kiln-packer:1',
      default: '',
    },
    schema: z.string().trim().default(''),
  },
  PACKER_IMAGE_RG: {
    spec: {
      env: 'PACKER_IMAGE_RG',
      description: 'Resource group for the intermediate managed images.',
      example: 'rg-images',
      default: '',
    },
    schema: z.string().trim().default(''),
  },
  PACKER_TEMP_RG: {
    spec: {
      env: 'PACKER_TEMP_RG',
      description: 'Temporary resource group Packer builds in.',
      example: 'rg-packer-temp',
      default: '',
    },
    schema: z.string().trim().default(''),
  },
  PACKER_VM_SIZE: {
    spec: {
      env: 'PACKER_VM_SIZE',
      description: 'Build VM size.',
      example: 'Standard_D4s_v5',
      default: 'Standard_D4s_v5',
    },
    schema: z.string().trim().default('Standard_D4s_v5'),
  },
  TAG_ORG: {
    spec: {
      env: 'TAG_ORG',
      description: 'Organisation tag put on built images.',
      example: 'acme',
      default: '',
    },
    schema: z.string().trim().default(''),
  },
  TAG_ENV: {
    spec: {
      env: 'TAG_ENV',
      description: 'Environment tag put on built images.',
      example: 'prod',
      default: '',
    },
    schema: z.string().trim().default(''),
  },
  BUILD_TIMEOUT_HOURS: {
    spec: {
      env: 'BUILD_TIMEOUT_HOURS',
      description: 'A Packer build running longer is stopped and the image fails.',
      example: '8',
      default: '8',
    },
    schema: minutes('BUILD_TIMEOUT_HOURS').default(8),
  },
  CANARY_SOAK_MINUTES: {
    spec: {
      env: 'CANARY_SOAK_MINUTES',
      description: 'How long canary runners must stay healthy.',
      example: '30',
      default: '30',
    },
    schema: minutes('CANARY_SOAK_MINUTES').default(30),
  },
  PRUNE_KEEP: {
    spec: {
      env: 'PRUNE_KEEP',
      description: 'Newest gallery versions always kept per image (S3).',
      example: '3',
      default: '3',
    },
    schema: minutes('PRUNE_KEEP').default(3),
  },
  RUNNER_MAX_AGE_DAYS: {
    spec: {
      env: 'RUNNER_MAX_AGE_DAYS',
      description:
        'Rebuild the Linux image when its baked runner is older than this (GitHub refuses runners 30 days behind).',
      example: '21',
      default: '21',
    },
    schema: minutes('RUNNER_MAX_AGE_DAYS').default(21),
  },
  IMAGE_EOL_DAYS: {
    spec: {
      env: 'IMAGE_EOL_DAYS',
      description: 'End-of-life date set on new gallery versions, in days after publishing.',
      example: '180',
      default: '180',
    },
    schema: minutes('IMAGE_EOL_DAYS').default(180),
  },
  AGENT_VERSION: {
    spec: {
      env: 'AGENT_VERSION',
      description: 'Azure DevOps agent version baked into the Windows image.',
      example: '4.261.0',
      default: '',
    },
    schema: z
      .string()
      .trim()
      .regex(/^(\d+\.\d+\.\d+)?$/, 'must be x.y.z')
      .default(''),
  },
} as const satisfies Record<string, { spec: SettingSpec; schema: z.ZodTypeAny }>;

export type SettingName = keyof typeof SETTINGS;
export type RawSettings = { [K in SettingName]: z.output<(typeof SETTINGS)[K]['schema']> };
