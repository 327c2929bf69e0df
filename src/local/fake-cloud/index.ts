/**
 * The fake cloud: stateful HTTPS fakes of ARM, GitHub, Azure DevOps, Key Vault, Table and Blob
 * storage plus a managed identity endpoint, all on 127.0.0.1 with random ports, built from a scenario and driven by the
 * shared virtual clock. `env` holds the kiln settings (and IDENTITY_ENDPOINT/IDENTITY_HEADER) that
 * point kiln's real clients at the fakes; nothing else changes in the clients.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { VirtualClock } from '../clock.js';
import type { Scenario } from '../scenario/types.js';
import { ensureFakeCa } from '../tls/fake-ca.js';
import { createContractChecker, type ContractViolation, type Exchange } from '../contracts/index.js';
import { acceptsAsPassword, adoHandler } from './ado.js';
import { armHandler } from './arm.js';
import { FaultBook, type FakeFault, type FakeService } from './faults.js';
import { githubHandler } from './github.js';
import { serve, type RunningServer } from './http.js';
import { ORCHESTRATOR_CLIENT_ID, deploymentIdentities, type AccessControl } from './access.js';
import { entraAuthorityHandler } from './entra.js';
import { APP_SERVICE_MSI_PATH, identityHandler } from './identity.js';
import { keyVaultHandler, newSecret, type StoredSecret } from './keyvault.js';
import { installLocalhostResolver } from './localhost-dns.js';
import { issueLeaf } from './tls.js';
import { createAccessControl, WEBHOOK_SECRET_NAME, type RolesOption } from './role-source.js';
import { blobsHandler } from './blobs.js';
import { tablesHandler } from './tables.js';
import { TokenIssuer } from './tokens.js';
import { DEFAULT_NAMES, World, type Ledger, type WorldNames } from './world.js';
import type { ChoosableFakeCloudSetting, FakeCloudSetting } from './app-settings.js';

export type { FakeFault, FakeService } from './faults.js';
export type { Ledger, LedgerEvent } from './world.js';
export type { AuthorizationFailure } from './access.js';
export type { RolesOption } from './role-source.js';
export { World } from './world.js';

export interface FakeCloudSecrets {
  /** GitHub App private key (PEM). Generated at start when absent. */
  githubAppKey?: string;
  adoPat?: string;
  githubPat?: string;
  /** The secret GitHub signs workflow_job webhook deliveries with. Generated at start when absent. */
  githubWebhook?: string;
}

export interface StartFakeCloudOptions {
  scenario: Scenario;
  clock: VirtualClock;
  secrets?: FakeCloudSecrets;
  /** Page sizes of ARM lists (nextLink paging). */
  pageSize?: Partial<{ vms: number; resources: number; versions: number }>;
  names?: Partial<WorldNames>;
  /** GitHub's primary rate limit per token per virtual hour (default 5,000). */
  githubRateLimit?: number;
  /** Check every ARM, GitHub and ADO exchange against the official API descriptions (default true). */
  contracts?: boolean;
  /**
   * Role assignments in force: kiln's compiled Bicep (default), another compiled template, or
   * 'all' (every identity may do everything). See role-source.ts.
   */
  roles?: RolesOption;
}

export type RequestCounts = Record<FakeService, number>;

/** One request as a fake received it: which service, the HTTP method and the path (no query, no body). */
export interface RequestLogEntry {
  service: FakeService;
  method: string;
  path: string;
}

type OnRequest = (service: FakeService, request: { method: string; path: string }) => void;

