/**
 * `kiln serve`: the app on 127.0.0.1 over real HTTP — its HTTP routes exactly as registered, the
 * Event Grid webhook — against the embedded fake cloud built from a scenario, with the local durable
 * runner on a clock that runs in real time × --speed. For trying the dashboard and the run commands
 * without Azure. The app's own tables (the run history, the broker's record) are in Azurite, the
 * real Table storage emulator, when it is installed (started here and stopped by its PID), else in
 * the fake cloud's Table storage. Runs until interrupted (Ctrl+C or SIGTERM).
 */
import { azuriteTableMain, startAzurite, type Azurite } from '../local/azurite.js';
import { VirtualClock } from '../local/clock.js';
import { REGISTRATION_AUDIENCE } from '../local/fake-cloud/index.js';
import { startHttpFront, EVENT_GRID_WEBHOOK } from '../local/host/http-front.js';
import { LiveClock } from '../local/host/live-clock.js';
import { SimulationError, runSimulation } from '../local/simulate/run-simulation.js';
import { runTrustingFakeCa } from './trust.js';
import { parseCommandArguments } from './arguments.js';
import { scenarioArgument } from './scenario-cloud.js';
import { EXIT, exitCodesHelp } from './exit-codes.js';

const HELP = `kiln serve — the app's HTTP routes on 127.0.0.1, over the embedded fake cloud

Usage:
  kiln serve [--scenario FILE] [--port N] [--speed X] [--table-storage azurite|fake] [--json] [--verbose]

Options:
  --scenario FILE   Scenario file, JSON or YAML (format: docs/scenarios.md); without it,
                    the built-in demo. The scenario's "trigger" and "until" are not used: start
                    runs with the API (kiln rollout|rebuild|cleanup --app URL). Its "timers"
                    decide whether the app's timers fire.
  --port N          Port on 127.0.0.1 (default 7071; 0 picks a free one).
  --speed X         Clock speed: virtual seconds per real second (default 1; e.g. 60 makes a
                    15-minute health deadline pass in 15 s). The clock starts at the scenario's "start".
  --table-storage S Where the app keeps its own tables (the run history, the registration
                    broker's record): azurite (the real emulator, started on a free port in a
                    temporary folder and stopped with kiln serve; the default when installed) or
                    fake (the fake cloud's Table storage, with Azure's role checks).
  --json            Print the addresses and key as one JSON line on stdout (for scripts).
  --verbose         Also print the app's own log lines and each request (to stderr).

Serves:
  /api/...                              the app's HTTP functions (function key: x-functions-key or ?code=)
  /api/dashboard?code=KEY               the fleet dashboard
  POST /api/registrations               the registration broker (a runner VM's IMDS token and
                                        attested document; the fake IMDS of each VM is printed as
                                        "imds" and "imdsAttested")
  POST ${EVENT_GRID_WEBHOOK}?functionName=galleryVersionEvents&code=KEY
                                        Event Grid deliveries (aeg-event-type SubscriptionValidation
                                        is answered with { validationResponse }; Notification → 202)

Examples:
  kiln serve
  kiln serve --scenario scenarios/monthly-small.yaml --port 8080 --speed 60
  kiln rollout --app http://127.0.0.1:7071 --key KEY --image linux --version 2026.10.1

${exitCodesHelp('serve')}`;

