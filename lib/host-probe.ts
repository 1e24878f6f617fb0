// The host canary: a 64-bit kernel object in the host-object heap that drivers
// may read but not write. `nooks demo` and `nooks run` (@probe) aim wild writes
// at it and check that it survived, as the tests do; it is no part of the
// public API (the tests reach it through 'nooks/testing').
import { native } from './native.js';

/** The canary's address and current value; a kernel must be booted. */
export function hostProbe(): { address: number; value: bigint } {
  return native().hostProbe();
}
