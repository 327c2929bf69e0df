/**
 * The checks of `kiln doctor`, in the order an operator fixes things: settings, identity, Key Vault,
 * GitHub and Azure DevOps credentials, the gallery, the scale sets, the Packer job, the Azure roles
 * kiln's flows need (doctor-roles.ts), and finally whether each scale set's runners or agents are
 * online. Every check only reads. A failing check
 * carries the fix, and where a row of the image README's troubleshooting table (packer/README.md,
 * "Troubleshooting") applies, its symptom is named so the two can be read side by side.
 *
 * Secrets: values read from Key Vault are dropped at once; nothing here prints a value, and client
 * errors are already scrubbed of anything token-like (clients/client-error.ts).
 */
import { createTokenVerifier } from '../registration/token-verifier.js';
import type { ActivityDeps } from '../activities/deps.js';
import { createRegistrationReader } from '../activities/registrations.js';
import { ContainerAppsAPIClient } from '@azure/arm-appcontainers';
import { ComputeManagementClient } from '@azure/arm-compute';
import { SecretClient } from '@azure/keyvault-secrets';
import {
  createListManagedScaleSetsActivity,
  REGISTRATION_TAG,
  registrationOf,
  type ManagedScaleSet,
} from '../activities/inventory.js';
import { createAdoClient } from '../clients/ado/index.js';
import { createArmClient } from '../clients/arm/index.js';
import { parseResourceId } from '../clients/arm/resource-id.js';
import { describeFailure, scrub } from '../clients/client-error.js';
import { createCredential } from '../clients/credential.js';
import { createGitHubClient } from '../clients/github/index.js';
import { createSecretReader } from '../clients/keyvault.js';
import type { AdoAgent, GitHubRunner } from '../clients/types.js';
import { loadSettings, SettingsError, type Env, type Settings } from '../config/load-settings.js';
import { checkRoles } from './doctor-roles.js';
import { NO_METRICS } from '../telemetry/metrics.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
  /** The symptom of the troubleshooting row this check covers, when one applies. */
  troubleshooting?: string;
}

/** The rows of the troubleshooting table (packer/README.md §6), by symptom. */
const TROUBLESHOOTING = {
  runnerOffline: 'GitHub runner never shows online',
  agentUnconfigured: 'ADO agent stuck unconfigured',
  patRetrieval: 'PAT retrieval fails',
  buildFailsEarly: 'Image build fails early',
  brokerRefused: "the registration broker refused instance '…'",
} as const;

const row = (symptom: string) => `troubleshooting: "${symptom}"`;

/** The ways a check ends, each adding its result to `results`. */
function recorder(results: CheckResult[]) {
  return {
    pass: (check: string, detail: string) => results.push({ check, status: 'pass', detail }),
    skip: (check: string, detail: string) => results.push({ check, status: 'skip', detail }),
    fail: (check: string, detail: string, fix: string, troubleshooting?: string) =>
      results.push({
        check,
        status: 'fail',
        detail,
        fix: troubleshooting ? `${fix} (${row(troubleshooting)})` : fix,
        ...(troubleshooting ? { troubleshooting } : {}),
      }),
  };
}

/**
 * What the image pipeline needs beyond the settings the loader requires: kiln runs without them,
 * but cannot rebuild an image, so doctor fails its check while one is empty.
 */
export const IMAGE_PIPELINE_SETTINGS = {
  GALLERY_RESOURCE_GROUP: (s: Settings) => s.gallery.resourceGroup,
  GALLERY_NAME: (s: Settings) => s.gallery.name,
  TARGET_REGIONS: (s: Settings) => s.gallery.targetRegions.map((r) => r.name).join(','),
  PACKER_JOB_ID: (s: Settings) => s.packer.jobId,
  PACKER_IMAGE_RG: (s: Settings) => s.packer.imageResourceGroup,
  PACKER_TEMP_RG: (s: Settings) => s.packer.tempResourceGroup,
  PACKER_VM_SIZE: (s: Settings) => s.packer.vmSize,
};

/**
 * Doctor's first checks, on the settings alone: every setting present and valid, and what the
 * image pipeline needs. Returns the settings when they load (the other checks need them).
 */
