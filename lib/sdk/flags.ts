// How a driver is compiled and linked: the one list that binding.gyp (the
// in-tree drivers), `nooks build` and `nooks sdk` all read.
//
// Drivers are freestanding C: no libc, no stack protector (it reads TLS and
// calls libc), hidden symbols except NOOKS_EXPORT and module_init/exit; they
// link against nothing but the driver runtime, and their kernel calls stay
// undefined, bound at load to the kernel's wrappers.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../paths.js';

/** A frame larger than a page is touched a page at a time: one past its stack faults in the guard below it
 *  (stack-overflow), never stores into the stack or DMA arena below the guard (test/driver-stack.test.ts). */
const stackProbes = '-fstack-clash-protection';

/** Compiler flags (C). The in-tree build adds -Werror. */
export const driverCflags: readonly string[] = [
  '-std=gnu11', '-O3', '-fPIC', '-ffreestanding', '-fno-builtin', '-fno-stack-protector', stackProbes,
  '-fvisibility=hidden', '-fcf-protection=none', '-Wall', '-Wextra', '-Wno-unused-parameter',
];

/** The linker script that puts the code of the archives linked into a driver (the driver runtime, libgcc, a POSIX
 *  driver's personality) in a section of its own, apart from the driver's .text: the fault injector's own code
 *  (lib/inject/disasm.ts refuses a driver linked without it). */
export const runtimeScript = join(packageRoot, 'native', 'driver-rt', 'runtime.ld');

/** Linker flags, without -shared and the runtime archive (node-gyp adds those for the in-tree drivers).
 *  -u pulls the deferred-call runner and the targeted faults' bugs (lib/inject) out of the runtime. -z noexecstack: an
 *  assembly source without .note.GNU-stack would ask for an executable stack, which the loader refuses (glibc would
 *  make every stack of the host executable). */
export const driverLinkFlags: readonly string[] = ['-nostdlib', '-Wl,-z,now', '-Wl,-z,noexecstack', '-Wl,-u,nooks_batch_run', '-Wl,-u,nooks_lkdtm', `-Wl,-T,${runtimeScript}`];

/** The headers: <nooks/kapi.h> and the class headers, and the generated <nooks/kapi_calls.h>, <nooks/abi.h>, <nooks/ops/...>. */
export const includeDirs: readonly string[] = [join(packageRoot, 'native', 'include'), join(packageRoot, 'gen')];

/** The driver runtime (memcpy & co., snprintf, printk, the deferred-call runner), linked into every driver. */
export const runtimeArchive = join(packageRoot, 'build', 'Release', 'driver_rt.a');

/**
 * Compiler flags of a driver built with the POSIX personality (`nooks build
 * --posix`): unmodified C against the system's own headers (<stdio.h>,
 * <stdlib.h>...). Not freestanding, builtins on: what the compiler makes of
 * libc calls (printf → puts, inline memcpy, _FORTIFY_SOURCE's __*_chk) is what
 * the personality provides. Still no stack protector and no CET (they read
 * TLS). Default visibility: a library-style driver's functions are its entry points.
 * `__thread` variables reach the personality's __tls_get_addr (the general- and local-dynamic models, -fPIC's):
 * -mtls-dialect=gnu, never TLS descriptors (gnu2, a toolchain's default elsewhere), which the loader refuses.
 */
export const posixCflags: readonly string[] = [
  '-std=gnu11', '-O2', '-fPIC', '-mtls-dialect=gnu', '-fno-stack-protector', stackProbes, '-fcf-protection=none', '-Wall', '-Wextra',
  '-Wno-unused-parameter',
];

/** Linker flags added for the personality. -Bsymbolic: the driver's calls to its own (exported) functions bind
 *  to them, never to a host symbol of the same name. -u nooks_posix_personality links the personality's mark
 *  (and with it the kernel-API stamp); -u nooks_module_init gives a driver without one the personality's empty
 *  module_init (a library-style driver). ctors.ld keeps constructors and destructors from the dynamic loader
 *  (they would run in the host); nooks_posix_start and nooks_posix_stop run them in the domain around
 *  module_init and module_exit; -u nooks_posix_main keeps what makes a driver with main a program. */
export const posixLinkFlags: readonly string[] = [
  '-Wl,-Bsymbolic', '-Wl,-u,nooks_posix_personality', '-Wl,-u,nooks_module_init', '-Wl,-u,nooks_posix_start', '-Wl,-u,nooks_posix_stop',
  '-Wl,-u,nooks_posix_main',
  `-Wl,-T,${join(packageRoot, 'native', 'driver-rt', 'posix', 'ctors.ld')}`,
];

/** The POSIX personality (native/driver-rt/posix/): the C library subset, linked before the driver runtime. */
export const posixArchive = join(packageRoot, 'build', 'Release', 'posix_rt.a');

