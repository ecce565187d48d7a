// ProcessMemory: reads and writes another process's memory through pread/pwrite on /proc/PID/mem.
// Unlike process_vm_writev this writes through page protections, so it patches read-only text. The
// caller must be allowed to ptrace the process (it is seized, or we are root). A short transfer is
// an error, reported with the address and length.
import { native } from './binding.js';
import { PtraceError, isPtraceError } from './errors.js';
import { checkRange, checkTid } from './validate.js';

/** An open /proc/PID/mem; close() it when done. */
export class ProcessMemory {
  readonly pid: number;
  #fd: number;

  /** Opens /proc/PID/mem read-write; throws PtraceError (e.g. ENOENT, EACCES). */
  constructor(pid: number) {
    checkTid(pid, 'pid');
    this.pid = pid;
    this.#fd = native.memOpen(pid);
  }

  /** Reads exactly `length` bytes at `addr`; throws PtraceError if any of them cannot be read. */
  read(addr: bigint, length: number): Uint8Array {
    checkRange(addr, length);
    const bytes = new Uint8Array(length);
    if (length > 0) this.#transfer('read', addr, bytes);
    return bytes;
  }

  /** Reads exactly `bytes.length` bytes at `addr` into `bytes` (a view into a larger buffer, say); throws like read. */
  readInto(addr: bigint, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('readInto needs a Uint8Array');
    checkRange(addr, bytes.length);
    if (bytes.length > 0) this.#transfer('read', addr, bytes);
  }

  /** Like read, but null when the range is not (wholly) mapped (EIO or EFAULT). */
  tryRead(addr: bigint, length: number): Uint8Array | null {
    try {
      return this.read(addr, length);
    } catch (error) {
      if (isPtraceError(error, 'EIO', 'EFAULT')) return null;
      throw error;
    }
  }

  /** Writes all of `bytes` at `addr`, read-only pages included; throws PtraceError otherwise. */
  write(addr: bigint, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('write needs a Uint8Array');
    checkRange(addr, bytes.length);
    if (bytes.length > 0) this.#transfer('write', addr, bytes);
  }

  /** Closes the file; later calls throw. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    native.memClose(fd, this.pid);
  }

  #transfer(direction: 'read' | 'write', addr: bigint, bytes: Uint8Array): void {
    if (this.#fd < 0) throw new TypeError(`ProcessMemory of ${this.pid} is closed`);
    try {
      if (direction === 'read') native.memRead(this.#fd, this.pid, addr, bytes);
      else native.memWrite(this.#fd, this.pid, addr, bytes);
    } catch (error) {
      if (!(error instanceof PtraceError)) throw error;
      const where = `at 0x${addr.toString(16)} (${bytes.length} bytes)`;
      throw new PtraceError(error.syscall, this.pid, error.errno, error.description, where, { cause: error });
    }
  }
}