export function checkSettings(env: Env): { results: CheckResult[]; settings?: Settings } {
  const results: CheckResult[] = [];
  const { pass, skip, fail } = recorder(results);

  // 1. Settings: every problem, each on its own line.
  let settings: Settings;
  try {
    settings = loadSettings(env);
    pass(
      'settings',
      `every setting is present and valid${settings.dryRun ? ' (DRY_RUN=true: every run only plans)' : ''}`,
    );
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    for (const p of error.problems)
      fail(
        `setting ${p.setting}`,
        p.problem,
        `set the app setting ${p.setting} (e.g. ${p.setting}=${p.example}); "kiln doctor" reads the same settings as the app`,
      );
    skip('everything else', 'needs valid settings first');
    return { results };
  }

  // 2. What the image pipeline needs beyond the required settings.
  const missing = Object.entries(IMAGE_PIPELINE_SETTINGS)
    .filter(([, value]) => !value(settings))
    .map(([name]) => name);
  if (missing.length === 0)
    pass('image pipeline settings', 'gallery, target regions and Packer job settings are set');
  else
    fail(
      'image pipeline settings',
      `not set: ${missing.join(', ')}`,
      `set ${missing.join(', ')}; kiln passes PACKER_IMAGE_RG, PACKER_TEMP_RG and PACKER_VM_SIZE to every Packer build as PACKER_* variables`,
      TROUBLESHOOTING.buildFailsEarly,
    );
  return { results, settings };
}