export interface FakeCloud {
  env: Record<string, string>;
  world: World;
  requests: RequestCounts;
  /** Every request in the order received (method and path only): e.g. to prove a run only read. */
  requestLog: RequestLogEntry[];
  ledger: Ledger;
  /** Requests or answers that break the official API descriptions (src/local/contracts); empty when contracts are off. */
  contractViolations: ContractViolation[];
  /** The identities, the role assignments in force and every refusal (authorizationFailures). */
  access: AccessControl;
  faults: FaultBook;
  urls: {
    arm: string;
    github: string;
    ado: string;
    keyVault: string;
    /** The storage account's Table endpoint (KILN_TABLE_ENDPOINT). */
    tables: string;
    /** The storage account's Blob endpoint (KILN_BLOB_ENDPOINT), host-style. */
    blobs: string;
    identity: string;
    authority: string;
  };
  /** The IMDS token endpoint a VM (its resource name, e.g. vmss-gh-linux-weu_0) reaches. */
  imdsTokenUrl(vmName: string): string;
  /** The IMDS attested document endpoint that VM reaches (GET with api-version, nonce, Metadata: true). */
  imdsAttestedUrl(vmName: string): string;
  /** The token issuer: issueFor() signs a token for any caller's claims, as Entra would. */
  tokens: TokenIssuer;
  /** Key Vault secret names kiln reads (the values stay inside the fake vault). */
  secretNames: { githubAppKey: string; githubPat: string; adoPat: string; githubWebhook: string };
  /**
   * The secret GitHub signs its webhook deliveries with: the value the vault holds under
   * secretNames.githubWebhook now (GitHub and kiln's vault share it, as an operator set them up).
   */
  githubWebhookSecret(): string;
  addFault(fault: FakeFault): void;
  /** Adds or replaces a Key Vault secret. */
  setSecret(name: string, value: string): void;
  /**
   * Whether Azure DevOps accepts an agent configured with this secret: the PAT the vault holds, or
   * an Entra token for Azure DevOps (the broker's answer with ADO_AUTH=entra).
   */
  acceptsAdoPat(secret: string): boolean;
  /** The gallery version the scale set's model points at now (undefined: unknown scale set or not a version id). */
  scaleSetVersion(name: string): string | undefined;
  close(): Promise<void>;
}

const SECRET_NAMES = {
  githubAppKey: 'github-app-key',
  githubPat: 'gh-pat',
  adoPat: 'ado-pat',
  githubWebhook: WEBHOOK_SECRET_NAME,
};
const KEYVAULT_HOST = 'kiln.vault.localhost';
const KEYVAULT_RESOURCE = 'https://vault.localhost';
const FAKE_CLIENT_ID = ORCHESTRATOR_CLIENT_ID;
/** The App ID URI of kiln's app registration in the fake tenant: what runner VMs ask IMDS for. */
export const REGISTRATION_AUDIENCE = 'api://kiln-registration';

/**
 * The managed identity endpoint is one per process: MSAL (inside @azure/identity) resolves the
 * managed identity source and its endpoint once per process and keeps it, exactly as an Azure
 * Functions worker sees one IDENTITY_ENDPOINT for its lifetime. Every fake cloud started in this
 * process therefore shares this endpoint, its header secret and its token issuer; requests are
 * counted (and faults taken) by the fake cloud started last.
 */
interface SharedIdentity {
  origin: string;
  /** The fake Entra authority (HTTPS): OpenID metadata and the key set that verifies the tokens. */
  authorityOrigin: string;
  header: string;
  tokens: TokenIssuer;
  activate(target: ActiveCloud): void;
}

interface ActiveCloud {
  faults: FaultBook;
  onRequest: OnRequest;
  world?: World;
}

let sharedIdentityPromise: Promise<SharedIdentity> | undefined;

