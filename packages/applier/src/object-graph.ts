// The objects a data patch reaches (Katana §3 "following pointers"), found in snapshots taken while
// every thread is stopped: the moved globals, the globals updated in place, and every heap block a
// followed pointer reaches, transitively (a 10,000-node list, a tree), each old address once
// however many pointers reach it. A pointer is resolved in this order: NULL stays NULL; the old
// storage of a moved global (and each element of a moved array); the start of a live glibc heap
// block (heap-blocks.ts) big enough for one old object and no more, reached before or new. Any other
// value (the stack, the middle of a block, a freed block, unmapped memory) is left alone and
// reported. Discovery runs each object's program at once into its new image, recording where the
// followed pointers sit in it; `resolvePointers` writes their new values once the new blocks exist.
// A million-node list is the case to be fast for: objects and pointer fixups live in typed arrays
// (no object, BigInt or Map entry per node), and a block already reached is found through a
// per-heap array indexed by its chunk's 16-byte granule.
import { DataTransformError } from './errors.js';
import type { HeapBlocks } from './heap-blocks.js';
import type { TransformProgram } from './transform-vm.js';

/** How many pointers left alone a graph (and a data report) names as examples. */
export const LEFT_ALONE_EXAMPLES = 5;

/** A pointer that was not followed. */
export interface LeftAlonePointer {
  from: string;
  value: bigint;
  reason: string;
}

/** A growable array of numbers, typed. */
class Column<T extends Float64Array | Int32Array> {
  length = 0;

  constructor(public values: T, private readonly make: (n: number) => T) {}

  push(value: number): number {
    if (this.length === this.values.length) {
      const grown = this.make(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length] = value;
    return this.length++;
  }
}

const floats = (n: number) => new Float64Array(n);
const ints = (n: number) => new Int32Array(n);

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

/** The graph of one apply. Heap objects are numbered in the order they are reached. */
export class ObjectGraph {
  readonly leftAlone: LeftAlonePointer[] = [];
  nulls = 0;
  leftAloneTotal = 0;
  // Heap objects, by number: old address, type, malloc_usable_size, slot in the type's images, new address.
  private readonly old = new Column(floats(1024), floats);
  private readonly type = new Column(ints(1024), ints);
  private readonly usable = new Column(ints(1024), ints);
  private readonly slot = new Column(ints(1024), ints);
  private address = new Float64Array(0);
  // Per heap region, object number + 1 of the block at each granule (0: not reached yet).
  private readonly reached = new Map<number, Int32Array>();
  // Globals: old address → new address and type.
  private readonly globals = new Map<number, { type: number; address: number; index: number }>();
  private readonly globalAddresses: number[] = [];
  // Fixups: image (k ≥ 0: type k's heap images; −1 − r: root image r), offset in it, target
  // (object number, or −1 − g for global g).
  private readonly fixupImage = new Column(ints(1024), ints);
  private readonly fixupAt = new Column(floats(1024), floats);
  private readonly fixupTarget = new Column(ints(1024), ints);
  private readonly roots: Uint8Array[] = [];
  private readonly images: ImageBuffer[];
  private readonly queue = new Column(ints(1024), ints);

  constructor(
    private readonly programs: readonly TransformProgram[],
    private readonly heap: HeapBlocks | undefined,
    private readonly typeNames: readonly string[],
  ) {
    this.images = programs.map((p) => new ImageBuffer(p.newSize));
  }

  /** How many heap objects were reached. */
  get count(): number {
    return this.old.length;
  }

  oldAddressOf(object: number): number {
    return this.old.values[object]!;
  }

  typeOf(object: number): number {
    return this.type.values[object]!;
  }

  usableOf(object: number): number {
    return this.usable.values[object]!;
  }

  /** Whether the object keeps its place (its type's layout did not change). */
  isInPlace(object: number): boolean {
    return this.programs[this.type.values[object]!]!.isIdentity;
  }

