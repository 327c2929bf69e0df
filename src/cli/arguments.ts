/**
 * The argument handling every `kiln` command shares: strict parsing (an unknown or malformed option
 * is an error naming it, followed by the command's help, exit 2) and `--help`/`-h` (the help on
 * standard output, exit 0). A command receives typed values or the exit code to return.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & { help: { type: 'boolean'; short: 'h' } }; strict: true }>
>['values'];

export type CommandArguments<O extends Options> = { values: Parsed<O>; exit?: undefined } | { exit: 0 | 2 };

/** Parses `argv` for `kiln <command>` with these options (plus --help); no positional arguments. */
export function parseCommandArguments<const O extends Options>(
  command: string,
  argv: string[],
  options: O,
  help: string,
): CommandArguments<O> {
  let values: Parsed<O>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } as const },
      strict: true,
      allowPositionals: false,
    }) as { values: Parsed<O> });
  } catch (error) {
    process.stderr.write(`kiln ${command}: ${(error as Error).message}\n\n${help}`);
    return { exit: 2 };
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(help);
    return { exit: 0 };
  }
  return { values };
}
