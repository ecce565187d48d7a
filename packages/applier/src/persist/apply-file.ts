// applyPatchToFile: writes a copy of an executable that starts already patched (`katana apply --file
// EXE PO -o OUT`), the answer to the blog post's "next time you run the program". Nothing runs: the
// patch area the live applier would mmap becomes loadable segments of the file, and the trampolines
// are written into the file's text. The new file region, appended at the end of the file:
//
//   [ program header table | patch record note | .rela.dyn (PIE) ]  PT_LOAD R     (at V)
//   [ .text.new | jump table | .rodata.new | .eh_frame ]             PT_LOAD R+X   (the patch area, as live)
//   [ GOT | .data.new | .bss.new ]                                   PT_LOAD R+W
//
// V (region-place.ts) is below the lowest PT_LOAD of an ET_EXEC and above the image of a PIE. A new
// program header table is needed because the old one has no room; e_phoff and PT_PHDR point at it.
// A PIE is laid out at link-time addresses like the rest of its image, and every absolute address in
// the area (absolute-sites.ts) gets an R_X86_64_RELATIVE in a grown copy of its dynamic relocation
// table (rela-dyn.ts), so the loader adds the load bias; its area has no jump table (every call
// target is the image's own code or PLT, within rel32 reach). A static PIE is no different: its
// start code applies the same table through the same .dynamic records (rela-dyn.ts). Each later
// apply adds a region below (ET_EXEC) or above (PIE) the previous one and retargets the record's
// PT_NOTE; old tables are left as dead bytes.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { ET_DYN, ET_EXEC, ElfFile, etName, PF_R, PF_W, PF_X, PT_LOAD, PT_NOTE, PT_PHDR, type Segment } from '@katana/elf';
import { patchObjectId, writePatchObject, type PatchObject } from '@katana/po';
import { registryEntry } from '../registry-entry.js';
import { PAGE_SIZE, planArea } from '../plan.js';
import type { RegistryEntry } from '../registry-format.js';
import { relocate, symbolAddress } from '../relocate.js';
import { encodeJmpRel32, trampolineSites } from '../write.js';
import { absoluteAddressSites } from './absolute-sites.js';
import { DF_1_PIE, DT_FLAGS_1, dynamicValue, readDynamicSection, type DynamicEntry } from './dynamic-section.js';
import { FileAlreadyPatchedError, FileBaseMismatchError, FileBuildIdMismatchError, PersistError } from './errors.js';
import { encodeRegistryNote, findFileRegistry } from './file-registry.js';
import { resolveFileSymbols } from './file-symbols.js';
import { encodeProgramHeaders, PHDR_SIZE, setProgramHeaderTable } from './program-headers.js';
import { growRelaDyn, RELA_SIZE, retargetRelaDyn } from './rela-dyn.js';
import { placeRegion } from './region-place.js';

/** What to patch, and where the result goes. */
export interface FileApplyOptions {
  /** The executable to read (left unchanged unless it is also `output`). */
  input: string;
  output: string;
  po: PatchObject;
  /** How messages and the record name the patch; "the patch" when absent. */
  poName?: string;
  /** patchObjectId of the PO file; default: the id of writePatchObject(po). */
  id?: string;
}

/** What apply --file did. */
export interface FileApplyReport {
  input: string;
  output: string;
  id: string;
  /** Each redirected function: its entry and its new code (link-time addresses; a PIE's process adds its load bias). */
  functions: { name: string; from: bigint; to: bigint }[];
  /** The patch area inside the new segments. */
  area: { start: bigint; size: number };
  /** The PT_LOAD segments added. */
  segments: { vaddr: bigint; offset: number; size: number; flags: string }[];
  /** Every patch the output's record lists, oldest first. */
  patches: RegistryEntry[];
}

const pageUp = (n: number) => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

