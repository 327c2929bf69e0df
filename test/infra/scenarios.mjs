// Parameter sets the deployment tests evaluate the template with: the two committed parameters
// files (dev: first deployment; prod: hardened, gallery images, secrets in place, an operator) and a
// minimal set that leaves every optional parameter at its default.
import { snapshot } from './lib/bicep.mjs';

export const OPERATOR_ID = '11111111-2222-3333-4444-555555555555';

export const scenarios = {
  dev: () => snapshot('dev', { template: 'infra/main.bicep', jsonParametersFile: 'infra/base/parameters.dev.json' }),
  prod: () =>
    snapshot('prod', {
      template: 'infra/main.bicep',
      jsonParametersFile: 'infra/base/parameters.prod.json',
      params: { principalId: OPERATOR_ID, principalType: 'User' },
    }),
  defaults: () =>
    snapshot('defaults', {
      template: 'infra/main.bicep',
      params: { environmentName: 'Min_Env', location: 'northeurope', github: { scope: 'org', owner: 'acme' } },
    }),
};
