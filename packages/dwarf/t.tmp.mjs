import { ElfFile } from '@katana/elf';
import { readDwarf, describeType, typeName, findVariable } from '@katana/dwarf';
for (const f of process.argv.slice(2)) {
  const t0 = performance.now();
  const info = readDwarf(ElfFile.open(f));
  const t1 = performance.now();
  console.log(f, (t1 - t0).toFixed(1), 'ms', info.units.map(u => [u.name, u.version, u.language, u.files.length]));
  for (const v of info.variables) console.log(' var', v.name, v.scope, v.function, v.external, typeName(v.type), v.location && [v.location.kind, v.location.address.toString(16), v.location.target?.symbol, v.location.target?.addend], v.declFile, v.declLine);
  for (const s of info.subprograms) console.log(' fn', s.name, s.abstract, s.lowPc?.toString(16), s.highPc?.toString(16), s.lowPcTarget?.symbol, s.ranges.length, s.declFile, s.parameters.map(p => p.name + ':' + typeName(p.type)).join(','), '|', s.locals.map(p => p.name + ':' + typeName(p.type) + (p.inlinedFrom ? '@' + p.inlinedFrom : '') + (p.static ? '(static)' : '')).join(','));
  const r = findVariable(info, 'records');
  if (r) console.log(describeType(r.type));
  const s = findVariable(info, 'settings');
  if (s) console.log(describeType(s.type));
}
