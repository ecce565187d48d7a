// Is the process that wrote a journal still the one running under its pid? A pid alone can be
// reused; the pair (pid, start time in clock ticks since boot, /proc/PID/stat field 22) cannot.
import { readFileSync } from 'node:fs';

/** The start time of a process in clock ticks, undefined when there is no such process. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) is in parentheses and may contain spaces: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True while the process `pid` that started at `startTicks` runs. */
export function isSameProcessRunning(pid: number, startTicks: string): boolean {
  return processStartTicks(pid) === startTicks;
}