/**
 * What a C++ source adds (`nooks build x.cc`, docs/drivers.md, C++ drivers): no exceptions, no RTTI. Unwinding
 * needs libgcc_eh and libsupc++, whose code runs dl_iterate_phdr and thread-local storage in the host; a driver
 * that needs them is refused (ELIBC), never half-served. The C++ runtime (cxx_rt.a) serves the rest.
 * -fno-gnu-unique: g++ makes the static data of inline functions and templates STB_GNU_UNIQUE, which glibc binds
 * to one copy for every module (another driver's memory) and which keeps a driver loaded for good (EUNIQUE).
 */
const cxxOnlyFlags: readonly string[] = ['-fno-exceptions', '-fno-rtti', '-fno-gnu-unique'];

/** The C flags for C++: gnu++17 (a -std= of the user's, later, overrides it) instead of gnu11. */
function forCxx(cFlags: readonly string[]): readonly string[] {
  return ['-std=gnu++17', ...cFlags.filter((f) => !f.startsWith('-std=')), ...cxxOnlyFlags];
}

/** Compiler flags of a kernel-API driver's C++ sources. */
export const driverCxxflags = forCxx(driverCflags);

/** Compiler flags of a POSIX-personality driver's C++ sources. */
export const posixCxxflags = forCxx(posixCflags);

/** The C++ runtime (native/driver-rt/cxx/): operator new and delete, the ABI's guards and pure-virtual calls,
 *  libstdc++'s out-of-line throw helpers. Linked into a driver with C++ sources, before the driver runtime. */
export const cxxArchive = join(packageRoot, 'build', 'Release', 'cxx_rt.a');

/** operator new and delete are of default visibility wherever <new> declared them (libstdc++ says so there, and
 *  a definition cannot say otherwise): the C++ runtime's symbols are kept out of the driver's exports at the link. */
const cxxHidden = '-Wl,--exclude-libs,cxx_rt.a';

/** The link of a driver with C++ sources, after its objects: the C++ runtime before the driver runtime (it calls
 *  vsnprintf). A kernel-API driver's adds what a POSIX driver's has: libgcc (the builtins libstdc++'s headers use:
 *  __popcountdi2 for std::bitset::count...) and -Bsymbolic: the template instantiations in namespace std are
 *  exported (its headers make them of default visibility); the driver's calls to them bind to its own, never to a
 *  host library's of the same name. */
export function cxxLdflags(posix: boolean): string[] {
  const link = posix ? posixLdflags() : [...ldflags(), '-Wl,-Bsymbolic', '-lgcc'];
  const runtime = link.indexOf(runtimeArchive);
  return [...link.slice(0, runtime), cxxHidden, cxxArchive, ...link.slice(runtime)];
}

/** Everything a compiler needs, for `nooks sdk --cflags`. */
export function cflags(): string[] {
  return [...driverCflags, ...includeDirs.map((d) => `-I${d}`)];
}

/** Everything a linker needs, for `nooks sdk --ldflags` (after the objects). */
export function ldflags(): string[] {
  return ['-shared', ...driverLinkFlags, runtimeArchive];
}

/** The same for a kernel-API driver's C++ sources (`nooks sdk --cxxflags`); `cxxLdflags(false)` links it. */
export function cxxCompileFlags(): string[] {
  return [...driverCxxflags, ...includeDirs.map((d) => `-I${d}`)];
}

/** The same for a POSIX-personality driver's C++ sources (`nooks sdk --posix-cxxflags`); `cxxLdflags(true)` links it. */
export function posixCxxCompileFlags(): string[] {
  return [...posixCxxflags, ...includeDirs.map((d) => `-I${d}`)];
}

/** The same for a driver of the POSIX personality (`nooks sdk --posix-cflags`). */
export function posixCompileFlags(): string[] {
  return [...posixCflags, ...includeDirs.map((d) => `-I${d}`)];
}

/** The same for a driver of the POSIX personality (`nooks sdk --posix-ldflags`). Last, the compiler's own
 *  libgcc.a: the helpers it emits calls to for unmodified C (__popcountdi2 for __builtin_popcount without
 *  -mpopcnt, __divti3 & co. for 128-bit division) are pure code, hidden, linked into the image. */
export function posixLdflags(): string[] {
  return ['-shared', ...driverLinkFlags, ...posixLinkFlags, posixArchive, runtimeArchive, '-lgcc'];
}

/** gyp splits the lists it reads at spaces, and make links in build/: the link scripts by their path from there, which
 *  a space in the package's own path (installed into `~/my project`) cannot split. */
const fromBuildDir = (flags: readonly string[]) => flags.map((f) => f.replace(`${packageRoot}/`, '../'));

// binding.gyp reads the lists from here: `node dist/lib/sdk/flags.js cflags|link|posix-cflags|cxx-cflags|posix-link`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const lists: Record<string, readonly string[]> = {
    cflags: driverCflags, link: fromBuildDir(driverLinkFlags), 'posix-cflags': posixCflags, 'cxx-cflags': driverCxxflags,
    'posix-link': fromBuildDir([...driverLinkFlags, ...posixLinkFlags]),
  };
  const list = lists[process.argv[2] ?? ''];
  if (!list) {
    console.error(`usage: node ${process.argv[1]} ${Object.keys(lists).join('|')}`);
    process.exit(2);
  }
  console.log(list.join(' '));
}
