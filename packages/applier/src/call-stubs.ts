// Hand-assembled x86-64 loops that the applier runs inside the target with one remoteCall each, so
// that a million calls of malloc, free or a transformer cost one ptrace round trip instead of a
// million (target-calls.ts maps them). Each stub is a SysV function: its arguments arrive in rdi,
// rsi, rdx, rcx; it keeps its state in callee-saved registers (rbx, rbp, r12..r14), which it pushes
// and pops, so the function it calls cannot clobber them; and it pushes an odd number of them (3
// or 5 after the return address), so rsp is 16-aligned at each inner `call`, as the ABI requires.
//
//   allocateEach(malloc, size, count, out): for i < count: out[i] = malloc(size), stopping at the
//                first NULL; returns how many it stored.
//   freeEach(free, pointers, count):        free(pointers[i]) for each i < count.
//   callEach(fn, first, second, count):     fn(first[i], second[i]) for each i < count; returns count.
//
// Each row is one instruction: its bytes and its Intel-syntax text as iced-x86 prints it (the unit
// test decodes the bytes and compares). Branch rows name the label they jump to; their rel8 bytes
// were computed by hand and the test checks them against the label's offset.

/** One instruction of a stub. */
export interface StubInstruction {
  bytes: readonly number[];
  /** What it is, as iced-x86's Intel formatter prints it; for a branch, the mnemonic and the target label. */
  asm: string;
  /** A label at this instruction (the target of a branch row). */
  label?: string;
}

const INT3 = 0xcc;

/** allocateEach(malloc = rdi, size = rsi, count = rdx, out = rcx) → rax = how many blocks were stored in out. */
export const ALLOCATE_EACH: readonly StubInstruction[] = [
  { bytes: [0x53], asm: 'push rbx' }, //                          five callee-saved registers: rsp ≡ 0 (mod 16) after
  { bytes: [0x55], asm: 'push rbp' },
  { bytes: [0x41, 0x54], asm: 'push r12' },
  { bytes: [0x41, 0x55], asm: 'push r13' },
  { bytes: [0x41, 0x56], asm: 'push r14' },
  { bytes: [0x48, 0x89, 0xfb], asm: 'mov rbx,rdi' }, //            rbx = malloc
  { bytes: [0x48, 0x89, 0xf5], asm: 'mov rbp,rsi' }, //            rbp = size
  { bytes: [0x49, 0x89, 0xd4], asm: 'mov r12,rdx' }, //            r12 = count
  { bytes: [0x49, 0x89, 0xcd], asm: 'mov r13,rcx' }, //            r13 = out
  { bytes: [0x45, 0x31, 0xf6], asm: 'xor r14d,r14d' }, //          r14 = i = 0
  { bytes: [0x4d, 0x39, 0xe6], asm: 'cmp r14,r12', label: 'loop' }, // i < count?
  { bytes: [0x73, 0x14], asm: 'jae done' }, //                     no: done
  { bytes: [0x48, 0x89, 0xef], asm: 'mov rdi,rbp' }, //            first argument: size
  { bytes: [0xff, 0xd3], asm: 'call rbx' }, //                     rax = malloc(size)
  { bytes: [0x48, 0x85, 0xc0], asm: 'test rax,rax' }, //           NULL?
  { bytes: [0x74, 0x0a], asm: 'je done' }, //                      yes: stop, out[i] left as it was
  { bytes: [0x4b, 0x89, 0x44, 0xf5, 0x00], asm: 'mov [r13+r14*8],rax' }, // out[i] = rax (r13 as a base needs a disp8 of 0)
  { bytes: [0x49, 0xff, 0xc6], asm: 'inc r14' }, //                i++
  { bytes: [0xeb, 0xe7], asm: 'jmp loop' },
  { bytes: [0x4c, 0x89, 0xf0], asm: 'mov rax,r14', label: 'done' }, // return i
  { bytes: [0x41, 0x5e], asm: 'pop r14' },
  { bytes: [0x41, 0x5d], asm: 'pop r13' },
  { bytes: [0x41, 0x5c], asm: 'pop r12' },
  { bytes: [0x5d], asm: 'pop rbp' },
  { bytes: [0x5b], asm: 'pop rbx' },
  { bytes: [0xc3], asm: 'ret' },
];

