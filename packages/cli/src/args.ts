// Thin wrapper over node:util parseArgs that turns its exceptions into UsageError, so a mistyped
// option ends in one line naming the option, like every other error.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** Parses `argv` for one command; unknown options and missing values raise UsageError. */
export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0]!.replace(/\.$/, '') : String(error);
    throw new UsageError(`katana ${command}: ${detail}; see 'katana help'`);
  }
}

/** Parses a decimal pid, rejecting anything else with the option named in the message. */
export function parsePid(value: string | undefined): number {
  if (value === undefined) throw new UsageError('--pid PID is required');
  if (!/^[1-9][0-9]*$/.test(value)) throw new UsageError(`--pid '${value}' is not a process id`);
  return Number(value);
}

/** Parses a non-negative number of seconds (e.g. "2", "0.5") into milliseconds. */
export function parseSeconds(option: string, value: string): number {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) throw new UsageError(`${option} '${value}' is not a number of seconds`);
  return Math.round(Number(value) * 1000);
}