export async function runChecks(env: Env, now: Date = new Date()): Promise<CheckResult[]> {
  const { results, settings } = checkSettings(env);
  if (!settings) return results;
  const { pass, skip, fail } = recorder(results);

  // 3. The identity kiln runs as.
  const credential = createCredential(settings);
  try {
    const token = await credential.getToken(settings.arm.audience);
    if (!token) throw new Error('no token');
    pass(
      'azure credential',
      `a token for ${settings.arm.audience} was issued${settings.clientId ? ` to client ${settings.clientId}` : ''}`,
    );
  } catch (error) {
    fail(
      'azure credential',
      oneLine(error),
      "sign in (az login) or run where kiln's managed identity is available; set AZURE_CLIENT_ID to the client id of kiln's user-assigned identity",
    );
    skip('everything else', 'needs an Azure credential first');
    return results;
  }

  // 4. Key Vault secrets kiln reads (values are never shown).
  const vault = new SecretClient(settings.keyVaultUrl, credential, { retryOptions: { maxRetries: 1 } });
  const wanted: { name: string; setting: string; purpose: string }[] = [];
  if (settings.github)
    wanted.push(
      settings.github.auth === 'app'
        ? {
            name: settings.github.appKeySecret,
            setting: 'GITHUB_APP_KEY_SECRET',
            purpose: 'GitHub App private key',
          }
        : { name: settings.github.patSecret, setting: 'GITHUB_PAT_SECRET', purpose: 'GitHub PAT' },
    );
  if (settings.ado?.auth === 'pat')
    wanted.push({ name: settings.ado.patSecret, setting: 'ADO_PAT_SECRET', purpose: 'Azure DevOps PAT' });
  if (wanted.length === 0) skip('key vault', 'no secret to read (no GitHub fleet, Azure DevOps by Entra)');
  for (const secret of wanted) {
    const check = `key vault secret ${secret.name}`;
    try {
      const value = await vault.getSecret(secret.name, { abortSignal: AbortSignal.timeout(30_000) });
      if (!value.value)
        fail(check, 'the secret has no value', `store the ${secret.purpose} in ${secret.name}`);
      else pass(check, `${secret.purpose} is readable (value not shown)`);
    } catch (error) {
      const { status } = describeFailure(error);
      if (status === 401 || status === 403)
        fail(
          check,
          `Key Vault refused kiln's identity (HTTP ${status})`,
          `assign the "Key Vault Secrets User" role on ${hostOf(settings.keyVaultUrl)} to kiln's identity${settings.clientId ? ` (${settings.clientId})` : ''}; a scale set's identity needs it only on its PAT, when its VMs read one (${REGISTRATION_TAG}=pat)`,
          TROUBLESHOOTING.patRetrieval,
        );
      else if (status === 404)
        fail(
          check,
          `no secret named ${secret.name} in ${hostOf(settings.keyVaultUrl)}`,
          `create it with the ${secret.purpose}, or set ${secret.setting} to the secret's name (check its spelling)`,
          TROUBLESHOOTING.runnerOffline,
        );
      else
        fail(
          check,
          oneLine(error),
          `make ${hostOf(settings.keyVaultUrl)} reachable from here (KEYVAULT_URL) and try again`,
        );
    }
  }

  const secrets = createSecretReader(settings.keyVaultUrl, credential);
  const github = settings.github
    ? createGitHubClient(settings.github, secrets, { writeSpacingMs: 0 })
    : undefined;
  const ado = settings.ado ? createAdoClient(settings.ado, secrets, credential) : undefined;
  const clock = () => now;
  const deps: ActivityDeps = {
    settings,
    arm: createArmClient(settings, credential),
    github,
    ado,
    registrations: createRegistrationReader({ github, ado, now: clock }),
    now: clock,
    // A check reports on the terminal, not to the deployment's metrics.
    metrics: NO_METRICS,
  };

  // 5. GitHub: listing the runners proves the credential and its scope.
  let runners: GitHubRunner[] | undefined;
  const unreadable = (name: string) =>
    results.some((r) => r.check === `key vault secret ${name}` && r.status === 'fail');
  const githubSecret =
    settings.github?.auth === 'app' ? settings.github.appKeySecret : settings.github?.patSecret;
  if (!deps.github) skip('github', 'no GitHub fleet configured (GITHUB_OWNER is empty)');
  else if (githubSecret && unreadable(githubSecret))
    skip('github', `needs the Key Vault secret ${githubSecret} (see its ✗ above)`);
  else {
    const where =
      settings.github!.scope === 'org'
        ? `org ${settings.github!.owner}`
        : `repo ${settings.github!.owner}/${settings.github!.repo}`;
    try {
      runners = await deps.github.listRunners();
      pass('github', `listed ${runners.length} self-hosted runner(s) of ${where} (HTTP 200)`);
    } catch (error) {
      fail(
        'github',
        oneLine(error),
        settings.github!.auth === 'app'
          ? `install the GitHub App (GITHUB_APP_ID ${settings.github!.appId}) on ${where} with the permission "Self-hosted runners: read and write" (org) or "Administration: read and write" (repo), and store its private key in ${settings.github!.appKeySecret}`
          : `give the PAT in ${settings.github!.patSecret} the scope admin:org (org runners) or repo (repo runners)`,
        TROUBLESHOOTING.runnerOffline,
      );
    }
  }

  // 5b. The registration broker: a token for its audience, got with kiln's own identity, verifies
  // against the tenant's published keys as a runner VM's would (app registration, tenant, authority).
  const registration = settings.registration;
  if (!registration) skip('registration broker', 'off (KILN_REGISTRATION_AUDIENCE is empty)');
  else {
    const audience = registration.audiences[0]!;
    try {
      const token = await credential.getToken(`${audience.replace(/\/+$/, '')}/.default`);
      if (!token) throw new Error(`no token for ${audience}`);
      const verified = await createTokenVerifier(registration).verify(token.token);
      if (verified.ok)
        pass(
          'registration broker',
          `a token for ${audience} verifies against ${registration.authorityHost} (tenant ${registration.tenantId})`,
        );
      else
        fail(
          'registration broker',
          `a token for ${audience} does not verify: ${verified.reason}`,
          `check AZURE_TENANT_ID (the tenant kiln runs in), AZURE_AUTHORITY_HOST (sovereign clouds) and that KILN_REGISTRATION_AUDIENCE lists the audience the tokens carry (the App ID URI or the client id)`,
        );
    } catch (error) {
      fail(
        'registration broker',
        oneLine(error),
        `create kiln's app registration with the Application ID URI ${audience} (and its service principal) in tenant ${registration.tenantId}, or set KILN_REGISTRATION_AUDIENCE to the one that exists`,
      );
    }
  }

  // 6. Azure DevOps: the pool lookup (and its agents) proves the credential and the pool.
  let agents: AdoAgent[] | undefined;
  if (!deps.ado) skip('azure devops', 'no Azure DevOps fleet configured (ADO_ORG_URL is empty)');
  else if (settings.ado?.auth === 'pat' && unreadable(settings.ado.patSecret))
    skip('azure devops', `needs the Key Vault secret ${settings.ado.patSecret} (see its ✗ above)`);
  else {
    try {
      agents = await deps.ado.listAgents();
      pass('azure devops', `pool ${settings.ado!.pool} found with ${agents.length} agent(s)`);
    } catch (error) {
      fail(
        'azure devops',
        oneLine(error),
        settings.ado!.auth === 'pat'
          ? `give the PAT in ${settings.ado!.patSecret} the scope "Agent Pools (Read & manage)" and check that ADO_POOL names an existing pool of ${settings.ado!.orgUrl}`
          : `add kiln's identity to ${settings.ado!.orgUrl} with the Administrator role on pool ${settings.ado!.pool}`,
        TROUBLESHOOTING.agentUnconfigured,
      );
    }
  }

  // 7. Gallery image definitions.
  const endpoint = settings.arm.endpoint;
  const compute = new ComputeManagementClient(credential, settings.subscriptionId, {
    endpoint,
    credentials: { scopes: [settings.arm.audience] },
    retryOptions: { maxRetries: 1 },
  });
  if (!settings.gallery.name || !settings.gallery.resourceGroup)
    skip('gallery definitions', 'GALLERY_NAME and GALLERY_RESOURCE_GROUP are not set');
  else {
    for (const [kind, os] of [
      ['linux', 'Linux'],
      ['windows', 'Windows'],
    ] as const) {
      const definition = settings.gallery.definitions[kind];
      const check = `gallery definition ${definition}`;
      try {
        const image = await compute.galleryImages.get(
          settings.gallery.resourceGroup,
          settings.gallery.name,
          definition,
          {
            abortSignal: AbortSignal.timeout(60_000),
          },
        );
        if (image.osType !== os)
          fail(
            check,
            `its OS type is ${image.osType}, not ${os}`,
            `point ${kind.toUpperCase()}_IMAGE_DEFINITION at the ${os} definition`,
          );
        else pass(check, `${os} definition in gallery ${settings.gallery.name}`);
      } catch (error) {
        const { status } = describeFailure(error);
        fail(
          check,
          status === 404
            ? `not found in gallery ${settings.gallery.name} (${settings.gallery.resourceGroup})`
            : oneLine(error),
          status === 404
            ? `create the image definition (azd up creates both), or set ${kind.toUpperCase()}_IMAGE_DEFINITION to its name`
            : `give kiln's identity read access to the gallery ${settings.gallery.name}`,
        );
      }
    }
  }

  // 8. Managed scale sets: in scope, Uniform, Manual.
  let managed: ManagedScaleSet[] = [];
  const listed = await createListManagedScaleSetsActivity(deps)();
  const scope =
    settings.scaleSetIds.length > 0
      ? 'SCALE_SET_IDS'
      : `the tag ${settings.managedTag.name}=${settings.managedTag.value}`;
  if (!listed.ok)
    fail(
      'scale sets',
      listed.error.message,
      "give kiln's identity the Reader role (at least) on the runners' resource groups",
    );
  else if (listed.value.length === 0)
    fail(
      'scale sets',
      `no scale set found by ${scope}`,
      `tag each runner scale set ${settings.managedTag.name}=${settings.managedTag.value} (MANAGED_TAG), or list them in SCALE_SET_IDS`,
    );
  else {
    managed = listed.value;
    for (const s of managed) {
      const problems: string[] = [];
      if (s.orchestrationMode !== 'Uniform') problems.push(`orchestration mode is ${s.orchestrationMode}`);
      if (s.upgradeMode !== 'Manual') problems.push(`upgrade policy is ${s.upgradeMode ?? 'not set'}`);
      const canary = s.tags[settings.canaryTag.name] === settings.canaryTag.value ? ', canary' : '';
      if (problems.length === 0)
        pass(
          `scale set ${s.name}`,
          `in scope by ${scope}, Uniform, upgrade policy Manual, ${s.image} image${canary}`,
        );
      else
        fail(
          `scale set ${s.name}`,
          problems.join('; '),
          'kiln rolls only Uniform scale sets whose upgradePolicy.mode is Manual (so kiln, not Azure, paces upgrades around busy jobs): set upgradePolicy.mode=Manual; a Flexible scale set must be recreated as Uniform',
        );
    }
  }

  // 9. The Packer job.
  if (!settings.packer.jobId) skip('packer job', 'PACKER_JOB_ID is not set');
  else {
    try {
      const { resourceGroup, name } = parseResourceId(settings.packer.jobId, 'jobs');
      const apps = new ContainerAppsAPIClient(credential, settings.subscriptionId, {
        endpoint,
        $host: endpoint,
        credentialScopes: [settings.arm.audience],
        retryOptions: { maxRetries: 1 },
      });
      const job = await apps.jobs.get(resourceGroup, name, { abortSignal: AbortSignal.timeout(60_000) });
      const image = job.template?.containers?.[0]?.image;
      pass('packer job', `${name} exists${image ? ` (image ${image})` : ''}`);
    } catch (error) {
      const { status } = describeFailure(error);
      fail(
        'packer job',
        status === 404 ? `no Container Apps job at PACKER_JOB_ID` : oneLine(error),
        status === 404
          ? 'deploy the Packer job (azd up) and set PACKER_JOB_ID to its resource id'
          : "set PACKER_JOB_ID to the job's full resource id and give kiln's identity access to it",
        TROUBLESHOOTING.buildFailsEarly,
      );
    }
  }

  // 10. Azure roles: what kiln's flows need, and each scale set identity's registration secret.
  results.push(
    ...(await checkRoles({
      settings,
      credential,
      scaleSets: managed,
      secretNames: wanted.map((w) => w.name),
    })),
  );

  // 11. Runners and agents online, per scale set.
  for (const s of managed) {
    const github = s.fleet === 'github';
    const what = github ? 'runner' : 'agent';
    const check = `${what}s online ${s.name}`;
    const registrations = github ? runners : agents;
    if (!registrations) {
      skip(check, `the ${github ? 'GitHub' : 'Azure DevOps'} check above did not pass`);
      continue;
    }
    let instances;
    try {
      instances = await deps.arm.listInstances(s.id);
    } catch (error) {
      fail(check, oneLine(error), `give kiln's identity the Reader role on ${s.resourceGroup}`);
      continue;
    }
    const online = new Set(
      registrations.filter((r) => r.status === 'online').map((r) => r.name.toLowerCase()),
    );
    const deadline = settings.hygiene.bootDeadlineMinutes * 60_000;
    // An instance without an online registration is a problem once it runs and had its boot deadline
    // (BOOT_DEADLINE_MINUTES) to register; before that it is still booting.
    const settled = (i: (typeof instances)[number]) =>
      i.provisioningState.toLowerCase() === 'succeeded' &&
      (i.powerState === undefined || i.powerState === 'running') &&
      !(i.provisionedAt && now.getTime() - Date.parse(i.provisionedAt) < deadline);
    const registered = instances.filter((i) => online.has(i.computerName.toLowerCase()));
    const unregistered = instances.filter((i) => !online.has(i.computerName.toLowerCase()));
    const offline = unregistered.filter(settled);
    const booting = unregistered.length - offline.length;
    if (offline.length === 0)
      pass(
        check,
        `${registered.length} of ${instances.length} instance(s) have an online ${what}${booting > 0 ? ` (${booting} still booting or stopped)` : ''}`,
      );
    else {
      const { fix, troubleshooting } = unregisteredHint(s);
      fail(
        check,
        `${offline.length} of ${instances.length} instance(s) run without an online ${what} past the boot deadline: ${offline.map((i) => i.computerName).join(', ')}`,
        fix,
        troubleshooting,
      );
    }
  }
  return results;
}

