// The objects a data patch reaches (Katana §3 "following pointers"), found in snapshots taken while
// every thread is stopped: the moved globals, the globals updated in place, and every heap block a
// followed pointer reaches, transitively (a 10,000-node list, a tree), each old address once
// however many pointers reach it. A pointer is resolved in this order: NULL stays NULL; an address
// already reached; the old storage of a moved global (and each element of a moved array); the
// start of a live glibc heap block (heap-blocks.ts) big enough for one old object and no more. Any
// other value (the stack, the middle of a block, a freed block, unmapped memory) is left alone and
// reported. Discovery runs each object's program at once into its new image, recording where the
// followed pointers sit in it; `resolvePointers` writes their new values once the new blocks exist.
import { DataTransformError } from './errors.js';
import type { HeapBlocks } from './heap-blocks.js';
import { type TransformProgram, writeU64 } from './transform-vm.js';

/** A heap block the patch transforms: moved to a new block, or (a type whose layout stayed) updated where it is. */
export interface HeapObject {
  old: number;
  type: number;
  /** malloc_usable_size of the old block. */
  usable: number;
  inPlace: boolean;
  /** Index of its new image in its type's image buffer. */
  slot: number;
  /** Its new address, once allocated (the old one when in place). */
  address?: number;
}

/** A pointer that was not followed. */
export interface LeftAlonePointer {
  from: string;
  value: bigint;
  reason: string;
}

/** Where a followed pointer's new value goes: an image (a root's, or a type's heap images) and the offset in it. */
interface Fixup {
  image: Uint8Array | ImageBuffer;
  at: number;
  old: number;
}

/** Where a pointer to a moved or in-place global's object resolves. */
interface GlobalObject {
  type: number;
  address: number;
}

/** Images of one type's heap objects, grown by doubling. */
class ImageBuffer {
  bytes: Uint8Array;
  count = 0;

  constructor(readonly size: number) {
    this.bytes = new Uint8Array(size * 64);
  }

  add(): number {
    if ((this.count + 1) * this.size > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    return this.count++;
  }
}

/** The graph of one apply. */
export class ObjectGraph {
  readonly objects: HeapObject[] = [];
  readonly leftAlone: LeftAlonePointer[] = [];
  nulls = 0;
  private leftAloneCount = 0;
  private readonly byOld = new Map<number, HeapObject>();
  private readonly globals = new Map<number, GlobalObject>();
  private readonly images: ImageBuffer[];
  private readonly fixups: Fixup[] = [];
  private readonly queue: HeapObject[] = [];

  constructor(
    private readonly programs: readonly TransformProgram[],
    private readonly heap: HeapBlocks | undefined,
    private readonly typeNames: readonly string[],
  ) {
    this.images = programs.map((p) => new ImageBuffer(p.newSize));
  }

  /** How many pointers were left alone (leftAlone keeps the first few). */
  get leftAloneTotal(): number {
    return this.leftAloneCount;
  }

  /** Declares the object of `type` at old address `old`, which lives at `address` after the patch (a global element). */
  addGlobal(old: bigint, type: number, address: bigint): void {
    this.globals.set(Number(old), { type, address: Number(address) });
  }

  /**
   * Runs `type`'s program on one root object (old bytes at `sourceAt` of `source`) into `image` at
   * `at`, following its pointers; `what` names it.
   */
  visitRoot(type: number, source: Uint8Array, sourceAt: number, image: Uint8Array, at: number, what: string): void {
    this.programs[type]!.run(source, sourceAt, image, at, what, (offset, value, pointee) => this.reach(value, pointee, image, at + offset, () => what));
  }

  /** A root pointer (a pointer variable or element) stored at `at` of `image`, to an object of `type`. */
  visitPointer(value: bigint, type: number, image: Uint8Array, at: number, what: string): void {
    this.reach(value, type, image, at, () => what);
  }

