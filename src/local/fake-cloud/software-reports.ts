/**
 * What the fake cloud's images hold: the software report (docs/software-report.md) a simulated
 * Packer build stores, and the one each existing promoted version starts with. The tools are those
 * packer/<image>/toolset.json installs, named as real reports name them; versions the toolset leaves
 * open (the newest azure-cli at build time, apt's packages) get fixed stand-ins, so that every build
 * of an image holds the same unless a scenario changes it (`images.<image>.changes`).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ImageKind, SoftwareToolChange } from '../scenario/types.js';
import type { SoftwareReport, SoftwareTool } from '../../domain/software-report.js';

interface Toolset {
  baseImage: { publisher: string; offer: string; sku: string };
  [name: string]: unknown;
}

function readToolset(kind: ImageKind): Toolset {
  const file = fileURLToPath(new URL(`../../../packer/${kind}/toolset.json`, import.meta.url));
  return JSON.parse(readFileSync(file, 'utf8')) as Toolset;
}

/** Versions Ubuntu 22.04's apt holds for the packages the Linux toolset installs (stand-ins, stable). */
const APT_TOOLS: Record<string, { name: string; version: string } | null> = {
  git: { name: 'git', version: '2.34.1' },
  curl: { name: 'curl', version: '7.81.0' },
  jq: { name: 'jq', version: '1.6' },
  'ca-certificates': { name: 'ca-certificates', version: '20240203' },
  gnupg: { name: 'gnupg', version: '2.2.27' },
  'lsb-release': { name: 'lsb-release', version: '11.1.0' },
  'build-essential': { name: 'gcc', version: '11.4.0' },
  python3: { name: 'python', version: '3.10.12' },
  'python3-pip': { name: 'pip', version: '22.0.2' },
  // Part of python as a report lists it.
  'python3-venv': null,
  zip: { name: 'zip', version: '3.0' },
  unzip: { name: 'unzip', version: '6.0' },
};

/**
 * What a toolset line resolves to in the simulated world (December 2026 stand-ins), by report name: a
 * real build resolves `latest`, `active LTS`, `3.12.*` from the vendor's release index at build time.
 * A pinned version (digits and dots) is what it says.
 */
const SIMULATED_RELEASES: Record<string, string> = {
  node: '26.3.0',
  'azure-cli': '2.80.0',
  azd: '1.21.3',
  chocolatey: '2.5.1',
  git: '2.52.0.windows.1',
  python: '3.12.10',
  cmake: '4.2.1',
  'az-powershell': '14.6.0',
  pip: '25.3',
  yarn: '1.22.22',
  pnpm: '9.15.9',
};

const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);
const field = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;

/** The tool a toolset entry installs, its line resolved as the simulated world's vendors answer. */
function resolved(name: string, requested: string, verifiedBy: string): SoftwareTool {
  const pinned = /^\d+(\.\d+)+$/.test(requested);
  return {
    name,
    version: pinned ? requested : (SIMULATED_RELEASES[name] ?? requested),
    requested: requested || 'latest',
    verifiedBy,
  };
}

function linuxBaseline(t: Toolset): { agent: string; tools: SoftwareTool[] } {
  // The runner is what kiln passes to the build (the fake GitHub's latest release); this stands in
  // only for a report made without one.
  const agent = '2.330.0';
  const line = (key: string) => str(field(t[key], 'version'), 'latest');
  const tools: SoftwareTool[] = [
    {
      name: 'actions-runner',
      version: agent,
      requested: line('runner'),
      source: `https://github.com/actions/runner/releases/download/v${agent}/`,
      verifiedBy: 'sha256',
    },
    resolved('node', line('node'), 'sha256'),
    resolved('azure-cli', line('azure_cli'), 'apt-signature'),
    resolved('azd', line('azd'), 'sha256'),
  ];
  const apt = field(t.apt, 'install');
  for (const pkg of Array.isArray(apt) ? apt : []) {
    const tool = APT_TOOLS[str(pkg)];
    if (tool) tools.push({ ...tool, requested: 'latest', verifiedBy: 'apt-signature' });
  }
  return { agent, tools };
}

