// The runtime environment a scale set injects, evaluated from modules/scale-set.bicep with literal
// inputs and then executed: the Linux custom script runs under sh against a scratch directory and a
// stand-in systemctl, and the file it writes is sourced back to prove the values arrive intact (quotes
// included). The Windows command is checked for the seed README's machine variables and restart.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, snapshot } from './lib/bicep.mjs';
import { resourcesOf } from './lib/arm.mjs';

const sub = '00000000-0000-0000-0000-00000000a001';
const common = {
  location: 'westeurope',
  subnetResourceId: `/subscriptions/${sub}/resourceGroups/rg-t/providers/Microsoft.Network/virtualNetworks/vnet-t/subnets/runners`,
  identityResourceId: `/subscriptions/${sub}/resourceGroups/rg-t/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-t`,
  dataCollectionRuleResourceId: `/subscriptions/${sub}/resourceGroups/rg-t/providers/Microsoft.Insights/dataCollectionRules/dcr-t`,
  adminUsername: 'kiln',
  roleAssignments: [],
};

function scaleSet(name, params) {
  const snap = snapshot(name, {
    template: 'infra/modules/scale-set.bicep',
    resourceGroup: 'rg-t',
    params: { ...common, ...params },
  });
  const [vmss] = resourcesOf(snap, 'Microsoft.Compute/virtualMachineScaleSets');
  return {
    snap,
    vmss,
    extension: (n) =>
      vmss.properties.virtualMachineProfile.extensionProfile.extensions.find((e) => e.name === n),
  };
}

