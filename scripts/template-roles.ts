// Prints the role assignments a compiled ARM template deploys, as the fake cloud reads them:
//   npx tsx scripts/template-roles.ts [template.json] [--parameters file.json] [--json]
//     [--subscription-id ID] [--tenant-id ID] [--location REGION]
// The template defaults to dist/infra/main.json (npm run build:infra) and the parameters to the
// simulator's (KILN_TEMPLATE_PARAMETERS). A parameters file is either plain values or an ARM
// parameters file ({"parameters": {"name": {"value": ...}}}). --json prints {parameters,
// assignments, identities} (the infra suite's cross-check with `bicep snapshot` reads it).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  KILN_TEMPLATE_PARAMETERS,
  readTemplateRoles,
  TemplateRolesError,
} from '../src/rbac/template-roles.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    parameters: { type: 'string' },
    json: { type: 'boolean', default: false },
    'subscription-id': { type: 'string', default: '00000000-0000-0000-0000-00000000a001' },
    'tenant-id': { type: 'string', default: '00000000-0000-0000-0000-00000000b002' },
    location: { type: 'string', default: 'westeurope' },
  },
});

function loadParameters(file: string | undefined): Record<string, unknown> {
  if (!file) return KILN_TEMPLATE_PARAMETERS;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const arm = raw.parameters as Record<string, { value?: unknown }> | undefined;
  if (typeof raw.$schema === 'string' && arm) {
    return Object.fromEntries(Object.entries(arm).map(([k, v]) => [k, v.value]));
  }
  return raw;
}

try {
  const template = JSON.parse(readFileSync(positionals[0] ?? 'dist/infra/main.json', 'utf8')) as unknown;
  const parameters = loadParameters(values.parameters);
  const roles = readTemplateRoles(template, parameters, {
    subscriptionId: values['subscription-id']!,
    tenantId: values['tenant-id']!,
    location: values.location!,
  });
  if (values.json) {
    console.log(JSON.stringify({ parameters, ...roles }, null, 2));
  } else {
    const rows = roles.assignments.map((a) => ({
      principal: a.principal.kind === 'identity' ? a.principal.name : `param:${a.principal.value}`,
      role: a.roleDefinitionId,
      scope: a.scope.replace(`/subscriptions/${values['subscription-id']}`, ''),
      source: a.source,
    }));
    console.table(rows);
    console.log(`identities: ${roles.identities.map((i) => i.name).join(', ')}`);
  }
} catch (error) {
  if (!(error instanceof TemplateRolesError)) throw error;
  console.error(`template-roles: ${error.message}`);
  process.exit(1);
}
