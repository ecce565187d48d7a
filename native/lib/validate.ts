// Argument checks shared by the wrappers: the addon trusts what it is given, so every value that
// crosses into C++ is checked here first. A failed check is a programming error (TypeError or
// RangeError), not a PtraceError.
import { SIGRTMAX } from './constants.js';

const U64_MAX = (1n << 64n) - 1n;

/** Throws unless `tid` is a positive 32-bit integer. */
export function checkTid(tid: number, what = 'tid'): void {
  if (!Number.isInteger(tid) || tid <= 0 || tid > 0x7fffffff) throw new RangeError(`${what} must be a positive integer, got ${tid}`);
}

/** Throws unless `signal` is 0 (none) or a signal number 1..64. */
export function checkSignal(signal: number): void {
  if (!Number.isInteger(signal) || signal < 0 || signal > SIGRTMAX) throw new RangeError(`signal must be 0..${SIGRTMAX}, got ${signal}`);
}

/** Throws unless `flags` is a non-negative 32-bit integer. */
export function checkFlags(flags: number, what: string): void {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0x7fffffff) throw new RangeError(`${what} must be a non-negative 32-bit integer, got ${flags}`);
}

/** Throws unless [address, address + length) lies inside the 64-bit address space. */
export function checkRange(address: bigint, length: number): void {
  if (typeof address !== 'bigint') throw new TypeError(`address must be a bigint, got ${typeof address}`);
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`length must be a non-negative integer, got ${length}`);
  if (address < 0n || address + BigInt(length) - 1n > U64_MAX) throw new RangeError(`address range 0x${address.toString(16)}+${length} is outside 0..2^64-1`);
}
