// Parameter sets the deployment tests evaluate the template with: the two committed parameters
// files (dev: first deployment; prod: hardened, gallery images, secrets in place, an operator) and a
// minimal set that leaves every optional parameter at its default.
import { snapshot } from './lib/bicep.mjs';

export const OPERATOR_ID = '11111111-2222-3333-4444-555555555555';

export const scenarios = {
  dev: () =>
    snapshot('dev', { template: 'infra/main.bicep', jsonParametersFile: 'infra/base/parameters.dev.json' }),
  prod: () =>
    snapshot('prod', {
      template: 'infra/main.bicep',
      jsonParametersFile: 'infra/base/parameters.prod.json',
      params: { principalId: OPERATOR_ID, principalType: 'User' },
    }),
  defaults: () =>
    snapshot('defaults', {
      template: 'infra/main.bicep',
      params: {
        environmentName: 'Min_Env',
        location: 'northeurope',
        github: { scope: 'org', owner: 'acme' },
      },
    }),
  // createGallery false: a shared gallery elsewhere, pinned versions, a Linux-only fleet.
  existing: () =>
    snapshot('existing', {
      template: 'infra/main.bicep',
      params: {
        environmentName: 'ops',
        location: 'westeurope',
        github: { scope: 'repo', owner: 'acme', repo: 'build', auth: 'pat' },
        createGallery: false,
        galleryName: 'gal_shared',
        galleryResourceGroupName: 'rg-shared-images',
        useGalleryImages: true,
        linuxImageVersion: '1.2.3',
        windowsFleet: { enabled: false },
        linuxFleet: { canaryInstanceCount: 0, instanceCount: 5 },
        secretsReady: true,
      },
    }),
  // Issue 16: the runners register through kiln's broker (no Key Vault role for their identities),
  // against GitHub Enterprise Server; secrets in place so the PAT-mode grants would show if present.
  jit: () =>
    snapshot('jit', {
      template: 'infra/main.bicep',
      params: {
        environmentName: 'jit',
        location: 'westeurope',
        github: {
          scope: 'org',
          owner: 'acme',
          registration: 'jit',
          url: 'https://ghes.example.com',
          apiUrl: 'https://ghes.example.com/api/v3',
        },
        ado: { orgUrl: 'https://dev.azure.com/acme', registration: 'broker' },
        secretsReady: true,
      },
    }),
};

/** Scale sets each scenario deploys. */
export const expectedScaleSets = {
  dev: ['vmss-dev-linux', 'vmss-dev-linux-canary', 'vmss-dev-windows', 'vmss-dev-windows-canary'],
  prod: ['vmss-prod-linux', 'vmss-prod-linux-canary', 'vmss-prod-windows', 'vmss-prod-windows-canary'],
  defaults: [
    'vmss-min-env-linux',
    'vmss-min-env-linux-canary',
    'vmss-min-env-windows',
    'vmss-min-env-windows-canary',
  ],
  existing: ['vmss-ops-linux'],
  jit: ['vmss-jit-linux', 'vmss-jit-linux-canary', 'vmss-jit-windows', 'vmss-jit-windows-canary'],
};
