// Unit tests of the argument classifier: what the gcc driver would do with each argument list.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { classifyArgs, languageOfPath } from '../src/args/classify.js';

const action = suite('classifyArgs: action');

const ACTIONS: [string[], string][] = [
  [['--version'], 'probe'],
  [['-dumpversion'], 'probe'],
  [['-dumpmachine'], 'probe'],
  [['-v'], 'probe'],
  [['-print-file-name=libc.so'], 'probe'],
  [['-print-prog-name=ld'], 'probe'],
  [['--print-search-dirs'], 'probe'],
  [['-###', '-c', 'a.c'], 'probe'],
  [['--help=optimizers'], 'probe'],
  [[], 'none'],
  [['-O2', '-Wall'], 'none'],
  [['-E', 'a.c'], 'preprocess'],
  [['-c', '-E', 'a.c'], 'preprocess'],
  [['-M', 'a.c'], 'preprocess'],
  [['-MM', 'a.c'], 'preprocess'],
  [['-fsyntax-only', 'a.c'], 'none'],
  [['-S', 'a.c'], 'assemble-only'],
  [['-S', '-c', 'a.c'], 'assemble-only'],
  [['-c', 'a.c'], 'compile'],
  [['-c', 'a.c', '-MD', '-MF', 'a.d'], 'compile'],
  [['-c', 'b.o'], 'none'],
  [['-c', '-x', 'c-header', 'a.h'], 'none'],
  [['-c', 'a.h'], 'none'],
  [['-c', '-x', 'c', '-'], 'none'],
  [['-c', '-x', 'objective-c', 'a.m'], 'none'],
  [['-v', '-c', 'a.c'], 'compile'],
  [['a.c'], 'link'],
  [['-o', 'prog', 'a.c', 'b.c'], 'link'],
  [['-o', 'prog', 'a.o', 'b.o', '-lm'], 'link'],
  [['-lm'], 'link'],
];
for (const [args, expected] of ACTIONS) {
  action(`${JSON.stringify(args)} is ${expected}`, () => {
    assert.is(classifyArgs(args, 'c').action, expected);
  });
}
action.run();

const output = suite('classifyArgs: output');
output('-o x as two arguments', () => {
  const c = classifyArgs(['-c', 'a.c', '-o', 'x.o'], 'c');
  assert.is(c.output, 'x.o');
  assert.equal(c.outputAt, [2, 3]);
});
output('-ox joined', () => {
  const c = classifyArgs(['-c', 'a.c', '-ox.o'], 'c');
  assert.is(c.output, 'x.o');
  assert.equal(c.outputAt, [2]);
});
output('--output=x', () => {
  assert.is(classifyArgs(['--output=prog', 'a.o'], 'c').output, 'prog');
});
output('absent -o leaves output undefined', () => {
  assert.is(classifyArgs(['-c', 'a.c'], 'c').output, undefined);
});
output('-o /dev/null is reported as written', () => {
  assert.is(classifyArgs(['-c', 'a.c', '-o', '/dev/null'], 'c').output, '/dev/null');
});
output('the value of -MF, -I, -D is not an input', () => {
  const c = classifyArgs(['-c', '-MD', '-MF', 'a.d', '-I', 'inc', '-D', 'X=1', '-include', 'cfg.h', 'a.c'], 'c');
  assert.equal(c.inputs.map((x) => (x.kind === 'library' ? x.arg : x.path)), ['a.c']);
});
output.run();

