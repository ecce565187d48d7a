// The small project the build-system tests (cmake, autotools, meson) build with katana-cc and
// katana-c++: a C program linked against a static C library and a shared C++ library, printing 42.
// Each build system's own files are written by its test.

/** Sources: main.c uses twice() from libutil (static, C) and greet() from libgreet (shared, C++). */
export const SOURCES: Record<string, string> = {
  'main.c': '#include <stdio.h>\nint twice(int);\nint greet(int);\nint main(void) { printf("%d\\n", greet(twice(20)) + 1); return 0; }\n',
  'util.c': 'int twice(int x) { return 2 * x; }\n',
  'greet.cpp': 'template <typename T> T plus_one(T x) { return x + 1; }\nextern "C" int greet(int x) { return plus_one(x); }\n',
};

/** What the program prints. */
export const OUTPUT = '42\n';

/** util.c changed so that the program prints 1042 instead. */
export const UTIL_FIXED = 'int twice(int x) { return 2 * x + 1000; }\n';