function sharedIdentity(): Promise<SharedIdentity> {
  sharedIdentityPromise ??= (async () => {
    // One endpoint serves every fake cloud of the process: the identities' ids are the same in all.
    const identities = deploymentIdentities(DEFAULT_NAMES.subscriptionId, DEFAULT_NAMES.packerResourceGroup);
    const tokens = new TokenIssuer(Date.now, (clientId) => {
      const identity = identities.find((i) => i.clientId.toLowerCase() === clientId?.toLowerCase());
      return { oid: identity?.principalId, tid: DEFAULT_NAMES.tenantId, xms_mirid: identity?.resourceId };
    });
    const header = randomBytes(16).toString('hex');
    let active: ActiveCloud = { faults: new FaultBook(), onRequest: () => {} };
    // A VM's token names the identity its scale set runs with, in the fake cloud started last.
    const vmIdentity = (vmName: string) => {
      const found = active.world?.instanceByVmName(vmName);
      if (!found) return undefined;
      const identity = active.world!.scaleSetIdentity(found.set);
      return {
        appid: identity.clientId,
        oid: identity.principalId,
        tid: DEFAULT_NAMES.tenantId,
        xms_mirid: identity.resourceId,
      };
    };
    // A VM's attested document names its vmId; IMDS signs it with a metadata.azure.com certificate.
    const vmAttestation = (vmName: string) => {
      const found = active.world?.instanceByVmName(vmName);
      return found
        ? { vmId: found.inst.vmId, subscriptionId: active.world!.names.subscriptionId }
        : undefined;
    };
    const ca = ensureFakeCa();
    const imdsCertificate = issueLeaf(ca, ['westeurope.metadata.azure.com', 'metadata.azure.com']);
    // One signer object for the cloud's life: its parsed key is kept per object.
    const attestationSigner = { certPem: imdsCertificate.cert, keyPem: imdsCertificate.key };
    const server = await serve({
      service: 'identity',
      onRequest: (s, r) => active.onRequest(s, r),
      handler: (req) =>
        identityHandler({
          tokens,
          faults: active.faults,
          identityHeader: header,
          clientId: FAKE_CLIENT_ID,
          vmIdentity,
          vmAttestation,
          attestationSigner,
        })(req),
    });
    let authorityOrigin = '';
    const authority = await serve({
      service: 'identity',
      tls: { cert: ca.certPem, key: ca.keyPem },
      onRequest: (s, r) => active.onRequest(s, r),
      handler: entraAuthorityHandler({
        origin: () => authorityOrigin,
        tenantId: DEFAULT_NAMES.tenantId,
        key: tokens.signingKey,
      }),
    });
    authorityOrigin = authority.origin;
    // Neither keeps the process alive on its own.
    server.server.unref();
    authority.server.unref();
    return { origin: server.origin, authorityOrigin, header, tokens, activate: (t) => (active = t) };
  })();
  return sharedIdentityPromise;
}

