// Expands gcc response files (`@file`) so that the classifier sees every argument. katana-cc uses
// the expansion only to understand the call; the real compiler still receives `@file` untouched
// whenever the arguments need no rewriting. Follows libiberty's expandargv: a file that cannot be
// read leaves `@file` as a literal argument, arguments are separated by white space, quotes
// (single or double) group, a backslash escapes the next character, and expansion nests.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const MAX_DEPTH = 64;

/** Splits the text of a response file into arguments. */
export function splitResponseFile(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let inArg = false;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      current += text[++i];
      inArg = true;
    } else if (quote) {
      if (ch === quote) quote = '';
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inArg = true;
    } else if (/\s/.test(ch)) {
      if (inArg) out.push(current);
      current = '';
      inArg = false;
    } else {
      current += ch;
      inArg = true;
    }
  }
  if (inArg) out.push(current);
  return out;
}

/** Replaces each readable `@file` (relative to cwd) by the arguments it holds, recursively. */
export function expandResponseFiles(args: readonly string[], cwd: string, depth = 0): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (!arg.startsWith('@') || arg.length === 1 || depth >= MAX_DEPTH) {
      out.push(arg);
      continue;
    }
    let text: string;
    try {
      text = readFileSync(resolve(cwd, arg.slice(1)), 'utf8');
    } catch {
      out.push(arg);
      continue;
    }
    out.push(...expandResponseFiles(splitResponseFile(text), cwd, depth + 1));
  }
  return out;
}