  /** Copies the new image of an object into `target` at `at` (no view per object: a million of them add up). */
  copyImageInto(object: number, target: Uint8Array, at: number): void {
    const type = this.type.values[object]!;
    const size = this.programs[type]!.newSize;
    const bytes = this.images[type]!.bytes;
    const from = this.slot.values[object]! * size;
    for (let i = 0; i < size; i++) target[at + i] = bytes[from + i]!;
  }

  /** The size of an object's new image. */
  newSizeOf(object: number): number {
    return this.programs[this.type.values[object]!]!.newSize;
  }

  /** The new address of an object: its new block, or where it is when in place. */
  newAddressOf(object: number): number {
    return this.isInPlace(object) ? this.old.values[object]! : this.address[object]!;
  }

  /** Sets the new addresses of the moved objects (numbers `objects`), from `blocks` in the same order. */
  place(objects: readonly number[] | Int32Array, blocks: BigUint64Array): void {
    if (this.address.length < this.count) {
      const grown = new Float64Array(this.count);
      grown.set(this.address);
      this.address = grown;
    }
    // The low and high 32-bit halves of each block address, without a BigInt per block.
    const words = new Uint32Array(blocks.buffer, blocks.byteOffset, blocks.length * 2);
    for (let i = 0; i < objects.length; i++) this.address[objects[i]!] = words[2 * i]! + words[2 * i + 1]! * 0x100000000;
  }

  /** Declares the object of `type` at old address `old`, which lives at `address` after the patch (a global element). */
  addGlobal(old: bigint, type: number, address: bigint): void {
    const index = this.globalAddresses.push(Number(address)) - 1;
    this.globals.set(Number(old), { type, address: Number(address), index });
  }

  /** Runs `type`'s program on one root object (old bytes at `sourceAt` of `source`) into `image` at `at`, following its pointers; `what` names it. */
  visitRoot(type: number, source: Uint8Array, sourceAt: number, image: Uint8Array, at: number, what: string): void {
    const id = this.rootId(image);
    this.programs[type]!.run(source, sourceAt, image, at, what, (offset, value, pointee) => this.reach(value, pointee, id, at + offset, () => what));
  }

  /** A root pointer (a pointer variable or element) stored at `at` of `image`, to an object of `type`. */
  visitPointer(value: number, type: number, image: Uint8Array, at: number, what: string): void {
    this.reach(value, type, this.rootId(image), at, () => what);
  }

  /** Visits every heap object reached so far and what they reach in turn. */
  drain(): void {
    const scratch = this.programs.map((p) => new Uint8Array(p.newSize));
    while (this.queue.length > 0) {
      const object = this.queue.values[--this.queue.length]!;
      const type = this.type.values[object]!;
      const program = this.programs[type]!;
      const old = this.old.values[object]!;
      const source = this.heap!.read(old, program.oldSize);
      if (!source) throw new DataTransformError(`the heap block at 0x${old.toString(16)} cannot be read from the snapshot`);
      const buffer = this.images[type]!;
      const at = this.slot.values[object]! * program.newSize;
      // The program runs into a scratch image: following a pointer may grow (reallocate) the buffer.
      // An object updated in place starts as itself (rows that keep bytes keep its own), a moved one as zeros.
      const image = scratch[type]!;
      if (program.isIdentity) image.set(source.subarray(0, program.newSize));
      else image.fill(0);
      const what = (): string => `${this.typeNames[type]} at 0x${old.toString(16)}`;
      program.run(source, 0, image, 0, this.typeNames[type]!, (offset, value, pointee) => this.reach(value, pointee, type, at + offset, what));
      buffer.bytes.set(image, at);
    }
  }

