// demangle(): C++ names for people, checked against names g++ 12 really emits (with gcc clone
// suffixes) and against C names, which must come back untouched.
import { spawnSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { demangle, demangleName } from '../src/demangle.js';

if (spawnSync('sh', ['-c', 'command -v c++filt']).status !== 0) throw new Error('the po tests need c++filt (binutils) on PATH');

const names = suite('demangle');
names('methods, templates and clones demangle; C names and odd strings stay as they are', () => {
  assert.equal(
    demangle(['_ZNK6Square4areaEv', 'main', '_Z6scaledIlET_S0_', '_ZNK3Box7doubledEv.isra.0', 'count.0', '_Zbogus', '_ZTV6Square']),
    ['Square::area() const', 'main', 'long scaled<long>(long)', 'Box::doubled() const [clone .isra.0]', 'count.0', '_Zbogus', 'vtable for Square'],
  );
});
names('one name, and repeated names', () => {
  assert.is(demangleName('_ZN1A1fEv'), 'A::f()');
  assert.equal(demangle(['_ZN1A1fEv', '_ZN1A1fEv']), ['A::f()', 'A::f()']);
  assert.equal(demangle([]), []);
});
names.run();
