// Finds the allocator a process uses: the malloc and free that ld.so binds the program's calls to,
// and the address ranges of the allocator's code. Lookup follows ld.so: each name is taken from the
// first module in symbol search order (link-map.ts) that defines it, the executable first (its
// .dynsym, then its .symtab: a program may define its own malloc; a static executable has nothing
// else), then each library's .dynsym. Addresses the patch carries (`provided`: for stripped
// targets, already relocated) win over the lookup.
//
// The ranges are for the safety check: the applier must not call malloc while another thread is
// inside the allocator, or the call would wait forever on the arena lock that thread holds. They
// are every public entry point found (and glibc's internal aliases such as __libc_malloc), plus,
// where the allocator's module has a .symtab (static executables, libc with debug symbols), every
// local function of glibc's malloc.o (_int_malloc, _int_free, sysmalloc, malloc_consolidate,
// arena_get2, tcache_init, ...). A thread inside _int_malloc has a malloc (or calloc, realloc...)
// frame above it, which the safety check's unwinder finds, so for a dynamic libc whose .symtab is
// stripped (Debian's is) the entry points suffice.
import { SHN_UNDEF, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FUNC, type ElfSymbol } from '@katana/elf';
import type { ProcessMemory } from '@katana/ptrace';
import { ApplierError } from './errors.js';
import { searchOrder } from './link-map.js';
import type { Module, ProcessModel } from './process.js';

/** The public functions of a malloc implementation (C11, POSIX, glibc extensions), most used first. */
export const ALLOCATOR_ENTRY_POINTS = [
  'malloc', 'free', 'calloc', 'realloc', 'reallocarray', 'memalign', 'posix_memalign', 'aligned_alloc', 'valloc', 'pvalloc',
  'malloc_trim', 'malloc_usable_size', 'mallinfo', 'mallinfo2', 'mallopt', 'malloc_stats', 'malloc_info',
] as const;

// glibc's global names for the same code and its non-public entry points (malloc/malloc.c of 2.36,
// as `nm` of a static executable shows them): ld.so and libc call these directly.
const GLIBC_ALIASES = [
  '__libc_malloc', '__libc_free', '__libc_calloc', '__libc_realloc', '__libc_memalign', '__libc_valloc', '__libc_pvalloc',
  '__libc_mallinfo', '__libc_mallinfo2', '__libc_mallopt', '__posix_memalign', '__malloc_trim', '__malloc_usable_size',
  '__malloc_stats', '__malloc_info', '__malloc_fork_lock_parent', '__malloc_fork_unlock_parent', '__malloc_fork_unlock_child',
  '__malloc_arena_thread_freeres',
];

// glibc's internal functions, found by name when the .symtab has no file symbol for malloc.o.
const GLIBC_INTERNALS = [
  '_int_malloc', '_int_free', '_int_realloc', '_int_memalign', '_mid_memalign', 'malloc_consolidate', 'sysmalloc', 'sysmalloc_mmap',
  'sysmalloc_mmap_fallback', 'systrim', 'tcache_init', 'tcache_thread_shutdown', 'arena_get2', 'arena_get_retry', '_int_new_arena',
  'new_heap', 'alloc_new_heap', 'shrink_heap', 'heap_trim', 'reused_arena', 'get_free_list', 'detach_arena', 'munmap_chunk',
  'mremap_chunk', 'unlink_chunk', 'ptmalloc_init', 'malloc_printerr', 'int_mallinfo', '__glibc_morecore',
];

// The STT_FILE name glibc's malloc.c leaves in a .symtab ("malloc.o" in a static link).
const MALLOC_FILE = /^malloc\.[co]$/;

/** An address range of allocator code, [start, end). */
export interface AllocatorRange {
  name: string;
  start: bigint;
  end: bigint;
}

/** The allocator of a process. */
export interface Allocator {
  malloc: bigint;
  free: bigint;
  /** Entry points and internals, by start address, one range per address (aliases merged). */
  ranges: AllocatorRange[];
}

