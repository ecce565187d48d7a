// `katana`: the command-line entry. Dispatches to one command, and turns whatever it throws into
// one line on stderr and an exit code (exit-codes.ts); a stack trace only with KATANA_DEBUG=1.
import { setPriority } from 'node:os';
import { isKatanaError } from '@katana/errors';
import { applyCommand, applyUsage } from './commands/apply.js';
import { checkCommand, checkUsage } from './commands/check.js';
import { composeCommand, composeUsage } from './commands/compose.js';
import { diffCommand, diffUsage } from './commands/diff.js';
import { hookCommand, hookUsage } from './commands/hook.js';
import { inspectCommand, inspectUsage } from './commands/inspect.js';
import { listCommand, listUsage } from './commands/list.js';
import { watchCommand, watchUsage } from './commands/watch.js';
import { rollbackCommand, rollbackUsage } from './commands/rollback.js';
import { exitCodeFor, EXIT_USAGE } from './exit-codes.js';
import { toJson } from './json.js';

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  diff: diffCommand,
  inspect: inspectCommand,
  apply: applyCommand,
  list: listCommand,
  check: checkCommand,
  watch: watchCommand,
  hook: hookCommand,
  rollback: rollbackCommand,
  compose: composeCommand,
};

const usage = `usage:
  ${diffUsage}
  ${inspectUsage}
  ${applyUsage}
  ${listUsage}
  ${checkUsage}
  ${watchUsage}
  ${hookUsage}
  ${rollbackUsage}
  ${composeUsage}

exit codes: 0 ok, 1 error, 2 the change cannot be patched, 3 nothing to patch (or to roll back), 4 already applied,
  5 blocked: a thread is in code the patch replaces (apply, rollback: for all of --timeout), 6 no process runs --exe PATH, 64 usage`;

/** Commands that stop a running target: they run at a raised priority from the start (see raisePriority). */
const PROCESS_COMMANDS = new Set(['apply', 'check', 'rollback']);

/**
 * nice -20 before the command's modules even load: next to a target spinning on every core, a
 * tracer at normal priority gets a sliver of CPU, and its start-up alone (Node and its ES modules)
 * took over a minute next to 64 spinning threads. The applier goes further (SCHED_FIFO) while it
 * works; without CAP_SYS_NICE this does nothing and everything still works, more slowly.
 */
function raisePriority(): void {
  try {
    setPriority(-20);
  } catch {
    // EACCES/EPERM without CAP_SYS_NICE.
  }
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${usage}\n`);
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = commands[name];
  if (PROCESS_COMMANDS.has(name)) raisePriority();
  if (!command) {
    process.stderr.write(`katana: unknown command '${name}'\n${usage}\n`);
    return EXIT_USAGE;
  }
  try {
    return await command(rest);
  } catch (error) {
    return report(error, rest.includes('--json'));
  }
}

function report(error: unknown, json: boolean): number {
  const code = exitCodeFor(error);
  if (isKatanaError(error)) {
    process.stderr.write(`katana: ${error.message}\n`);
    if (json) process.stdout.write(`${toJson({ ok: false, code: error.code, message: error.message })}\n`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`katana: internal error: ${message} (this is a bug in katana; KATANA_DEBUG=1 shows where)\n`);
    if (json) process.stdout.write(`${toJson({ ok: false, code: 'E_INTERNAL', message })}\n`);
  }
  if (process.env.KATANA_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return code;
}

process.exitCode = await main(process.argv.slice(2));