  /** Visits every heap object reached so far and what they reach in turn. */
  drain(): void {
    const scratch = this.programs.map((p) => new Uint8Array(p.newSize));
    for (let object = this.queue.pop(); object; object = this.queue.pop()) {
      const current = object;
      const program = this.programs[current.type]!;
      const source = this.heap!.read(BigInt(current.old), program.oldSize);
      if (!source) throw new DataTransformError(`the heap block at 0x${current.old.toString(16)} cannot be read from the snapshot`);
      const buffer = this.images[current.type]!;
      const at = current.slot * program.newSize;
      // The program runs into a scratch image: following a pointer may grow (reallocate) the buffer.
      // An object updated in place starts as itself (rows that keep bytes keep its own), a moved one as zeros.
      const image = scratch[current.type]!;
      if (current.inPlace) image.set(source.subarray(0, program.newSize));
      else image.fill(0);
      const what = (): string => `${this.typeNames[current.type]} at 0x${current.old.toString(16)}`;
      program.run(source, 0, image, 0, this.typeNames[current.type]!, (offset, value, pointee) => this.reach(value, pointee, buffer, at + offset, what));
      buffer.bytes.set(image, at);
    }
  }

  /** The image buffer of `type`'s heap objects (valid after drain). */
  imagesOf(type: number): Uint8Array {
    return this.images[type]!.bytes;
  }

  /** Writes the new address of what each followed pointer reaches into the images. */
  resolvePointers(): void {
    for (const f of this.fixups) {
      const object = this.byOld.get(f.old);
      const target = object ? object.address : this.globals.get(f.old)?.address;
      if (target === undefined) throw new DataTransformError(`the heap block at 0x${f.old.toString(16)} was never given a new address`);
      writeU64(f.image instanceof ImageBuffer ? f.image.bytes : f.image, f.at, BigInt(target));
    }
  }

  private reach(value: bigint, type: number, image: Uint8Array | ImageBuffer, at: number, from: () => string): void {
    if (value === 0n) {
      this.nulls++;
      return;
    }
    const old = Number(value);
    const known = this.byOld.get(old);
    if (known) {
      if (known.type !== type) this.conflict(old, known.type, type, from);
      this.fixups.push({ image, at, old });
      return;
    }
    const global = this.globals.get(old);
    if (global) {
      if (this.typeNames[global.type] !== this.typeNames[type]) this.conflict(old, global.type, type, from);
      this.fixups.push({ image, at, old });
      return;
    }
    const block = this.heap?.blockAt(value);
    if (!block || 'rejected' in block) {
      this.leaveAlone(from, value, block ? block.rejected : 'not a global the patch moves');
      return;
    }
    const program = this.programs[type]!;
    if (block.usable < program.oldSize) {
      this.leaveAlone(from, value, `a ${block.usable}-byte heap block, smaller than ${this.typeNames[type]} (${program.oldSize} bytes)`);
      return;
    }
    if (block.usable >= 2 * program.oldSize && block.usable > usableSizeFor(program.oldSize)) {
      throw new DataTransformError(
        `${from()} points to a ${block.usable}-byte heap block at 0x${old.toString(16)}, room for more than one ${this.typeNames[type]} (${program.oldSize} bytes); katana transforms heap blocks holding one object, not arrays`,
      );
    }
    const object: HeapObject = { old, type, usable: block.usable, inPlace: program.isIdentity, slot: this.images[type]!.add() };
    if (object.inPlace) object.address = old;
    this.objects.push(object);
    this.byOld.set(old, object);
    this.queue.push(object);
    this.fixups.push({ image, at, old });
  }

  private leaveAlone(from: () => string, value: bigint, reason: string): void {
    this.leftAloneCount++;
    if (this.leftAlone.length < 5) this.leftAlone.push({ from: from(), value, reason });
  }

  private conflict(old: number, a: number, b: number, from: () => string): never {
    throw new DataTransformError(`${from()} reaches the object at 0x${old.toString(16)} as ${this.typeNames[b]}, but it was reached as ${this.typeNames[a]} before`);
  }
}

/** malloc_usable_size of glibc's block for a request of `size` bytes (x86-64: 16-byte chunks, 8-byte header, 32-byte minimum). */
export function usableSizeFor(size: number): number {
  return Math.max(32, (size + 8 + 15) & ~15) - 8;
}