/** A function address the patch carries for a stripped target, already relocated. */
export interface ProvidedFunction {
  name: string;
  address: bigint;
  size: number;
}

/** Neither the process's modules nor the patch say where malloc or free is. */
export class AllocatorNotFoundError extends ApplierError {
  constructor(readonly pid: number, readonly missing: string) {
    super(
      `pid ${pid} has no ${missing} in its executable or libraries (a stripped static executable? the patch can carry its address)`,
      undefined,
      'E_NO_ALLOCATOR',
    );
  }
}

/** The malloc and free `model`'s process uses and the ranges of its allocator's code. */
export function findAllocator(model: ProcessModel, memory: ProcessMemory, provided: readonly ProvidedFunction[] = []): Allocator {
  const modules = searchOrder(model, memory);
  const ranges = new Map<bigint, AllocatorRange>();
  const add = (name: string, start: bigint, size: number) => {
    if (!ranges.has(start)) ranges.set(start, { name, start, end: start + BigInt(Math.max(size, 1)) });
  };
  for (const p of provided) add(p.name, p.address, p.size);

  const found = new Map<string, { address: bigint; module: Module | undefined }>();
  for (const name of [...ALLOCATOR_ENTRY_POINTS, ...GLIBC_ALIASES]) {
    const given = provided.find((p) => p.name === name);
    if (given !== undefined) {
      found.set(name, { address: given.address, module: modules.find((m) => contains(m, given.address)) });
      continue;
    }
    const definition = lookup(modules, model.exe, name);
    if (definition === undefined) continue;
    const address = definition.symbol.value + definition.module.bias;
    found.set(name, { address, module: definition.module });
    add(name, address, definition.symbol.size);
  }
  const malloc = found.get('malloc');
  if (malloc === undefined) throw new AllocatorNotFoundError(model.pid, 'malloc');
  const free = found.get('free');
  if (free === undefined) throw new AllocatorNotFoundError(model.pid, 'free');

  // The internals of the module(s) malloc and free live in, from a .symtab when there is one.
  for (const module of new Set([malloc.module, free.module])) {
    if (module === undefined) continue;
    for (const s of symtab(module)) {
      if (s.type !== STT_FUNC || s.shndx === SHN_UNDEF || s.value === 0n) continue;
      const internal = s.bind === STB_LOCAL && s.file !== undefined && MALLOC_FILE.test(s.file);
      if (internal || GLIBC_INTERNALS.includes(s.name.replace(/\..*$/, ''))) add(s.name, s.value + module.bias, s.size);
    }
  }
  return { malloc: malloc.address, free: free.address, ranges: [...ranges.values()].sort((a, b) => (a.start < b.start ? -1 : 1)) };
}

// The definition ld.so would bind `name` to: the executable's .dynsym, then its .symtab, then each
// library's .dynsym in search order.
function lookup(modules: readonly Module[], exe: Module, name: string): { module: Module; symbol: ElfSymbol } | undefined {
  for (const module of modules) {
    const tables = module === exe ? [dynsym(module), symtab(module)] : [dynsym(module)];
    for (const table of tables) {
      const symbol = table.find((s) => isFunctionDefinition(s, name));
      if (symbol !== undefined) return { module, symbol };
    }
  }
  return undefined;
}

function isFunctionDefinition(s: ElfSymbol, name: string): boolean {
  return s.name === name && s.type === STT_FUNC && s.shndx !== SHN_UNDEF && (s.bind === STB_GLOBAL || s.bind === STB_WEAK) && s.versionHidden !== true;
}

function contains(module: Module, address: bigint): boolean {
  return module.mappings.some((m) => address >= m.start && address < m.end);
}

function dynsym(module: Module): ElfSymbol[] {
  try {
    return module.elf.dynamicSymbols();
  } catch {
    return []; // a mapped file we cannot parse defines nothing we can use
  }
}

function symtab(module: Module): ElfSymbol[] {
  try {
    return module.elf.symbols();
  } catch {
    return [];
  }
}
