// `katana apply --exe PATH PO`: the deploy form of apply. The PO is read once and applied to every
// process running the file PATH (exe-processes.ts), one after the other (ptrace calls must come from
// one thread). Each process gets one JSON line on stdout, so a deploy tool can act per host and per
// process; a failure on one never stops the others, and each failed process is left as it was.
import { basename } from 'node:path';
import { isKatanaError, KatanaError } from '@katana/errors';
import type { PatchObject } from '@katana/po';
import { EXIT_ERROR, EXIT_OK } from './exit-codes.js';
import { processesRunning } from './exe-processes.js';
import { toJson } from './json.js';

/** No process runs the file: nothing was patched (exit 6, code E_EXE_NOT_RUNNING). */
export class NoProcessError extends KatanaError {
  constructor(path: string, replaced: number) {
    super('E_EXE_NOT_RUNNING', `no running process has ${path} as its executable${replaced ? ` (${replaced} run a replaced earlier file at that path)` : ''}`);
  }
}

/** Applies `po` to every process running `path`; prints a JSON line per process; returns the exit code. */
export async function applyToExecutable(path: string, po: PatchObject, id: string, poName: string, timeoutMs: number | undefined): Promise<number> {
  const { applyPatch } = await import('@katana/applier');
  const { running, replaced } = processesRunning(path);
  for (const pid of replaced) {
    const message = `pid ${pid} runs an earlier file at ${path} that was replaced on disk; not patched (use katana apply --pid ${pid} if the PO is for its build)`;
    process.stdout.write(`${toJson({ pid, ok: false, skipped: true, code: 'E_EXE_REPLACED', message })}\n`);
  }
  if (running.length === 0) throw new NoProcessError(path, replaced.length);
  let failed = 0;
  for (const pid of running) {
    try {
      const report = applyPatch({ pid, po, poName: basename(poName), id, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
      process.stdout.write(`${toJson({ ok: true, code: 'OK', message: `patched pid ${pid}`, ...report })}\n`);
    } catch (error) {
      failed++;
      const code = isKatanaError(error) ? error.code : 'E_INTERNAL';
      const message = error instanceof Error ? error.message : String(error);
      process.stdout.write(`${toJson({ pid, ok: false, code, message })}\n`);
      process.stderr.write(`katana apply: pid ${pid}: ${message}\n`);
    }
  }
  return failed === 0 ? EXIT_OK : EXIT_ERROR;
}
