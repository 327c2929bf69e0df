/**
 * The `kiln` command: parses the command line and dispatches to one module per command. Each command
 * answers --help with examples and its exit codes, from the one table every command shares
 * (exit-codes.ts).
 */
import { EXIT, exitCodesSummary } from './exit-codes.js';
import { decideCommand, startCommand, statusCommand } from './run-control.js';
import { serveCommand } from './serve.js';
import { simulateCommand } from './simulate.js';

type Command = (argv: string[]) => Promise<number>;

/** Every command by name; `kiln help NAME` and `kiln NAME --help` print the same help. */
const COMMANDS: Record<string, Command> = {
  simulate: simulateCommand,
  serve: serveCommand,
  status: statusCommand,
  rebuild: (argv) =>
    argv[0] === 'approve' || argv[0] === 'reject'
      ? decideCommand(argv[0], argv.slice(1))
      : startCommand('rebuild', argv),
  rollout: (argv) => startCommand('rollout', argv),
  cleanup: (argv) => startCommand('cleanup', argv),
  plan: async (argv) => (await import('./plan.js')).planCommand(argv),
  doctor: async (argv) => (await import('./doctor.js')).doctorCommand(argv),
  explore: async (argv) => (await import('./explore.js')).exploreCommand(argv),
};

/** The commands `kiln` dispatches, for the tests that go through each one's help. */
export const DISPATCHED_COMMANDS = Object.keys(COMMANDS);

const USAGE = `kiln — keeps self-hosted CI runner fleets on Azure fresh

Usage:
  kiln simulate [--scenario FILE] [--trigger cleanup,...] [--report text|json] [--dry-run]
  kiln serve [--scenario FILE] [--port N] [--speed X]
  kiln status [RUN] --app URL [--key KEY] [--follow] [--json]
  kiln rebuild|rollout|cleanup --app URL [--key KEY] [options] [--no-wait] [--json]
  kiln rebuild approve|reject ID --app URL [--key KEY] [--reason TEXT] [--follow]
  kiln plan [--settings FILE] [--scenario FILE] [--image linux|windows] [--version X.Y.Z] [--json]
  kiln doctor [--settings FILE] [--scenario FILE] [--json]
  kiln explore [--seeds N] [--seed S] [--minutes M] [--workers W] [--out DIR] [--json]
  kiln help [COMMAND]

Commands:
  simulate   Run kiln's real orchestrations against the embedded fake cloud on a virtual clock
             and print a report. Without --scenario, runs a built-in demo.
  serve      Serve the app's HTTP routes and the dashboard on 127.0.0.1 over the fake cloud, on a
             real or accelerated clock.
  status     Recent runs of a deployment (or of kiln serve), or one run in detail.
  rebuild    Start the image rebuild and follow it live; approve or reject one held for approval.
  rollout    Roll an image version onto the scale sets and follow it live.
  cleanup    Run fleet hygiene now and follow it live.
  plan       What a rebuild, rollout and cleanup would do now, as dry runs against the real
             Azure, GitHub and Azure DevOps of the current credentials (reads only), or with
             --scenario against the embedded fake cloud.
  doctor     Check a deployment (or with --scenario the embedded fake cloud): one line per
             check, ✓ or ✗ with the fix.
  explore    Run many small random worlds through the simulator, hunting for safety-invariant
             violations; shrink each one found to a small scenario file.

Run "kiln help COMMAND" for a command's options, examples and exit codes.

${exitCodesSummary()}`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && Object.hasOwn(COMMANDS, command)) return COMMANDS[command]!(rest);
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      if (rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0])) return COMMANDS[rest[0]]!(['--help']);
      if (rest[0] !== undefined) {
        process.stderr.write(`kiln help: unknown command "${rest[0]}"\n\n${USAGE}`);
        return EXIT.usage;
      }
      process.stdout.write(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      process.stderr.write(`kiln: unknown command "${command}"\n\n${USAGE}`);
      return EXIT.usage;
  }
}
