// @katana/po: the Patch Object model, its ELF writer and its validating reader.
export * from './model.js';
export * from './constants.js';
export { PoFormatError, ComposeError } from './errors.js';
export { composePatchObjects, type ComposeInputs } from './compose.js';
export { writePatchObject } from './write.js';
export { readPatchObject } from './read.js';
export { relocationWidth } from './relocation-width.js';
export { describePatchObject, formatPatchDescription, type PatchDescription } from './describe.js';
export { patchObjectId, shortPatchId, SHORT_PATCH_ID_LENGTH } from './id.js';
export { demangle, demangleName } from './demangle.js';
export { copyExpression, convertExpression, encodeTransformProgram, decodeTransformProgram, TRANSFORM_REGISTER } from './transform-program.js';
