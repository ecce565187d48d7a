// Finding the objects of OLD and NEW. A linked file (executable or shared library) is looked up in
// the object store by its build-id: links/<id>.json lists the objects katana-cc compiled for it, and
// each object's manifest names its source. A folder is walked for .o files instead. Objects are then
// paired by source (folders: by path relative to the folder); objects only in NEW are entirely new,
// objects only in OLD are ignored (their functions are no longer called by anything in NEW).
// With `compareOnly` (a tracker journal), NEW's other objects and the OLD objects with the same
// bytes are skipped before their manifests or bytes are read.
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { ElfFile, ET_REL, STT_FILE } from '@katana/elf';
import type { LinkRecord, ObjectStore } from '@katana/cc';
import { EmitterError } from './errors.js';

/** One object file of a build. */
export interface BuildObject {
  /** What pairs it with its counterpart: the manifest's source, or the path relative to the folder. */
  key: string;
  /** Source file relative to the project root (written into the PO for local symbols). */
  file: string;
  /** Where the object was read from. */
  path: string;
  elf: ElfFile;
}

/** An object of NEW with its OLD counterpart, if any. */
export interface ObjectPair {
  old?: BuildObject;
  new: BuildObject;
}

/** What diffBuilds works from. */
export interface Inputs {
  /** The module the running process runs: build-id and link-time symbol values (OLD's own link by default). */
  target: ElfFile;
  targetBuildId: string;
  /**
   * True when the target is an earlier build than OLD (a patch made after earlier patches): what
   * OLD has and the target lacks, earlier patches put into the process.
   */
  afterPatches: boolean;
  pairs: ObjectPair[];
}

/**
 * Loads both builds and pairs their objects. `targetPath` is required when `oldPath` is a folder;
 * given with a linked OLD of another build-id, it is the original build the patches go on top of.
 * `compareOnly` restricts the comparison to those NEW objects (a trusted tracker journal).
 */
export function loadInputs(oldPath: string, newPath: string, store: ObjectStore, targetPath?: string, compareOnly?: ReadonlySet<string>): Inputs {
  const oldBuild = openBuild(oldPath, store, 'OLD');
  const newBuild = openBuild(newPath, store, 'NEW');
  // NEW objects outside compareOnly are vouched byte-identical to an OLD object: skip both.
  const skipped = new Set(compareOnly ? (newBuild.link?.objects ?? []).filter((o) => !compareOnly.has(o.path)).map((o) => o.hash) : []);
  const oldObjects = loadObjects(oldBuild, store, 'OLD', (o) => !skipped.has(o.hash));
  const newObjects = loadObjects(newBuild, store, 'NEW', (o) => !compareOnly || compareOnly.has(o.path));
  let target: ElfFile;
  if (targetPath) target = openElf(targetPath, 'target');
  else if (oldBuild.linked) target = oldBuild.linked;
  else throw new EmitterError(`OLD ${oldPath} is a folder of objects: the old executable is needed too (target)`);
  const targetBuildId = target.buildId();
  if (!targetBuildId) throw new EmitterError(`target ${target.path ?? oldPath} has no build-id (link with -Wl,--build-id)`);
  const afterPatches = oldBuild.linked !== undefined && oldBuild.linked.buildId() !== targetBuildId;
  const oldByKey = new Map(oldObjects.map((o) => [o.key, o]));
  const pairs = newObjects.map((n) => ({ old: oldByKey.get(n.key), new: n }));
  return { target, targetBuildId, afterPatches, pairs };
}

/** A build as given: a folder of objects, or a linked file with its link record. */
interface OpenedBuild {
  path: string;
  linked?: ElfFile;
  link?: LinkRecord;
}

function openBuild(path: string, store: ObjectStore, role: 'OLD' | 'NEW'): OpenedBuild {
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
  } catch (cause) {
    throw new EmitterError(`${role} ${path} does not exist`, { cause });
  }
  if (isFolder) return { path };
  const linked = openElf(path, role);
  const buildId = linked.buildId();
  if (!buildId) throw new EmitterError(`${role} ${path} has no build-id (it was not linked by katana-cc)`);
  const link = store.readLink(buildId);
  if (!link) {
    throw new EmitterError(`${role} was not linked by katana-cc (build-id ${buildId} not in the store at ${store.dir})`);
  }
  return { path, linked, link };
}

function loadObjects(build: OpenedBuild, store: ObjectStore, role: 'OLD' | 'NEW', wanted: (o: { path: string; hash: string }) => boolean): BuildObject[] {
  if (!build.link) return objectsInFolder(build.path, role);
  const objects: BuildObject[] = [];
  const seen = new Set<string>();
  for (const { path: output, hash } of build.link.objects.filter(wanted)) {
    const manifest = store.readManifest(hash);
    if (!manifest || !store.hasObject(hash)) {
      throw new EmitterError(`object ${output} of ${role} ${build.path} (sha256 ${hash}) is missing from the store at ${store.dir}`);
    }
    // The same source compiled twice into one link (two flavours of one file) keeps both apart.
    const key = seen.has(manifest.source) ? `${manifest.source}@${basename(manifest.output)}` : manifest.source;
    seen.add(key);
    const objectPath = store.objectPath(hash);
    objects.push({ key, file: manifest.source, path: objectPath, elf: openElf(objectPath, `${role} object`) });
  }
  return objects;
}

function objectsInFolder(root: string, role: 'OLD' | 'NEW'): BuildObject[] {
  const objects: BuildObject[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith('.o')) {
        const elf = openElf(full, `${role} object`);
        if (elf.header.type !== ET_REL) throw new EmitterError(`${role} object ${full} is not a relocatable object`);
        const key = relative(root, full);
        // The source path: the object's folder plus the file name gcc wrote into STT_FILE.
        const sttFile = elf.symbols().find((s) => s.type === STT_FILE)?.name;
        const file = sttFile ? join(dirname(key), basename(sttFile)) : key;
        objects.push({ key, file, path: full, elf });
      }
    }
  };
  walk(root);
  return objects;
}

function openElf(path: string, role: string): ElfFile {
  try {
    return ElfFile.open(path);
  } catch (cause) {
    throw new EmitterError(`${role} ${path} is not a readable ELF file`, { cause });
  }
}
