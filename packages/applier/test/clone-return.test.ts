// The CFI-less tail of glibc's clone/clone3: a child just born is its own outermost frame, a parent
// returns through the address on top of its stack, any other function is not this case.
// (End to end: integration/test/threads.test.ts, whose churn thread creates threads during the apply.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cloneReturn } from '../src/unwind/clone-return.js';

const clone = suite('cloneReturn');

clone('rax 0 is the child, anything else the parent returning', () => {
  assert.equal(cloneReturn('clone3', 0n, 0x7ffc0000n), { kind: 'child' });
  assert.equal(cloneReturn('__clone', 4242n, 0x7ffc0000n), { kind: 'parent', returnAddressAt: 0x7ffc0000n });
});

clone('other functions, or no name or no rax, are not the clone case', () => {
  assert.is(cloneReturn('pthread_create', 0n, 0x7ffc0000n), undefined);
  assert.is(cloneReturn(undefined, 0n, 0x7ffc0000n), undefined);
  assert.is(cloneReturn('clone3', undefined, 0x7ffc0000n), undefined);
});

clone.run();