  /** Writes the new address of what each followed pointer reaches into the images. */
  resolvePointers(): void {
    const views = new Map<number, DataView>();
    const viewOf = (image: number): DataView => {
      let view = views.get(image);
      if (!view) {
        const bytes = image >= 0 ? this.images[image]!.bytes : this.roots[-1 - image]!;
        view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        views.set(image, view);
      }
      return view;
    };
    for (let i = 0; i < this.fixupImage.length; i++) {
      const target = this.fixupTarget.values[i]!;
      const address = target >= 0 ? this.newAddressOf(target) : this.globalAddresses[-1 - target]!;
      const view = viewOf(this.fixupImage.values[i]!);
      const at = this.fixupAt.values[i]!;
      view.setUint32(at, address % 0x100000000, true);
      view.setUint32(at + 4, Math.floor(address / 0x100000000), true);
    }
  }

  private rootId(image: Uint8Array): number {
    let index = this.roots.indexOf(image);
    if (index < 0) index = this.roots.push(image) - 1;
    return -1 - index;
  }

  private reach(old: number, type: number, image: number, at: number, from: () => string): void {
    if (old === 0) {
      this.nulls++;
      return;
    }
    // User-space addresses are below 2^47; anything above is not a pointer into the process.
    if (old >= 2 ** 53) {
      this.leaveAlone(from, old, 'not an address in the process');
      return;
    }
    const global = this.globals.size > 0 ? this.globals.get(old) : undefined;
    if (global) {
      if (this.typeNames[global.type] !== this.typeNames[type]) this.conflict(old, global.type, type, from);
      this.fixup(image, at, -1 - global.index);
      return;
    }
    const block = this.heap?.blockAt(old);
    if (!block || 'rejected' in block) {
      this.leaveAlone(from, old, block ? block.rejected : 'not a global the patch moves');
      return;
    }
    let reached = this.reached.get(block.region);
    if (!reached) {
      reached = new Int32Array(this.heap!.granules(block.region));
      this.reached.set(block.region, reached);
    }
    const known = reached[block.granule]!;
    if (known > 0) {
      if (this.type.values[known - 1] !== type) this.conflict(old, this.type.values[known - 1]!, type, from);
      this.fixup(image, at, known - 1);
      return;
    }
    const program = this.programs[type]!;
    if (block.usable < program.oldSize) {
      this.leaveAlone(from, old, `a ${block.usable}-byte heap block, smaller than ${this.typeNames[type]} (${program.oldSize} bytes)`);
      return;
    }
    if (block.usable >= 2 * program.oldSize && block.usable > usableSizeFor(program.oldSize)) {
      throw new DataTransformError(
        `${from()} points to a ${block.usable}-byte heap block at 0x${old.toString(16)}, room for more than one ${this.typeNames[type]} (${program.oldSize} bytes); katana transforms heap blocks holding one object, not arrays`,
      );
    }
    const object = this.old.push(old);
    this.type.push(type);
    this.usable.push(block.usable);
    this.slot.push(this.images[type]!.add());
    reached[block.granule] = object + 1;
    this.queue.push(object);
    this.fixup(image, at, object);
  }

  private fixup(image: number, at: number, target: number): void {
    this.fixupImage.push(image);
    this.fixupAt.push(at);
    this.fixupTarget.push(target);
  }

  private leaveAlone(from: () => string, value: number, reason: string): void {
    this.leftAloneTotal++;
    if (this.leftAlone.length < LEFT_ALONE_EXAMPLES) this.leftAlone.push({ from: from(), value: BigInt(value), reason });
  }

  private conflict(old: number, a: number, b: number, from: () => string): never {
    throw new DataTransformError(`${from()} reaches the object at 0x${old.toString(16)} as ${this.typeNames[b]}, but it was reached as ${this.typeNames[a]} before`);
  }
}

/** malloc_usable_size of glibc's block for a request of `size` bytes (x86-64: 16-byte chunks, 8-byte header, 32-byte minimum). */
export function usableSizeFor(size: number): number {
  return Math.max(32, (size + 8 + 15) & ~15) - 8;
}