/** Runs the Linux runtime script with the env file redirected to a scratch dir; returns what it did. */
function runLinuxScript(script, { runnerInstalled }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-runtime-'));
  const envFile = path.join(dir, 'gh-runner-env.sh');
  const log = path.join(dir, 'systemctl.log');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(
    path.join(bin, 'systemctl'),
    `#!/bin/sh\necho "$*" >> '${log}'\nif [ "$1" = cat ]; then exit ${runnerInstalled ? 0 : 1}; fi\nexit 0\n`,
  );
  chmodSync(path.join(bin, 'systemctl'), 0o755);
  assert.ok(script.includes('/etc/profile.d/gh-runner-env.sh'), 'writes the seed README file');
  const sandboxed = script.split('/etc/profile.d/gh-runner-env.sh').join(envFile);
  const scriptFile = path.join(dir, 'runtime.sh');
  writeFileSync(scriptFile, sandboxed);
  execFileSync('sh', ['-n', scriptFile]);
  execFileSync('sh', [scriptFile], { env: { PATH: `${bin}:${process.env.PATH}` } });
  const vars = [
    'GH_SCOPE',
    'GH_OWNER',
    'GH_REPO',
    'KEYVAULT_NAME',
    'SECRET_NAME',
    'GH_RUNNER_LABELS',
    'GH_RUNNER_GROUP',
    'AZURE_CLIENT_ID',
    'KILN_REGISTRATION_URL',
    'KILN_REGISTRATION_AUDIENCE',
    'GITHUB_URL',
    'GITHUB_API_URL',
  ];
  // Source the written file in a clean shell and report each variable: name, set or not, value.
  const reader = path.join(dir, 'read-env.sh');
  writeFileSync(
    reader,
    [
      '. "$1"',
      `for v in ${vars.join(' ')}; do`,
      '  eval "isset=\\${$v+1}; val=\\${$v-}"',
      '  printf \'%s\\t%s\\t%s\\n\' "$v" "${isset:-0}" "$val"',
      'done',
      '',
    ].join('\n'),
  );
  const printed = execFileSync('sh', [reader, envFile], { encoding: 'utf8', env: {} });
  const values = Object.fromEntries(
    printed
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t'))
      .map(([name, isSet, value]) => [name, isSet === '1' ? value : undefined]),
  );
  let calls = '';
  try {
    calls = readFileSync(log, 'utf8');
  } catch {
    calls = '';
  }
  const fileText = readFileSync(envFile, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return { values, calls, fileText };
}

describe('Linux runner scale set', () => {
  const { vmss, extension } = scaleSet('vmss-linux', {
    name: 'vmss-t-linux',
    osType: 'Linux',
    tags: { 'kiln-managed': 'true', 'kiln-image': 'linux' },
    computerNamePrefix: 'kilnlnx',
    imageReference: {
      publisher: 'Canonical',
      offer: '0001-com-ubuntu-server-jammy',
      sku: '22_04-lts-gen2',
      version: 'latest',
    },
    linuxSshPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItest kiln@test',
    linuxRuntime: {
      scope: 'repo',
      owner: "o'brien & sons $HOME",
      repo: 'app',
      keyVaultName: 'kv-t',
      secretName: 'gh-pat',
      labels: 'kiln,linux x64',
      group: '',
      clientId: '22222222-3333-4444-5555-666666666666',
    },
  });
  const script = Buffer.from(extension('kiln-runtime-env').properties.settings.script, 'base64').toString(
    'utf8',
  );

  it('is tagged kiln-recycle=false unless recycle is set (hygiene reads the tag)', () => {
    assert.equal(vmss.tags['kiln-recycle'], 'false');
    const { vmss: once } = scaleSet('vmss-linux-recycle', {
      name: 'vmss-t-linux-r',
      osType: 'Linux',
      tags: { 'kiln-managed': 'true' },
      recycle: true,
      computerNamePrefix: 'kilnlnx',
      imageReference: { publisher: 'Canonical', offer: 'o', sku: 's', version: 'latest' },
      linuxSshPublicKey: 'ssh-ed25519 AAAA kiln@test',
      linuxRuntime: { scope: 'org', owner: 'acme', keyVaultName: 'kv-t', secretName: 'gh-pat' },
    });
    assert.deepEqual(once.tags, { 'kiln-managed': 'true', 'kiln-recycle': 'true' });
  });

  it('injects the runtime environment with a Custom Script extension, fully known before deployment', () => {
    const ext = extension('kiln-runtime-env').properties;
    assert.equal(ext.publisher, 'Microsoft.Azure.Extensions');
    assert.equal(ext.type, 'CustomScript');
    assert.match(script, /^#!\/bin\/sh\n/);
  });

  it('writes GH_* / KEYVAULT_NAME / SECRET_NAME exactly, quotes and all, and restarts the runner', () => {
    const { values, calls } = runLinuxScript(script, { runnerInstalled: true });
    assert.deepEqual(values, {
      GH_SCOPE: 'repo',
      GH_OWNER: "o'brien & sons $HOME",
      GH_REPO: 'app',
      KEYVAULT_NAME: 'kv-t',
      SECRET_NAME: 'gh-pat',
      GH_RUNNER_LABELS: 'kiln,linux x64',
      GH_RUNNER_GROUP: undefined,
      AZURE_CLIENT_ID: '22222222-3333-4444-5555-666666666666',
      KILN_REGISTRATION_URL: undefined,
      KILN_REGISTRATION_AUDIENCE: undefined,
      GITHUB_URL: undefined,
      GITHUB_API_URL: undefined,
    });
    assert.match(calls, /^restart github-runner\.service$/m);
  });

  it('jit: writes the broker URL and audience and GitHub Enterprise Server URLs, and no vault or secret name', () => {
    const { extension: ext } = scaleSet('vmss-linux-jit', {
      name: 'vmss-t-linux-jit',
      osType: 'Linux',
      tags: {},
      computerNamePrefix: 'kilnlnx',
      imageReference: { publisher: 'Canonical', offer: 'o', sku: 's', version: 'latest' },
      linuxSshPublicKey: 'ssh-ed25519 AAAA kiln@test',
      linuxRuntime: {
        scope: 'org',
        owner: 'acme',
        registrationUrl: 'https://func-t.azurewebsites.net/api/registrations',
        registrationAudience: 'api://kiln-t-registrations',
        githubUrl: 'https://ghes.example.com',
        githubApiUrl: 'https://ghes.example.com/api/v3',
      },
    });
    const jitScript = Buffer.from(ext('kiln-runtime-env').properties.settings.script, 'base64').toString('utf8');
    const { values } = runLinuxScript(jitScript, { runnerInstalled: true });
    assert.equal(values.KILN_REGISTRATION_URL, 'https://func-t.azurewebsites.net/api/registrations');
    assert.equal(values.KILN_REGISTRATION_AUDIENCE, 'api://kiln-t-registrations');
    assert.equal(values.GITHUB_URL, 'https://ghes.example.com');
    assert.equal(values.GITHUB_API_URL, 'https://ghes.example.com/api/v3');
    assert.equal(values.KEYVAULT_NAME, undefined);
    assert.equal(values.SECRET_NAME, undefined);
  });

  it('passes shellcheck as a POSIX sh script (when shellcheck is installed)', (t) => {
    const found = (process.env.PATH ?? '')
      .split(path.delimiter)
      .some((d) => d && existsSync(path.join(d, 'shellcheck')));
    if (!found) return t.skip('no shellcheck on this machine');
    execFileSync('shellcheck', ['--shell=sh', '-'], { input: script, encoding: 'utf8' });
  });

  it('succeeds without restarting anything on a base image that has no runner yet', () => {
    const { calls } = runLinuxScript(script, { runnerInstalled: false });
    assert.doesNotMatch(calls, /restart/);
  });

  it('leaves GH_REPO out for an organization runner', () => {
    const { extension: ext } = scaleSet('vmss-linux-org', {
      name: 'vmss-t-linux-org',
      osType: 'Linux',
      tags: {},
      computerNamePrefix: 'kilnlnx',
      imageReference: {
        id: `/subscriptions/${sub}/resourceGroups/rg-t/providers/Microsoft.Compute/galleries/g/images/linux-agent`,
      },
      linuxSshPublicKey: 'ssh-ed25519 AAAA kiln@test',
      linuxRuntime: {
        scope: 'org',
        owner: 'acme',
        repo: 'ignored',
        keyVaultName: 'kv-t',
        secretName: 'gh-pat',
      },
    });
    const orgScript = Buffer.from(ext('kiln-runtime-env').properties.settings.script, 'base64').toString(
      'utf8',
    );
    const { values } = runLinuxScript(orgScript, { runnerInstalled: true });
    assert.equal(values.GH_SCOPE, 'org');
    assert.equal(values.GH_REPO, undefined);
  });

  it('uses the SSH key and no password by default', () => {
    const os = vmss.properties.virtualMachineProfile.osProfile;
    assert.equal(os.linuxConfiguration.disablePasswordAuthentication, true);
    assert.equal(os.linuxConfiguration.ssh.publicKeys[0].path, '/home/kiln/.ssh/authorized_keys');
    assert.equal(os.adminPassword, null);
  });

  it('accepts a password only when linuxUsePassword is true', () => {
    const { vmss: withPassword } = scaleSet('vmss-linux-password', {
      name: 'vmss-t-linux-pw',
      osType: 'Linux',
      tags: {},
      computerNamePrefix: 'kilnlnx',
      imageReference: {
        publisher: 'Canonical',
        offer: '0001-com-ubuntu-server-jammy',
        sku: '22_04-lts-gen2',
        version: 'latest',
      },
      linuxUsePassword: true,
      adminPassword: 'Not-A-Real-Password-1',
      linuxRuntime: { scope: 'org', owner: 'acme', keyVaultName: 'kv-t', secretName: 'gh-pat' },
    });
    const os = withPassword.properties.virtualMachineProfile.osProfile;
    assert.equal(os.linuxConfiguration.disablePasswordAuthentication, false);
    assert.equal(os.linuxConfiguration.ssh, null);
    assert.equal(os.adminPassword, "[parameters('adminPassword')]", 'the password stays a secure parameter');
  });

  it('runs the Azure Monitor agent with the scale set identity and associates the rule', () => {
    const ama = extension('kiln-azure-monitor-agent').properties;
    assert.equal(ama.type, 'AzureMonitorLinuxAgent');
    assert.equal(ama.settings.authentication.managedIdentity['identifier-value'], common.identityResourceId);
    assert.equal(vmss.properties.virtualMachineProfile.extensionProfile.extensions.length, 2);
  });
});

/** Real PowerShell when this machine has one: pwsh on PATH, or the host the Windows image tests build. */
function findPwsh() {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'pwsh'))) return path.join(dir, 'pwsh');
  }
  const hosted = path.join(repoRoot, '.tools/pwsh-host/bin/Release/net10.0/linux-x64/pwsh-host');
  return existsSync(hosted) ? hosted : undefined;
}

