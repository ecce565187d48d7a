// The mapped modules of a process in the order ld.so searches them for a symbol: the executable,
// then the libraries in load order (LD_PRELOAD ones first, then DT_NEEDED breadth first, then
// dlopen'ed RTLD_GLOBAL ones). That order is the dynamic linker's list of link_map records, which it
// publishes for debuggers through the executable's DT_DEBUG record: d_ptr = &_r_debug, whose r_map
// (at offset 8, <link.h>) heads a list of { l_addr (the load bias), l_name, l_ld, l_next, l_prev }.
// The order of /proc/PID/maps is not it: ld.so maps each library below the previous one, so a
// preloaded allocator would come after libc there. A static executable (no PT_DYNAMIC or no
// DT_DEBUG) or a list we cannot read keeps the maps order; modules the list does not name (another
// link namespace) come last.
import { PT_DYNAMIC } from '@katana/elf';
import type { ProcessMemory } from '@katana/ptrace';
import type { Module, ProcessModel } from './process.js';

const DT_NULL = 0n;
const DT_DEBUG = 21n;
const R_MAP_OFFSET = 8n;
const L_NEXT_OFFSET = 24n;
// A corrupt list must not loop forever.
const MAX_LINK_MAPS = 4096;

/** Modules of `model` in ld.so's symbol search order, the executable first. */
export function searchOrder(model: ProcessModel, memory: ProcessMemory): Module[] {
  const biases = linkMapBiases(model, memory);
  if (biases.length === 0) return model.modules;
  const ordered: Module[] = [];
  for (const bias of biases) {
    const module = model.modules.find((m) => !ordered.includes(m) && biasOf(m) === bias);
    if (module !== undefined) ordered.push(module);
  }
  if (!ordered.includes(model.exe)) ordered.unshift(model.exe);
  return [...ordered, ...model.modules.filter((m) => !ordered.includes(m))];
}

function biasOf(module: Module): bigint | undefined {
  try {
    return module.bias;
  } catch {
    return undefined; // a mapped file we cannot parse
  }
}

// l_addr of each link_map in list order; [] when the process publishes no list.
function linkMapBiases(model: ProcessModel, memory: ProcessMemory): bigint[] {
  const dynamic = model.exe.elf.segments.find((s) => s.type === PT_DYNAMIC);
  if (dynamic === undefined) return [];
  const bytes = memory.tryRead(dynamic.vaddr + model.exe.bias, dynamic.memsz);
  if (bytes === null) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let rDebug = 0n;
  for (let at = 0; at + 16 <= bytes.length; at += 16) {
    const tag = view.getBigUint64(at, true);
    if (tag === DT_NULL) break;
    if (tag === DT_DEBUG) rDebug = view.getBigUint64(at + 8, true);
  }
  if (rDebug === 0n) return [];
  const biases: bigint[] = [];
  let map = readWord(memory, rDebug + R_MAP_OFFSET);
  while (map !== undefined && map !== 0n && biases.length < MAX_LINK_MAPS) {
    const bias = readWord(memory, map);
    if (bias === undefined) break;
    biases.push(bias);
    map = readWord(memory, map + L_NEXT_OFFSET);
  }
  return biases;
}

function readWord(memory: ProcessMemory, address: bigint): bigint | undefined {
  const bytes = memory.tryRead(address, 8);
  return bytes === null ? undefined : new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}