function windowsBaseline(t: Toolset): { agent: string; tools: SoftwareTool[] } {
  const agent = str(field(t.adoAgent, 'version'));
  const line = (key: string) => str(field(t[key], 'version'), 'latest');
  const tools: SoftwareTool[] = [
    resolved('azure-pipelines-agent', agent, 'sha256'),
    resolved('chocolatey', line('chocolatey'), 'chocolatey-checksum'),
    resolved('git', line('git'), 'sha256'),
    resolved('node', line('nodejs'), 'sha256'),
    resolved('python', line('python'), 'sha256'),
    resolved('pip', line('pip'), 'sha256'),
    resolved('cmake', line('cmake'), 'sha256'),
    resolved('azure-cli', line('azureCli'), 'sha256'),
    resolved('azd', line('azd'), 'sha256'),
    resolved('nssm', line('nssm'), 'chocolatey-checksum'),
    resolved('az-powershell', line('azPowerShell'), 'nuget-signature'),
    {
      name: 'vs-buildtools',
      version: `${str(field(t.visualStudioBuildTools, 'majorVersion'), '17')}.14.0`,
      requested: str(field(t.visualStudioBuildTools, 'majorVersion'), '17'),
      verifiedBy: 'authenticode',
    },
  ];
  const packages = t.nodePackages;
  for (const p of Array.isArray(packages) ? packages : [])
    tools.push(resolved(str(field(p, 'name')), str(field(p, 'version'), 'latest'), 'npm-integrity'));
  return { agent, tools: tools.filter((tool) => tool.name && tool.version) };
}

const baselines = new Map<ImageKind, { agent: string; tools: SoftwareTool[]; toolset: Toolset }>();

/** The tools every build of the image holds (from its toolset), and its runner or agent version. */
export function baselineOf(kind: ImageKind): { agent: string; tools: SoftwareTool[]; toolset: Toolset } {
  let baseline = baselines.get(kind);
  if (!baseline) {
    const toolset = readToolset(kind);
    baseline = { ...(kind === 'linux' ? linuxBaseline(toolset) : windowsBaseline(toolset)), toolset };
    baselines.set(kind, baseline);
  }
  return baseline;
}

/** The names of the tools an image's builds hold before any scenario change. */
export function baselineToolNames(kind: ImageKind): string[] {
  return baselineOf(kind).tools.map((t) => t.name);
}

const AGENT_NAME: Record<ImageKind, string> = {
  linux: 'actions-runner',
  windows: 'azure-pipelines-agent',
};

/**
 * The report of one build: the baseline, its runner or agent at `agentVersion` (what the build was
 * asked to bake in), and `changes` applied (a tool at another version, removed, or added).
 */
export function fakeSoftwareReport(
  kind: ImageKind,
  options: { generatedAt: string; agentVersion?: string; changes?: readonly SoftwareToolChange[] },
): SoftwareReport {
  const baseline = baselineOf(kind);
  const agentName = AGENT_NAME[kind];
  const agentVersion = options.agentVersion || baseline.agent;
  const tools = new Map(baseline.tools.map((t) => [t.name, { ...t }]));
  const agent = tools.get(agentName);
  if (agent) tools.set(agentName, { ...agent, version: agentVersion, requested: agentVersion });
  for (const change of options.changes ?? []) {
    if (change.to === null) tools.delete(change.tool);
    else
      tools.set(change.tool, {
        ...(tools.get(change.tool) ?? { name: change.tool, requested: change.to, verifiedBy: 'sha256' }),
        version: change.to,
      });
  }
  const linux = kind === 'linux';
  const { publisher, offer, sku } = baseline.toolset.baseImage;
  return {
    schemaVersion: 1,
    image: kind,
    generatedAt: options.generatedAt,
    os: linux
      ? { name: 'Ubuntu 22.04.5 LTS', version: '22.04', build: '6.8.0-1017-azure' }
      : {
          name: 'Microsoft Windows Server 2022 Datacenter: Azure Edition',
          version: '2022',
          build: '10.0.20348.2849',
        },
    baseImage: { publisher, offer, sku, version: linux ? '22.04.202611190' : '20348.2849.241106' },
    agent: { name: agentName, version: agentVersion },
    tools: [...tools.values()].sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** The Markdown beside the JSON: what a person reads. */
export function softwareReportMarkdown(report: SoftwareReport): string {
  return [
    `# ${report.image === 'linux' ? 'Linux GitHub runner' : 'Windows Azure DevOps agent'} image`,
    '',
    `- OS: ${report.os.name} (${report.os.build})`,
    `- Base image: ${report.baseImage.publisher} ${report.baseImage.offer} ${report.baseImage.sku} ${report.baseImage.version}`,
    `- Agent: ${report.agent.name} ${report.agent.version}`,
    `- Generated: ${report.generatedAt}`,
    '',
    '| Tool | Version | Requested | Verified by |',
    '|---|---|---|---|',
    ...report.tools.map((t) => `| ${t.name} | ${t.version} | ${t.requested ?? ''} | ${t.verifiedBy ?? ''} |`),
    '',
  ].join('\n');
}