describe('Windows agent scale set', () => {
  const { vmss, extension, snap } = scaleSet('vmss-windows', {
    name: 'vmss-t-windows',
    osType: 'Windows',
    tags: { 'kiln-managed': 'true', 'kiln-image': 'windows', 'kiln-canary': 'true' },
    computerNamePrefix: 'kilnwinc',
    imageReference: {
      publisher: 'MicrosoftWindowsServer',
      offer: 'WindowsServer',
      sku: '2022-datacenter-azure-edition',
      version: 'latest',
    },
    adminPassword: 'Not-A-Real-Password-1',
    windowsRuntime: {
      orgUrl: 'https://dev.azure.com/acme',
      keyVaultName: 'kv-t',
      patSecretName: 'ado-pat',
      pool: "Pool 'A'",
    },
    monitorGuests: false,
  });
  const command = extension('kiln-runtime-env').properties.settings.commandToExecute;

  it('sets the machine variables ADO_ORG_URL, KEYVAULT_NAME, ADO_PAT_SECRET, ADO_POOL', () => {
    for (const [key, value] of [
      ['ADO_ORG_URL', "'https://dev.azure.com/acme'"],
      ['KEYVAULT_NAME', "'kv-t'"],
      ['ADO_PAT_SECRET', "'ado-pat'"],
      ['ADO_POOL', "'Pool ''A'''"],
    ]) {
      assert.ok(
        command.includes(`[Environment]::SetEnvironmentVariable('${key}', ${value}, 'Machine')`),
        `${key} in ${command}`,
      );
    }
  });

  it('broker: sets the broker URL and audience and clears the vault and secret names', () => {
    const { extension: ext } = scaleSet('vmss-windows-broker', {
      name: 'vmss-t-windows-b',
      osType: 'Windows',
      tags: {},
      computerNamePrefix: 'kilnwin',
      imageReference: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: 's', version: 'latest' },
      adminPassword: 'Not-A-Real-Password-1',
      windowsRuntime: {
        orgUrl: 'https://dev.azure.com/acme',
        pool: 'Default',
        registrationUrl: 'https://func-t.azurewebsites.net/api/registrations',
        registrationAudience: 'api://kiln-t-registrations',
      },
      monitorGuests: false,
    });
    const cmd = ext('kiln-runtime-env').properties.settings.commandToExecute;
    for (const [key, value] of [
      ['KILN_REGISTRATION_URL', "'https://func-t.azurewebsites.net/api/registrations'"],
      ['KILN_REGISTRATION_AUDIENCE', "'api://kiln-t-registrations'"],
      ['KEYVAULT_NAME', "''"],
      ['ADO_PAT_SECRET', "''"],
    ]) {
      assert.ok(cmd.includes(`[Environment]::SetEnvironmentVariable('${key}', ${value}, 'Machine')`), `${key} in ${cmd}`);
    }
  });

  it('recycle: tagged kiln-recycle=true, and KILN_RECYCLE=true makes the agent run once; false by default', () => {
    assert.equal(vmss.tags['kiln-recycle'], 'false');
    assert.equal(vmss.tags['kiln-canary'], 'true', 'the given tags stay');
    assert.ok(command.includes("[Environment]::SetEnvironmentVariable('KILN_RECYCLE', 'false', 'Machine')"), command);
    const { vmss: once, extension: ext } = scaleSet('vmss-windows-recycle', {
      name: 'vmss-t-windows-r',
      osType: 'Windows',
      tags: { 'kiln-managed': 'true' },
      recycle: true,
      computerNamePrefix: 'kilnwin',
      imageReference: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: 's', version: 'latest' },
      adminPassword: 'Not-A-Real-Password-1',
      windowsRuntime: { orgUrl: 'https://dev.azure.com/acme', pool: 'Default' },
      monitorGuests: false,
    });
    assert.deepEqual(once.tags, { 'kiln-managed': 'true', 'kiln-recycle': 'true' });
    const cmd = ext('kiln-runtime-env').properties.settings.commandToExecute;
    assert.ok(cmd.includes("[Environment]::SetEnvironmentVariable('KILN_RECYCLE', 'true', 'Machine')"), cmd);
  });

  it('restarts the AdoBootstrap service (or starts the task of that name)', () => {
    assert.match(command, /Restart-Service -Name AdoBootstrap -Force/);
    assert.match(command, /Start-ScheduledTask -TaskName AdoBootstrap/);
    assert.equal(extension('kiln-runtime-env').properties.type, 'CustomScriptExtension');
  });

  it('runs under PowerShell: sets each machine variable with its exact value, then restarts AdoBootstrap', (t) => {
    const pwsh = findPwsh();
    if (!pwsh) return t.skip('no PowerShell on this machine');
    const m = /-Command "(.*)"$/s.exec(command);
    assert.ok(m, 'powershell.exe -Command "..."');
    // The .NET call and the service cmdlets are replaced by recorders; the quoting under test is not.
    const payload = m[1].split('[Environment]::SetEnvironmentVariable(').join('Write-KilnVariable @(');
    const prelude = [
      'function Write-KilnVariable($spec) { Write-Output ("set|{0}|{1}|{2}" -f $spec[0], $spec[1], $spec[2]) }',
      'function Get-Service { param($Name, $ErrorAction) [pscustomobject]@{ Name = $Name } }',
      'function Restart-Service { param($Name, [switch]$Force) Write-Output ("restart|{0}|{1}" -f $Name, [bool]$Force) }',
      'function Get-ScheduledTask { param($TaskName, $ErrorAction) $null }',
      'function Start-ScheduledTask { param($TaskName) Write-Output "task|$TaskName" }',
    ].join('; ');
    const out = execFileSync(pwsh, ['-NoProfile', '-NonInteractive', '-Command', `${prelude}; ${payload}`], {
      encoding: 'utf8',
    });
    assert.deepEqual(out.trim().split(/\r?\n/), [
      'set|ADO_ORG_URL|https://dev.azure.com/acme|Machine',
      'set|KEYVAULT_NAME|kv-t|Machine',
      'set|ADO_PAT_SECRET|ado-pat|Machine',
      "set|ADO_POOL|Pool 'A'|Machine",
      'set|KILN_REGISTRATION_URL||Machine',
      'set|KILN_REGISTRATION_AUDIENCE||Machine',
      'set|KILN_RECYCLE|false|Machine',
      'restart|AdoBootstrap|True',
    ]);
  });

  it('keeps the administrator password out of the command and out of the evaluated model', () => {
    assert.ok(!command.includes('Not-A-Real-Password-1'));
    assert.equal(
      vmss.properties.virtualMachineProfile.osProfile.adminPassword,
      "[parameters('adminPassword')]",
    );
  });

  it('has a Windows-length computer name prefix and no monitoring extension when monitorGuests is false', () => {
    assert.ok(vmss.properties.virtualMachineProfile.osProfile.computerNamePrefix.length <= 9);
    assert.equal(vmss.properties.virtualMachineProfile.extensionProfile.extensions.length, 1);
    assert.deepEqual(resourcesOf(snap, 'Microsoft.Insights/dataCollectionRuleAssociations'), []);
  });
});
