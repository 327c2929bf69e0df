/**
 * The `kiln` command: parses the command line and dispatches. Exit codes: 0 success, 1 a safety
 * invariant broke or a run failed, 2 bad arguments or a bad scenario file.
 */
import { serveCommand } from './serve.js';
import { simulateCommand } from './simulate.js';

export const USAGE = `kiln — keeps self-hosted CI runner fleets on Azure fresh

Usage:
  kiln simulate [--scenario FILE] [--trigger cleanup,...] [--report text|json] [--dry-run]
  kiln help [COMMAND]

Commands:
  simulate   Run kiln's real orchestrations against the embedded fake cloud on a virtual clock
             and print a report. Without --scenario, runs a built-in demo.

Exit codes: 0 success · 1 a safety invariant broke or a run failed · 2 bad arguments or scenario
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'simulate':
      return simulateCommand(rest);
    case 'serve':
      return serveCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      if (rest[0] === 'simulate') return simulateCommand(['--help']);
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`kiln: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
