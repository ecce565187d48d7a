// The hand-assembled stubs of call-stubs.ts, decoded with iced-x86: each row's bytes are exactly one
// instruction, printed as the row says; branches land on their labels; the pushes keep rsp
// 16-aligned at each inner call; and the page layout puts an int3 at the return site.
import { createRequire } from 'node:module';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ALLOCATE_EACH, CALL_EACH, FREE_EACH, assemble, stubPage, type StubInstruction } from '../src/call-stubs.js';

const { Decoder, DecoderOptions, FlowControl, Formatter, FormatterSyntax } = createRequire(import.meta.url)('iced-x86') as typeof import('iced-x86');

const stubs = { allocateEach: ALLOCATE_EACH, freeEach: FREE_EACH, callEach: CALL_EACH };
const test = suite('call stubs');

for (const [name, stub] of Object.entries(stubs)) {
  test(`${name}: each row decodes to one instruction printed as the row says`, () => {
    const code = assemble(stub);
    const decoder = new Decoder(64, code, DecoderOptions.None);
    decoder.ip = 0n;
    const formatter = new Formatter(FormatterSyntax.Intel);
    const labels = new Map<string, number>();
    let offset = 0;
    for (const row of stub) {
      if (row.label !== undefined) labels.set(row.label, offset);
      offset += row.bytes.length;
    }
    offset = 0;
    for (const row of stub) {
      const instruction = decoder.decode();
      assert.is(instruction.length, row.bytes.length, `${row.asm} at ${offset}: ${formatter.format(instruction)}`);
      const [mnemonic, target] = row.asm.split(' ');
      if (instruction.flowControl === FlowControl.ConditionalBranch || instruction.flowControl === FlowControl.UnconditionalBranch) {
        assert.is(formatter.format(instruction).split(' ')[0], mnemonic);
        assert.is(Number(instruction.nearBranchTarget), labels.get(target!), `${row.asm} at ${offset} lands on ${target}`);
      } else {
        assert.is(formatter.format(instruction), row.asm, `instruction at offset ${offset}`);
      }
      offset += row.bytes.length;
    }
    assert.not.ok(decoder.canDecode, 'no bytes beyond the rows');
    decoder.free();
    formatter.free();
  });

  test(`${name}: pops what it pushes, in reverse, with rsp 16-aligned at the inner call`, () => {
    const pushes = stub.filter((r) => r.asm.startsWith('push ')).map((r) => r.asm.slice(5));
    const pops = stub.filter((r) => r.asm.startsWith('pop ')).map((r) => r.asm.slice(4));
    assert.equal(pops, [...pushes].reverse());
    // At entry rsp ≡ 8 (mod 16); each push subtracts 8: an odd count aligns it.
    assert.is((8 + 8 * pushes.length) % 16, 0);
    const calleeSaved = new Set(['rbx', 'rbp', 'r12', 'r13', 'r14', 'r15']);
    const written = stub.filter((r: StubInstruction) => /^(mov|xor|lea|add|inc) (rbx|rbp|r1[2-5])/.test(r.asm)).map((r) => r.asm.split(/[ ,]/)[1]!.replace(/d$/, ''));
    for (const register of written) {
      assert.ok(!calleeSaved.has(register) || pushes.includes(register), `${register} is written but not saved`);
    }
    assert.is(stub[stub.length - 1]!.asm, 'ret');
  });
}

test('the stub page starts each stub 16-aligned and ends in the int3 of the return site', () => {
  const page = stubPage();
  for (const [name, stub] of Object.entries(stubs)) {
    const offset = page[name as keyof typeof stubs];
    assert.is(offset % 16, 0);
    assert.equal([...page.code.subarray(offset, offset + assemble(stub).length)], [...assemble(stub)]);
  }
  assert.is(page.code[page.returnSite], 0xcc);
  assert.ok(page.returnSite > page.callEach);
});

test.run();