/** freeEach(free = rdi, pointers = rsi, count = rdx). */
export const FREE_EACH: readonly StubInstruction[] = [
  { bytes: [0x53], asm: 'push rbx' }, //                          three callee-saved registers: rsp ≡ 0 (mod 16) after
  { bytes: [0x41, 0x54], asm: 'push r12' },
  { bytes: [0x41, 0x55], asm: 'push r13' },
  { bytes: [0x48, 0x89, 0xfb], asm: 'mov rbx,rdi' }, //            rbx = free
  { bytes: [0x49, 0x89, 0xf4], asm: 'mov r12,rsi' }, //            r12 = p = pointers
  { bytes: [0x4c, 0x8d, 0x2c, 0xd6], asm: 'lea r13,[rsi+rdx*8]' }, // r13 = end = pointers + count
  { bytes: [0x4d, 0x39, 0xec], asm: 'cmp r12,r13', label: 'loop' }, // p < end?
  { bytes: [0x73, 0x0c], asm: 'jae done' }, //                     no: done
  { bytes: [0x49, 0x8b, 0x3c, 0x24], asm: 'mov rdi,[r12]' }, //    first argument: *p
  { bytes: [0x49, 0x83, 0xc4, 0x08], asm: 'add r12,8' }, //        p++
  { bytes: [0xff, 0xd3], asm: 'call rbx' }, //                     free(*p)
  { bytes: [0xeb, 0xef], asm: 'jmp loop' },
  { bytes: [0x41, 0x5d], asm: 'pop r13', label: 'done' },
  { bytes: [0x41, 0x5c], asm: 'pop r12' },
  { bytes: [0x5b], asm: 'pop rbx' },
  { bytes: [0xc3], asm: 'ret' },
];

/** callEach(fn = rdi, first = rsi, second = rdx, count = rcx) → rax = count. */
export const CALL_EACH: readonly StubInstruction[] = [
  { bytes: [0x53], asm: 'push rbx' }, //                          five callee-saved registers: rsp ≡ 0 (mod 16) after
  { bytes: [0x55], asm: 'push rbp' },
  { bytes: [0x41, 0x54], asm: 'push r12' },
  { bytes: [0x41, 0x55], asm: 'push r13' },
  { bytes: [0x41, 0x56], asm: 'push r14' },
  { bytes: [0x48, 0x89, 0xfb], asm: 'mov rbx,rdi' }, //            rbx = fn
  { bytes: [0x48, 0x89, 0xf5], asm: 'mov rbp,rsi' }, //            rbp = first
  { bytes: [0x49, 0x89, 0xd4], asm: 'mov r12,rdx' }, //            r12 = second
  { bytes: [0x49, 0x89, 0xcd], asm: 'mov r13,rcx' }, //            r13 = count
  { bytes: [0x45, 0x31, 0xf6], asm: 'xor r14d,r14d' }, //          r14 = i = 0
  { bytes: [0x4d, 0x39, 0xee], asm: 'cmp r14,r13', label: 'loop' }, // i < count?
  { bytes: [0x73, 0x10], asm: 'jae done' }, //                     no: done
  { bytes: [0x4a, 0x8b, 0x7c, 0xf5, 0x00], asm: 'mov rdi,[rbp+r14*8]' }, // first argument: first[i] (rbp as a base needs a disp8)
  { bytes: [0x4b, 0x8b, 0x34, 0xf4], asm: 'mov rsi,[r12+r14*8]' }, // second argument: second[i]
  { bytes: [0xff, 0xd3], asm: 'call rbx' }, //                     fn(first[i], second[i])
  { bytes: [0x49, 0xff, 0xc6], asm: 'inc r14' }, //                i++
  { bytes: [0xeb, 0xeb], asm: 'jmp loop' },
  { bytes: [0x4c, 0x89, 0xf0], asm: 'mov rax,r14', label: 'done' }, // return i
  { bytes: [0x41, 0x5e], asm: 'pop r14' },
  { bytes: [0x41, 0x5d], asm: 'pop r13' },
  { bytes: [0x41, 0x5c], asm: 'pop r12' },
  { bytes: [0x5d], asm: 'pop rbp' },
  { bytes: [0x5b], asm: 'pop rbx' },
  { bytes: [0xc3], asm: 'ret' },
];

/** The stubs laid out in one code page, and where each starts. */
export interface StubPage {
  /** The bytes to write at the start of the page; the gaps are int3. */
  code: Uint8Array;
  allocateEach: number;
  freeEach: number;
  callEach: number;
  /** Offset of an int3 the stubs return to (remoteCall's returnSite). */
  returnSite: number;
}

/** The bytes of one stub. */
export function assemble(stub: readonly StubInstruction[]): Uint8Array {
  return Uint8Array.from(stub.flatMap((i) => i.bytes));
}

/** Lays the three stubs out 16-aligned, int3 between them, followed by the return site's int3. */
export function stubPage(): StubPage {
  const parts = [ALLOCATE_EACH, FREE_EACH, CALL_EACH].map(assemble);
  const offsets: number[] = [];
  let size = 0;
  for (const part of parts) {
    offsets.push(size);
    size = align16(size + part.length);
  }
  const code = new Uint8Array(size + 16).fill(INT3);
  parts.forEach((part, i) => code.set(part, offsets[i]));
  return { code, allocateEach: offsets[0]!, freeEach: offsets[1]!, callEach: offsets[2]!, returnSite: size };
}

function align16(n: number): number {
  return (n + 15) & ~15;
}