/** Where to look when a scale set's instances never registered: it depends on how its VMs register. */
function unregisteredHint(s: ManagedScaleSet): { fix: string; troubleshooting?: string } {
  const registration = registrationOf(s);
  if (registration.via === 'unknown')
    return {
      fix: `give ${s.name} a ${REGISTRATION_TAG} tag kiln knows first (see "registration secret ${s.name}")`,
    };
  if (registration.via === 'broker')
    return {
      fix:
        "check the KILN_REGISTRATION_URL and KILN_REGISTRATION_AUDIENCE variables injected into the scale set (this app's /api/registrations, and an audience the app's KILN_REGISTRATION_AUDIENCE lists) " +
        `and the app's log lines "registration of <instance> refused (<status> <reason code>): <why>", which say why the registration broker refused an instance; then reimage the instance`,
      troubleshooting: TROUBLESHOOTING.brokerRefused,
    };
  return s.fleet === 'github'
    ? {
        fix: "check the GH_SCOPE, GH_OWNER (GH_REPO), KEYVAULT_NAME and SECRET_NAME variables injected into the scale set and the Key Vault secret's spelling, then reimage the instance",
        troubleshooting: TROUBLESHOOTING.runnerOffline,
      }
    : {
        fix: 'inject ADO_ORG_URL, KEYVAULT_NAME, ADO_PAT_SECRET and ADO_POOL into the scale set, then restart the AdoBootstrap service (or reimage the instance)',
        troubleshooting: TROUBLESHOOTING.agentUnconfigured,
      };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** An error as one short line (client errors are already scrubbed of credentials). */
function oneLine(error: unknown): string {
  return scrub(error instanceof Error ? error.message : String(error));
}