const inputs = suite('classifyArgs: inputs');
inputs('several sources of every language, in order', () => {
  const c = classifyArgs(['a.c', 'b.cc', 'c.cpp', 'd.cxx', 'e.C', 'f.s', 'g.S', 'h.i', 'i.o', '-o', 'p'], 'c');
  assert.equal(c.sources.map((s) => [s.path, s.language]), [
    ['a.c', 'c'], ['b.cc', 'c++'], ['c.cpp', 'c++'], ['d.cxx', 'c++'], ['e.C', 'c++'],
    ['f.s', 'asm'], ['g.S', 'asm'], ['h.i', 'c'],
  ]);
  assert.equal(c.inputs.map((x) => x.kind), ['source', 'source', 'source', 'source', 'source', 'source', 'source', 'source', 'file']);
});
inputs('g++ reads .c and .i as C++', () => {
  const c = classifyArgs(['-c', 'a.c', 'b.i'], 'c++');
  assert.equal(c.sources.map((s) => s.language), ['c++', 'c++']);
});
inputs('-x c makes any file C until -x none', () => {
  const c = classifyArgs(['-x', 'c', 'prog.txt', '-x', 'none', 'lib.o', '-o', 'p'], 'c');
  assert.equal(c.sources.map((s) => [s.path, s.language, s.forced]), [['prog.txt', 'c', 'c']]);
  assert.equal(c.inputs[1], { kind: 'file', path: 'lib.o', at: 5 });
  assert.equal(c.languageAt, [0, 1, 3, 4]);
});
inputs('-xc++ joined', () => {
  const c = classifyArgs(['-xc++', '-c', 'a.txt'], 'c');
  assert.equal(c.sources.map((s) => [s.language, s.forced]), [['c++', 'c++']]);
  assert.equal(c.languageAt, [0]);
});
inputs('-x assembler-with-cpp', () => {
  assert.is(classifyArgs(['-x', 'assembler-with-cpp', '-c', 'start.asm'], 'c').sources[0]!.language, 'asm');
});
inputs('libraries as -lm and -l m, archives and shared objects as files', () => {
  const c = classifyArgs(['main.o', '-lm', '-l', 'pthread', 'libx.a', 'liby.so', '-L', 'lib'], 'c');
  assert.equal(c.inputs, [
    { kind: 'file', path: 'main.o', at: 0 },
    { kind: 'library', arg: '-lm', at: [1] },
    { kind: 'library', arg: '-lpthread', at: [2, 3] },
    { kind: 'file', path: 'libx.a', at: 4 },
    { kind: 'file', path: 'liby.so', at: 5 },
  ]);
});
inputs('-Wl,... and -Xlinker values are not inputs', () => {
  const c = classifyArgs(['a.o', '-Wl,--gc-sections', '-Xlinker', 'map.txt', '-o', 'p'], 'c');
  assert.equal(c.inputs.length, 1);
});
inputs('an unexpanded @file is a file input', () => {
  assert.equal(classifyArgs(['@missing.rsp'], 'c').inputs, [{ kind: 'file', path: '@missing.rsp', at: 0 }]);
});
inputs.run();

const kind = suite('classifyArgs: link kind');
kind('executable by default, also with -static', () => {
  assert.is(classifyArgs(['a.o'], 'c').linkKind, 'executable');
  assert.is(classifyArgs(['-static', 'a.o'], 'c').linkKind, 'executable');
});
kind('-shared', () => {
  assert.is(classifyArgs(['-shared', '-fPIC', 'a.o', '-o', 'liba.so'], 'c').linkKind, 'shared');
});
kind('-r', () => {
  assert.is(classifyArgs(['-r', 'a.o', 'b.o', '-o', 'ab.o'], 'c').linkKind, 'relocatable');
});
kind.run();

const language = suite('languageOfPath');
language('extensions gcc knows', () => {
  assert.is(languageOfPath('dir.v2/a.c', 'c'), 'c');
  assert.is(languageOfPath('a.CPP', 'c'), 'c++');
  assert.is(languageOfPath('a.c++', 'c'), 'c++');
  assert.is(languageOfPath('a.sx', 'c'), 'asm');
  assert.is(languageOfPath('a.hpp', 'c++'), 'header');
  assert.is(languageOfPath('a.o', 'c'), undefined);
  assert.is(languageOfPath('dir.c/Makefile', 'c'), undefined);
});
language.run();