/** Writes `output`: `input` with `po` applied on disk and recorded; throws an ApplierError subclass, writing nothing, on failure. */
export function applyPatchToFile(options: FileApplyOptions): FileApplyReport {
  const { input, output, po } = options;
  const poName = options.poName ?? 'the patch';
  let bytes: Uint8Array;
  let mode: number;
  try {
    bytes = readFileSync(input);
    mode = statSync(input).mode & 0o7777;
  } catch (cause) {
    throw new PersistError(`cannot read ${input}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  const elf = ElfFile.parse(bytes, input);
  const dynamic = readDynamicSection(elf, input);
  const pie = isPie(elf, dynamic, input);
  const buildId = elf.buildId();
  if (buildId !== po.targetBuildId.toLowerCase()) throw new FileBuildIdMismatchError(input, poName, po.targetBuildId, buildId);
  const id = options.id ?? patchObjectId(writePatchObject(po));
  const record = findFileRegistry(elf, bytes, input);
  const applied = record?.entries ?? [];
  checkFileBase(input, poName, id, po.basePatches ?? [], applied);

  // Lay the region out: header page(s), then the patch area exactly as the live applier plans it.
  const resolved = resolveFileSymbols(elf, input, po);
  const plan = planArea(po, resolved, { jumpTable: !pie });
  const absolute = pie ? absoluteAddressSites(po, plan, resolved, input) : [];
  const sites = trampolineSites(po, 0n);
  const hasData = plan.size > plan.codeSize;
  const segments = elf.segments.map((s) => ({ ...s }));
  const phdrCount = segments.length + (hasData ? 3 : 2) + (record === undefined ? 1 : 0);
  const noteOffset = phdrCount * PHDR_SIZE;
  const functions = sites.map((s) => ({ name: s.name, from: s.site, to: 0n }));
  // The note's size depends on names and counts only, so it is known before the addresses are; so
  // is the grown relocation table's (one entry per absolute site).
  const draftNote = encodeRegistryNote([...applied, registryEntry(id, poName, 0n, plan, po, functions.map((f) => ({ name: f.name, address: f.from, to: 0n, original: new Uint8Array(5) })))]);
  const relaOffset = (noteOffset + draftNote.length + 7) & ~7;
  const oldRelaSize = pie ? growRelaDyn(elf, dynamic, [], input).bytes.length : 0;
  const headerSize = pageUp(relaOffset + (pie ? oldRelaSize + absolute.length * RELA_SIZE : 0));
  const place = placeRegion(segments, bytes.length, headerSize + plan.size, pie, input);
  const { offset: regionOffset, vaddr: regionVaddr } = place;
  const base = regionVaddr + BigInt(headerSize);

  // Relocate for that address, and redirect the old entries in the copy of the file.
  const image = relocate({ po, plan, base, resolved });
  const out = new Uint8Array(regionOffset + headerSize + plan.size);
  out.set(bytes);
  const redirected = functions.map((f, i) => {
    const to = symbolAddress({ po, plan, base, resolved }, sites[i]!.symbol);
    const at = fileOffsetOf(segments, f.from, input, f.name);
    const original = bytes.slice(at, at + 5);
    out.set(encodeJmpRel32(f.from, to), at);
    return { name: f.name, address: f.from, to, original };
  });
  const entry = registryEntry(id, poName, base, plan, po, redirected);
  const note = encodeRegistryNote([...applied, entry]);
  if (pie) {
    // The image holds link-time addresses; the loader adds the bias to each (RELATIVE, addend = that address).
    const view = new DataView(image.buffer);
    const relatives = absolute.map((at) => ({ offset: base + BigInt(at), addend: view.getBigInt64(at, true) }));
    const table = growRelaDyn(elf, dynamic, relatives, input);
    out.set(table.bytes, regionOffset + relaOffset);
    retargetRelaDyn(out, elf, dynamic, table, regionVaddr + BigInt(relaOffset), regionOffset + relaOffset);
  }

  // The new program header table: PT_PHDR and the record's PT_NOTE retargeted, the new PT_LOADs
  // in address order (before the old ones of an ET_EXEC, after those of a PIE; PT_PHDR and
  // PT_INTERP precede every PT_LOAD).
  const load = (offset: number, vaddr: bigint, size: number, flags: number): Segment => ({ type: PT_LOAD, flags, offset, vaddr, paddr: vaddr, filesz: size, memsz: size, align: PAGE_SIZE });
  const added = [
    load(regionOffset, regionVaddr, headerSize, PF_R),
    load(regionOffset + headerSize, base, plan.codeSize, PF_R | PF_X),
    ...(hasData ? [load(regionOffset + headerSize + plan.codeSize, base + BigInt(plan.codeSize), plan.size - plan.codeSize, PF_R | PF_W)] : []),
  ];
  const noteSegment: Segment = { type: PT_NOTE, flags: PF_R, offset: regionOffset + noteOffset, vaddr: regionVaddr + BigInt(noteOffset), paddr: regionVaddr + BigInt(noteOffset), filesz: note.length, memsz: note.length, align: 4 };
  if (record === undefined) segments.push(noteSegment);
  else segments[record.phdrIndex] = noteSegment;
  for (const s of segments) {
    if (s.type !== PT_PHDR) continue;
    Object.assign(s, { offset: regionOffset, vaddr: regionVaddr, paddr: regionVaddr, filesz: noteOffset, memsz: noteOffset });
  }
  segments.splice(place.insertAt, 0, ...added);

  out.set(encodeProgramHeaders(segments), regionOffset);
  out.set(note, regionOffset + noteOffset);
  out.set(image, regionOffset + headerSize);
  setProgramHeaderTable(out, regionOffset, segments.length);
  try {
    writeFileSync(output, out, { mode });
  } catch (cause) {
    throw new PersistError(`cannot write ${output}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  return {
    input,
    output,
    id,
    functions: redirected.map((f) => ({ name: f.name, from: f.address, to: f.to })),
    area: { start: base, size: plan.size },
    segments: added.map((s) => ({ vaddr: s.vaddr, offset: s.offset, size: s.memsz, flags: `${s.flags & PF_R ? 'R' : ''}${s.flags & PF_W ? 'W' : ''}${s.flags & PF_X ? 'E' : ''}` })),
    patches: [...applied, entry],
  };
}

/** Throws unless the file carries exactly `expected`, in order, and not `id` already. */
function checkFileBase(path: string, poName: string, id: string, expected: readonly string[], applied: readonly RegistryEntry[]): void {
  const same = applied.find((e) => e.id === id);
  if (same) throw new FileAlreadyPatchedError(path, poName, id, new Date(same.appliedAt));
  const ids = applied.map((e) => e.id);
  if (ids.length !== expected.length || ids.some((a, i) => a !== expected[i])) throw new FileBaseMismatchError(path, poName, ids, [...expected]);
}

/** The file offset of the 5 bytes at link-time address `address` (a function entry). */
function fileOffsetOf(segments: readonly Segment[], address: bigint, path: string, name: string): number {
  const s = segments.find((p) => p.type === PT_LOAD && address >= p.vaddr && address + 5n <= p.vaddr + BigInt(p.filesz));
  if (s === undefined) throw new PersistError(`function ${name} at 0x${address.toString(16)} is not in the file contents of any segment of ${path}`);
  return s.offset + Number(address - s.vaddr);
}

/**
 * True for a PIE, false for an ET_EXEC; throws for what apply --file cannot patch: a shared library
 * (ET_DYN without DF_1_PIE), or no executable at all. A PIE is the same to us whether ld.so
 * (PT_INTERP) or its own start-up code (a static PIE: glibc's _dl_relocate_static_pie) applies its
 * dynamic relocations.
 */
function isPie(elf: ElfFile, dynamic: readonly DynamicEntry[], path: string): boolean {
  if (elf.header.type === ET_EXEC) return false;
  if (elf.header.type !== ET_DYN) throw new PersistError(`${path} is not an executable but ${etName(elf.header.type)}; apply --file cannot patch it`);
  const flags = dynamicValue(dynamic, DT_FLAGS_1) ?? 0n;
  if ((flags & DF_1_PIE) !== 0n) return true;
  throw new PersistError(`${path} is not an executable but a shared library (ET_DYN without DF_1_PIE); apply --file cannot patch it (patch the processes that load it with --pid)`);
}
