/*
 * katana/transform.h: transformers for data patching (docs/data-patching.md).
 *
 * When a fix changes a type that katana cannot convert by itself (a union whose members changed, a
 * struct holding a `void *`), the new source gives a transformer: a function katana calls inside
 * the running process, while every thread is stopped, once for each object of the type it moves
 * (globals, and heap blocks reached through pointers). `katana_new` points at the object in its new
 * layout (already filled by katana where members match by name, else the new initializer or zeros),
 * `katana_old` at the same object in the layout the process had, which the new source describes
 * itself (a copy of the old definition under another name):
 *
 *   #include <katana/transform.h>
 *
 *   struct value_v1 { int kind; union { int i; float f; } as; };   // the old layout
 *
 *   KATANA_TRANSFORM(union value, struct value_v1, value_from_v1)
 *   {
 *       katana_new->i64 = katana_old->kind == 0 ? katana_old->as.i : (long) katana_old->as.f;
 *   }
 *
 * A transformer runs while the other threads are stopped: it must not take locks, wait, or call
 * functions that may (malloc included); it may read and write memory and call pure functions.
 * katana-cc puts this header on the include path (-idirafter).
 */
#ifndef KATANA_TRANSFORM_H
#define KATANA_TRANSFORM_H

/* One record per transformer, in the object's .katana_transform section; katana diff reads it. */
struct katana_transform_record {
  const char *type;
  void (*function)(void *, const void *);
};

#define KATANA_TRANSFORM(new_type, old_type, name)                                              \
  static void name(new_type *katana_new, const old_type *katana_old);                           \
  __attribute__((used, section(".katana_transform"), aligned(8)))                               \
  static const struct katana_transform_record katana_transform_record_##name = {                \
    #new_type, (void (*)(void *, const void *)) name};                                            \
  __attribute__((used, noinline)) static void name(new_type *katana_new, const old_type *katana_old)

#endif