export async function startFakeCloud(options: StartFakeCloudOptions): Promise<FakeCloud> {
  const { scenario, clock } = options;
  installLocalhostResolver();
  const ca = ensureFakeCa();
  const world = new World(scenario, clock, options.names);
  world.access = createAccessControl(world, options.roles ?? 'project').access;
  const names = world.names;
  const faults = new FaultBook(scenario.faults, () => clock.nowMs(), Date.parse(scenario.start));
  const contracts = options.contracts === false ? undefined : await createContractChecker();
  const observe = (service: FakeService) =>
    contracts ? { observe: (ex: Exchange) => contracts.check(service, ex) } : {};
  faults.observe((service, operation) => world.beforeRequest(service, operation));
  // The simulated Packer job's report uploads meet the Blob service's faults as a Put Blob does.
  world.uploadFails = () => faults.takeHttp('blobs', 'putBlob') !== undefined;
  const identity = await sharedIdentity();
  const tokens = identity.tokens;
  const requests: RequestCounts = {
    arm: 0,
    github: 0,
    ado: 0,
    keyvault: 0,
    identity: 0,
    tables: 0,
    blobs: 0,
  };
  const requestLog: RequestLogEntry[] = [];
  const onRequest: OnRequest = (s, r) => {
    requests[s]++;
    requestLog.push({ service: s, method: r.method, path: r.path });
  };

  const appKey =
    options.secrets?.githubAppKey ??
    generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;
  const secrets = new Map<string, StoredSecret>();
  const secretVersions = world.randomStream('keyvault');
  const setSecret = (name: string, value: string) =>
    secrets.set(name.toLowerCase(), newSecret(value, clock.nowMs(), secretVersions));
  setSecret(SECRET_NAMES.githubAppKey, appKey);
  setSecret(
    SECRET_NAMES.githubPat,
    options.secrets?.githubPat ?? `ghp_${randomBytes(18).toString('base64url')}`,
  );
  setSecret(
    SECRET_NAMES.adoPat,
    options.secrets?.adoPat ?? randomBytes(26).toString('base64url').toLowerCase(),
  );
  setSecret(SECRET_NAMES.githubWebhook, options.secrets?.githubWebhook ?? randomBytes(20).toString('hex'));
  const secretValue = (name: string) => secrets.get(name)?.value ?? '';
  const adoPat = () => secretValue(SECRET_NAMES.adoPat);

  const tlsMain = { cert: ca.certPem, key: ca.keyPem };
  const servers: RunningServer[] = [];
  const origins = { arm: '', github: '', ado: '', keyvault: '', identity: '', tables: '', blobs: '' };
  const pageSize = { vms: 50, resources: 50, versions: 50, ...options.pageSize };

  try {
    identity.activate({ faults, onRequest, world });
    origins.identity = identity.origin;

    const arm = await serve({
      service: 'arm',
      ...observe('arm'),
      tls: tlsMain,
      onRequest,
      handler: armHandler({
        world,
        tokens,
        faults,
        origin: () => origins.arm,
        audiences: () => [origins.arm, `${origins.arm}/`],
        pageSize,
      }),
    });
    servers.push(arm);
    origins.arm = arm.origin;

    const github = await serve({
      service: 'github',
      ...observe('github'),
      tls: tlsMain,
      onRequest,
      handler: githubHandler({
        world,
        tokens,
        faults,
        origin: () => origins.github,
        appPrivateKeyPem: appKey,
        rateLimit: options.githubRateLimit,
        pat: () => secretValue(SECRET_NAMES.githubPat),
      }),
    });
    servers.push(github);
    origins.github = github.origin;

    const ado = await serve({
      service: 'ado',
      ...observe('ado'),
      tls: tlsMain,
      onRequest,
      handler: adoHandler({
        world,
        tokens,
        faults,
        origin: () => origins.ado,
        pat: adoPat,
      }),
    });
    servers.push(ado);
    origins.ado = ado.origin;

    const kv = await serve({
      service: 'keyvault',
      tls: issueLeaf(ca, [KEYVAULT_HOST, '*.vault.localhost', 'vault.localhost']),
      hostName: KEYVAULT_HOST,
      onRequest,
      handler: keyVaultHandler({
        tokens,
        faults,
        secrets,
        resource: KEYVAULT_RESOURCE,
        authority: `https://login.microsoftonline.com/${names.tenantId}`,
        vaultOrigin: () => origins.keyvault,
        access: () => world.access,
        vaultId: () => world.keyVaultId(),
      }),
    });
    servers.push(kv);
    origins.keyvault = kv.origin;

    // The SDK sends a storage token to any HTTPS host it is given; 127.0.0.1 is read as a storage
    // account's endpoint (a localhost one as Cosmos DB's), so the fake CA's own certificate serves.
    const tables = await serve({
      service: 'tables',
      tls: tlsMain,
      onRequest,
      handler: tablesHandler({
        tokens,
        faults,
        origin: () => origins.tables,
        now: () => clock.nowMs(),
        access: () => world.access,
        accountId: () => world.storageAccountId(),
      }),
    });
    servers.push(tables);
    origins.tables = tables.origin;

    // The Blob service host-style, as https://<account>.blob.core.windows.net is: a *.localhost name
    // (which startFakeCloud resolves to 127.0.0.1), since the SDK reads an IP address as the
    // emulator's path-style URL with the account in the path.
    const blobHost = `${names.storageAccountName}.blob.localhost`;
    const blobs = await serve({
      service: 'blobs',
      tls: issueLeaf(ca, [blobHost, '*.blob.localhost']),
      hostName: blobHost,
      onRequest,
      handler: blobsHandler({
        tokens,
        faults,
        origin: () => origins.blobs,
        now: () => clock.nowMs(),
        access: () => world.access,
        accountId: () => world.storageAccountId(),
        tenantId: names.tenantId,
        store: world.blobs,
      }),
    });
    servers.push(blobs);
    origins.blobs = blobs.origin;
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }

  const regions = scenario.gallery.regions;
  // Exactly the settings app-settings.ts names (the compiler holds the two together), and how the
  // managed identity endpoint is found and the fake's CA trusted.
  const env: Record<
    | FakeCloudSetting
    | ChoosableFakeCloudSetting
    | 'IDENTITY_ENDPOINT'
    | 'IDENTITY_HEADER'
    | 'NODE_EXTRA_CA_CERTS',
    string
  > = {
    AZURE_SUBSCRIPTION_ID: names.subscriptionId,
    AZURE_CLIENT_ID: FAKE_CLIENT_ID,
    ARM_ENDPOINT: origins.arm,
    MANAGED_TAG: 'kiln-managed=true',
    CANARY_TAG: 'kiln-canary=true',
    KEYVAULT_URL: origins.keyvault,
    GITHUB_API_URL: origins.github,
    GITHUB_SCOPE: 'org',
    GITHUB_OWNER: names.githubOwner,
    GITHUB_REPO: names.githubRepo,
    GITHUB_AUTH: 'app',
    GITHUB_APP_ID: names.githubAppId,
    GITHUB_APP_INSTALLATION_ID: '',
    GITHUB_APP_KEY_SECRET: SECRET_NAMES.githubAppKey,
    GITHUB_PAT_SECRET: SECRET_NAMES.githubPat,
    ADO_ORG_URL: `${origins.ado}/${names.adoOrganization}`,
    ADO_POOL: names.adoPoolName,
    ADO_AUTH: 'pat',
    ADO_PAT_SECRET: SECRET_NAMES.adoPat,
    GALLERY_RESOURCE_GROUP: names.galleryResourceGroup,
    GALLERY_NAME: names.galleryName,
    LINUX_IMAGE_DEFINITION: names.definitions.linux,
    WINDOWS_IMAGE_DEFINITION: names.definitions.windows,
    TARGET_REGIONS: regions.map((r) => `${r}=1`).join(','),
    PACKER_JOB_ID: world.packerJobId(),
    PACKER_JOB_IMAGE: 'crkiln.azurecr.io/kiln-packer:1',
    PACKER_IMAGE_RG: names.imagesResourceGroup,
    PACKER_TEMP_RG: names.buildResourceGroup,
    IDENTITY_ENDPOINT: `${origins.identity}${APP_SERVICE_MSI_PATH}`,
    IDENTITY_HEADER: identity.header,
    NODE_EXTRA_CA_CERTS: ca.certPath,
    // The registration broker verifies VM tokens against the fake authority, as against Entra.
    AZURE_AUTHORITY_HOST: identity.authorityOrigin,
    AZURE_TENANT_ID: DEFAULT_NAMES.tenantId,
    KILN_REGISTRATION_AUDIENCE: REGISTRATION_AUDIENCE,
    // Where the broker records the registrations it gave: the app's storage account's Table service.
    KILN_TABLE_ENDPOINT: origins.tables,
    // Where the Packer job stores each build's software report: the same account's Blob service.
    KILN_BLOB_ENDPOINT: origins.blobs,
  };

  let closed = false;
  return {
    env,
    world,
    requests,
    requestLog,
    ledger: world.ledger,
    contractViolations: contracts?.violations ?? [],
    access: world.access,
    faults,
    urls: {
      arm: origins.arm,
      github: origins.github,
      ado: `${origins.ado}/${names.adoOrganization}`,
      keyVault: origins.keyvault,
      tables: origins.tables,
      blobs: origins.blobs,
      identity: env.IDENTITY_ENDPOINT!,
      authority: identity.authorityOrigin,
    },
    imdsTokenUrl: (vmName) =>
      `${origins.identity}/vms/${encodeURIComponent(vmName)}/metadata/identity/oauth2/token`,
    imdsAttestedUrl: (vmName) =>
      `${origins.identity}/vms/${encodeURIComponent(vmName)}/metadata/attested/document`,
    tokens,
    secretNames: { ...SECRET_NAMES },
    githubWebhookSecret: () => secretValue(SECRET_NAMES.githubWebhook),
    addFault: (fault) => faults.add(fault),
    setSecret,
    acceptsAdoPat: (secret) => acceptsAsPassword({ tokens, pat: adoPat }, secret),
    scaleSetVersion: (name) => {
      const set = world.findScaleSet(name);
      return set ? /\/versions\/([^/]+)$/i.exec(set.imageId)?.[1] : undefined;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