export async function serveCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArguments(
    'serve',
    argv,
    {
      scenario: { type: 'string' },
      port: { type: 'string', default: '7071' },
      speed: { type: 'string', default: '1' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      'table-storage': { type: 'string' },
    },
    HELP,
  );
  if (parsed.exit !== undefined) return parsed.exit;
  const { values } = parsed;
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port!) || port > 65535) {
    process.stderr.write(`kiln serve: --port must be a port number from 0 to 65535, not "${values.port}"\n`);
    return EXIT.usage;
  }
  const speed = Number(values.speed);
  if (!Number.isFinite(speed) || speed <= 0 || speed > 100_000) {
    process.stderr.write(
      `kiln serve: --speed must be a number above 0 and at most 100000, not "${values.speed}"\n`,
    );
    return EXIT.usage;
  }
  const tableStorage = values['table-storage'] ?? (azuriteTableMain() ? 'azurite' : 'fake');
  if (tableStorage !== 'azurite' && tableStorage !== 'fake') {
    process.stderr.write(`kiln serve: --table-storage must be azurite or fake, not "${tableStorage}"\n`);
    return EXIT.usage;
  }
  if (tableStorage === 'azurite' && !azuriteTableMain()) {
    process.stderr.write(
      'kiln serve: --table-storage azurite: Azurite is not installed (npm ci installs it)\n',
    );
    return EXIT.usage;
  }
  const loaded = scenarioArgument('serve', values.scenario);
  if (loaded.exit !== undefined) return loaded.exit;
  const { scenario } = loaded;

  const respawned = runTrustingFakeCa();
  if (respawned) return respawned;

  const err = (line: string) => process.stderr.write(`${line}\n`);
  const verbose = values.verbose ? err : undefined;
  let azurite: Azurite | undefined;
  if (tableStorage === 'azurite') {
    try {
      azurite = await startAzurite();
    } catch (error) {
      err(`kiln serve: Azurite did not start (try --table-storage fake): ${(error as Error).message}`);
      return 1;
    }
  } else if (values['table-storage'] === undefined)
    err("kiln serve: Azurite is not installed: the app's tables are in the fake cloud's Table storage");
  // The fake cloud and the host, set up as a simulation that has not started yet: nothing is
  // triggered and no time passes until the live clock runs.
  let sim;
  try {
    sim = await runSimulation(
      { ...scenario, until: scenario.start, timers: false },
      {
        triggers: [],
        keepRunning: true,
        log: (line) => verbose?.(line),
        // The app reaches Azurite with its managed identity token, as its storage account in Azure.
        ...(azurite ? { settings: { KILN_TABLE_ENDPOINT: azurite.endpoint } } : {}),
      },
    );
  } catch (error) {
    await azurite?.stop();
    if (error instanceof SimulationError) {
      err(`kiln serve: ${error.message}`);
      return EXIT.usage;
    }
    throw error;
  }
  const { host } = sim;
  let front;
  try {
    front = await startHttpFront(host, { port, log: verbose });
  } catch (error) {
    await sim.close();
    await azurite?.stop();
    err(`kiln serve: cannot listen on 127.0.0.1:${port}: ${(error as Error).message}`);
    return EXIT.failed;
  }
  const clock = host.runner.clock as VirtualClock;
  const live = new LiveClock({
    host,
    clock,
    speed,
    timers: scenario.timers,
    onError: (error) => err(`kiln serve: ${error.message}`),
  });
  live.start();

  const key = host.functionKey;
  const info = {
    url: front.origin,
    key,
    dashboard: `${front.origin}/api/dashboard?code=${key}`,
    eventGrid: `${front.origin}${EVENT_GRID_WEBHOOK}?functionName=galleryVersionEvents&code=${key}`,
    // What a runner VM's bootstrap needs to try the registration broker: its own IMDS (the VM's
    // resource name in place of VM_NAME) and the audience to ask it for.
    imds: sim.cloud.imdsTokenUrl('VM_NAME'),
    imdsAttested: sim.cloud.imdsAttestedUrl('VM_NAME'),
    registrationAudience: REGISTRATION_AUDIENCE,
    tableStorage,
    tableEndpoint: azurite?.endpoint ?? sim.cloud.urls.tables,
    ...(azurite ? { azuritePid: azurite.pid } : {}),
    blobEndpoint: sim.cloud.urls.blobs,
    scenario: scenario.name,
    speed,
    start: scenario.start,
    pid: process.pid,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(info)}\n`);
  else
    process.stdout.write(
      [
        `kiln serve: scenario "${scenario.name}", clock from ${scenario.start} at ×${speed}${scenario.timers ? ', timers on' : ''}`,
        `  app          ${front.origin}/api/`,
        `  function key ${key}   (local only; send as x-functions-key or ?code=)`,
        `  dashboard    ${info.dashboard}`,
        `  event grid   POST ${info.eventGrid}`,
        `  runner VMs   GET ${info.imds}?api-version=2018-02-01&resource=${REGISTRATION_AUDIENCE} (Metadata: true),`,
        `               and GET ${info.imdsAttested}?api-version=2018-10-01&nonce=<10 digits> (Metadata: true),`,
        `               then POST ${front.origin}/api/registrations with the token and`,
        `               { "instance": "<computer name>", "attestedDocument": "<the answer's signature>" }`,
        `  tables       ${info.tableEndpoint} (${tableStorage === 'azurite' ? `Azurite, pid ${azurite!.pid}` : "the fake cloud's Table storage"}: the run history)`,
        `  reports      ${info.blobEndpoint}/${sim.cloud.world.names.softwareReportsContainer} (the fake cloud's Blob storage: each image's software report, GET ${front.origin}/api/images/linux/<version>/software)`,
        `  try          kiln status --app ${front.origin} --key ${key}`,
        'Ctrl+C stops.',
        '',
      ].join('\n'),
    );

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await live.stop();
  await front.close();
  await sim.close();
  await azurite?.stop();
  err('kiln serve: stopped');
  return EXIT.ok;
}
