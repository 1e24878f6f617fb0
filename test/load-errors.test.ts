// What the loader refuses, and with which code: each bad driver is built here
// with the real driver flags, so it fails for the one reason it is meant to.
// Also the boot errors, which must leave no kernel behind.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel } from '../lib/index.js';
import { driverPath } from '../lib/paths.js';
import { buildDriver as build } from '../lib/sdk/build.js';
import { cflags } from '../lib/sdk/flags.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { rejectionOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pku = Kernel.pkuSupported();

// A mangled C++ name of `levels` nested templates, each naming the one before
// twice by back-reference: its demangling doubles per level (40: 423 bytes,
// 49 MB demangled, in seconds).
function demanglingBomb(levels: number): string {
  const ref = (i: number) => (i < 0 ? 'S_' : `S${i.toString(36).toUpperCase()}_`);
  let name = '_Z1fI1aIiiE';
  for (let k = 0; k < levels; k++) name += `S_I${ref(k)}${ref(k)}E`;
  return `${name}EvT_`;
}

// These run before any kernel is booted in this process.
describe('boot errors', () => {
  it.skipIf(pku)("isolation 'pkey' where it cannot run: ENOPKU, with the reason, suggesting 'mprotect'", async () => {
    const err = await rejectionOf(Kernel.boot({ isolation: 'pkey' }));
    expect(err.code).toBe('ENOPKU');
    expect(Kernel.pkeyUnusableReason()).not.toBe('');
    expect(err.message).toContain(Kernel.pkeyUnusableReason());
    expect(err.message).toContain("'mprotect'"); // names the mode to use instead
  });

  it('an unknown isolation mode', async () => {
    const err = await rejectionOf(Kernel.boot({ isolation: 'paging' as 'pkey' }));
    expect(err).toMatchObject({ code: 'EINVAL', message: expect.stringContaining("'paging'") });
  });

  it('a policy file that does not exist', async () => {
    const path = join(dir, 'missing.yaml');
    const err = await rejectionOf(Kernel.boot({ isolation: 'mprotect', policy: path }));
    expect(err.name).toBe('PolicyError');
    expect(err.message).toBe(`${path}: no such policy file`);
  });

  it('an invalid policy file', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'default:\n  maxFailures: -1\n');
    const err = await rejectionOf(Kernel.boot({ isolation: 'mprotect', policy: path }));
    expect(err.name).toBe('PolicyError');
    expect(err.message).toMatch(/default\.maxFailures.*-1/); // names the key and the value
  });
});

describe('load errors', () => {
  // the failed boots above left nothing behind: this one succeeds
  const kernel = kernelPerBlock({ isolation: 'mprotect' });
  const so: Record<string, string> = {};

  beforeAll(async () => {
    const prelude = '#include <nooks/kapi.h>\n';
    const okInit = 'static int ok_init(void) { return 0; }\nmodule_init(ok_init);\n';
    so.noinit = buildDriver(dir, 'noinit', `${prelude}NOOKS_EXPORT long f(long x) { return x; }\n`);
    so.unresolved = buildDriver(
      dir,
      'unresolved',
      `${prelude}long nooks_no_such_call(long x);\nNOOKS_EXPORT long f(long x) { return nooks_no_such_call(x); }\n${okInit}`,
    );
    // a crafted C++ name whose demangling is 49 MB (nested back-references), and 40 unresolved names
    so.demanglingBomb = buildDriver(dir, 'demangling_bomb', `${prelude}extern long bomb(void) __asm__("${demanglingBomb(40)}");\n` +
      `NOOKS_EXPORT long f(void) { return bomb(); }\n${okInit}`);
    so.manyUnresolved = buildDriver(
      dir,
      'many_unresolved',
      Array.from({ length: 40 }, (_, i) => `long nooks_missing_${i}(void);\n`).join('') +
        `${prelude}NOOKS_EXPORT long f(void) { return 0${Array.from({ length: 40 }, (_, i) => ` + nooks_missing_${i}()`).join('')}; }\n${okInit}`,
    );
    so.libc = buildDriver(dir, 'libc', `${prelude}int puts(const char *s);\nNOOKS_EXPORT long f(void) { return puts("hi"); }\n${okInit}`);
    so.libcTls = buildDriver(dir, 'libc_tls', `${prelude}int puts(const char *s);\nstatic __thread long counter;\n` +
      `__attribute__((constructor)) static void hello(void) { puts("hi"); }\nNOOKS_EXPORT long f(void) { return ++counter; }\n${okInit}`);
    so.externTls = buildDriver(dir, 'extern_tls', `${prelude}extern __thread long nooks_elsewhere;\nNOOKS_EXPORT long f(void) { return ++nooks_elsewhere; }\n${okInit}`);
    so.externErrno = buildDriver(dir, 'extern_errno', `${prelude}extern __thread int errno;\nNOOKS_EXPORT long f(void) { return errno; }\n${okInit}`);
    so.ownAndErrnoTls = buildDriver(dir, 'own_and_errno_tls', `${prelude}extern __thread int errno;\nstatic __thread long counter;\n` +
      `NOOKS_EXPORT long f(void) { return ++counter + errno; }\nNOOKS_EXPORT long g(void) { return errno; }\n${okInit}`);
    so.tls = buildDriver(dir, 'tls', `${prelude}static __thread long counter;\nNOOKS_EXPORT long f(void) { return ++counter; }\n${okInit}`);
    // thread-local storage the POSIX personality cannot keep in the domain (it keeps the rest: test/posix-tls.test.ts)
    const hits = '__thread long hits;\nNOOKS_EXPORT long hit(void) { return ++hits; }\n';
    so.initialExec = buildDriver(dir, 'initial_exec', `${prelude}${hits.replace(';', ' __attribute__((tls_model("initial-exec")));')}`, { posix: true });
    so.tlsdesc = buildDriver(dir, 'tlsdesc', `${prelude}${hits}`, { posix: true, extraCflags: ['-mtls-dialect=gnu2'] });
    so.posixExternTls = buildDriver(dir, 'posix_extern_tls', `${prelude}extern __thread long nooks_elsewhere;\nNOOKS_EXPORT long f(void) { return ++nooks_elsewhere; }\n`, { posix: true });
    so.largeTls = buildDriver(dir, 'large_tls', `${prelude}static __thread char big[65537];\nNOOKS_EXPORT long f(long i) { return ++big[i]; }\n`, { posix: true });
    // weak: it would bind to the host's getpid all the same; a weak import nothing defines stays 0, and is fine
    so.weakLibc = buildDriver(dir, 'weak_libc', `${prelude}extern int getpid(void) __attribute__((weak));\n` +
      `extern int nooks_nowhere(void) __attribute__((weak));\n` +
      `NOOKS_EXPORT long f(void) { return (getpid ? getpid() : 0) + (nooks_nowhere ? 1 : 0); }\n${okInit}`);
    so.wrfsbase = buildDriver(
      dir,
      'wrfsbase',
      `${prelude}NOOKS_EXPORT long f(long base) { __asm__ volatile("wrfsbase %0" :: "r"(base)); return 0; }\n${okInit}`,
    );
    so.wrpkru = buildDriver(
      dir,
      'wrpkru',
      `${prelude}NOOKS_EXPORT long f(void) { __asm__ volatile(".byte 0x0f,0x01,0xef"); return 0; }\n${okInit}`,
    );
    so.nodev = buildDriver(dir, 'nodev', `${prelude}static int nodev_init(void) { return -ENODEV; }\nmodule_init(nodev_init);\n`);
    so.initfault = buildDriver(
      dir,
      'initfault',
      `${prelude}static int initfault_init(void)\n{\n\tint *volatile p = NULL;\n\n\treturn *p;\n}\nmodule_init(initfault_init);\n`,
    );
  }, 60_000);

  /** Loads `path`, which must fail with `code`; checks nothing of it stayed loaded. */
  async function loadError(path: string, code: string): Promise<string> {
    const before = kernel().domains().length;
    const err = await rejectionOf(kernel().load(path));
    expect(err.code).toBe(code);
    expect(err.message).toContain(path);
    expect(kernel().domains().length).toBe(before);
    return err.message;
  }

  it('booting a second kernel', async () => {
    const err = await rejectionOf(Kernel.boot({ isolation: 'mprotect' }));
    expect(err.code).toBe('EBOOTED');
  });

  it('a missing file: ENOENT', async () => {
    await loadError(join(dir, 'nope.so'), 'ENOENT');
  });

  it('a directory: EISDIR', async () => {
    await loadError(dir, 'EISDIR');
  });

  it('a text file named .so: ENOTELF', async () => {
    const path = join(dir, 'x.so');
    writeFileSync(path, 'this is not a driver\n');
    await loadError(path, 'ENOTELF');
  });

  it('an ELF object that is not a shared object: ENOTELF', async () => {
    const path = join(dir, 'object.so');
    execFileSync('cc', [...cflags(), '-c', join(dir, 'noinit.c'), '-o', path]); // a relocatable .o under a .so name
    await loadError(path, 'ENOTELF');
  });

  it('a program, not a driver: ENOTELF, saying so', async () => {
    const path = join(dir, 'program.so');
    writeFileSync(join(dir, 'program.c'), 'int main(void) { return 0; }\n');
    execFileSync('cc', ['-fPIE', '-pie', join(dir, 'program.c'), '-o', path]); // a position-independent executable: ET_DYN, as a driver
    expect(await loadError(path, 'ENOTELF')).toContain(`${path}: a program (it names an interpreter, PT_INTERP), not a driver: build the driver as a shared object with nooks build`);
  });

  it('a shared object cc built without the driver flags (linked against libc): ENEEDED, naming libc and nooks build', async () => {
    const path = join(dir, 'plain-cc.so');
    writeFileSync(join(dir, 'plain-cc.c'), '#include <stdio.h>\nint hi(void) { return printf("hi\\n"); }\n');
    execFileSync('cc', ['-shared', '-fPIC', join(dir, 'plain-cc.c'), '-o', path]); // its symbol versions (DT_VERNEED) come with libc
    expect(await loadError(path, 'ENEEDED')).toContain('the driver needs the shared library libc.so.6 (DT_NEEDED)');
    expect(await loadError(path, 'ENEEDED')).toContain('build it with nooks build');
  });

  it('a shared object cc built of kernel-API code alone (no libc to need): ECTOR, naming the start files cc linked in and nooks build', async () => {
    const path = join(dir, 'cc-start-files.so');
    execFileSync('cc', ['-shared', ...cflags(), join(dir, 'noinit.c'), '-o', path]); // the driver flags, not the link: no -nostdlib
    const message = await loadError(path, 'ECTOR');
    // before: 'the driver has destructors (.fini_array (DT_FINI_ARRAY))' and a call of __cxa_finalize (ELIBC), neither of them the user's
    expect(message).toContain("the driver was linked with the C compiler's start files (crti.o, crtbeginS.o");
    expect(message).toContain('build it with nooks build');
    expect(message).not.toContain('__cxa_finalize');
  });

  it('refused for several reasons: one error naming each with its code, its code the most fundamental (ELIBC before ETLS)', async () => {
    const message = await loadError(so.libcTls, 'ELIBC');
    expect(message).toBe(`${so.libcTls}: refused for 3 reasons:\n` +
      '  the driver calls functions outside the nooks kernel API (puts); drivers may only use the kernel API of <nooks/kapi.h> and the ' +
      'class headers, or, built with nooks build --posix, the C library subset of the POSIX personality [ELIBC]\n' +
      "  the driver has thread-local storage (__thread, _Thread_local: PT_TLS), which would live with the host's threads, outside any domain; " +
      'refused (built with nooks build --posix, a driver has its own __thread variables per thread in its domain; never one it does not ' +
      'define) [ETLS]\n' +
      '  the driver has constructors (.init_array (DT_INIT_ARRAY)), code that would run in the host, outside its domain, when it is loaded; ' +
      'refused (use module_init and module_exit, or build it with nooks build --posix, which runs them inside the domain) [ECTOR]');
  });

  it('no module_init: ENOINIT', async () => {
    await loadError(so.noinit, 'ENOINIT');
  });

  it('an unresolved symbol: EUNRESOLVED, naming it', async () => {
    expect(await loadError(so.unresolved, 'EUNRESOLVED')).toContain('nooks_no_such_call'); // names the symbol
  });

  it('a crafted C++ name that would demangle into 49 MB: shown as it is', async () => {
    const message = await loadError(so.demanglingBomb, 'EUNRESOLVED');
    expect(message).toContain(demanglingBomb(40).slice(0, 512));
    expect(message.length).toBeLessThan(1024);
  });

  it('40 unresolved names: the first 32 named, then how many more', async () => {
    const message = await loadError(so.manyUnresolved, 'EUNRESOLVED');
    expect(message.match(/nooks_missing_\d+/g)).toHaveLength(32);
    expect(message).toContain(' and 8 more');
  });

  it('a driver whose code segment may not be read (its flags patched to none): refused, the host unharmed', async () => {
    const path = buildDriver(dir, 'unreadable_text', '#include <nooks/kapi.h>\nNOOKS_EXPORT long answer(void) { return 1; }\n' +
      'static int start(void) { return 0; }\nmodule_init(start);\n');
    const elf = readFileSync(path);
    const phoff = Number(elf.readBigUInt64LE(0x20)), phentsize = elf.readUInt16LE(0x36), phnum = elf.readUInt16LE(0x38);
    const text = Array.from({ length: phnum }, (_, i) => phoff + i * phentsize).find((o) => elf.readUInt32LE(o) === 1 && (elf.readUInt32LE(o + 4) & 1));
    elf.writeUInt32LE(0, text! + 4); // PT_LOAD's p_flags: no PF_X, no PF_R
    writeFileSync(path, elf);
    // the loader's check that the mapping is the file it read once compared this segment too (a SIGSEGV in the host)
    expect((await rejectionOf(kernel().load(path))).code).toBe('ENOINIT');
  });

  it('a libc call: ELIBC, naming it', async () => {
    const message = await loadError(so.libc, 'ELIBC');
    expect(message).toContain('puts'); // names the function
    expect(message).toContain('kapi.h'); // and the fix
  });

  it('a weak import the host defines: ELIBC, naming it and not the weak import nothing defines', async () => {
    const message = await loadError(so.weakLibc, 'ELIBC');
    expect(message).toContain('(getpid)');
  });

  it('thread-local storage (__thread) in a driver built without the POSIX personality: ETLS', async () => {
    const refused = await loadError(so.tls, 'ETLS');
    expect(refused).toContain('__thread');
    expect(refused).toContain('nooks build --posix'); // which serves __thread variables per driver thread (test/posix-tls.test.ts)
  });

  // ETLS alone: what the user must mend is the __thread variable, wherever it is
  // defined; a variable is not a function the driver calls, nor a symbol to define.
  it('a relocation for a __thread variable it does not define: ETLS naming the variable, not a malformed file nor an unresolved symbol', async () => {
    const message = await loadError(so.externTls, 'ETLS');
    expect(message).toMatch(/^\S+: the driver has thread-local storage \(relocation \d+ of DT_RELA, for the __thread variable nooks_elsewhere\)/);
    expect(message).not.toContain('unresolved');
  });

  it('extern __thread int errno (which the host defines): ETLS naming it, not a function outside the kernel API', async () => {
    const message = await loadError(so.externErrno, 'ETLS');
    expect(message).toContain('for the __thread variable errno)');
    expect(message).not.toContain('outside the nooks kernel API');
  });

  it('its own __thread variable and errno: one ETLS line naming both, errno once however often it is used', async () => {
    const message = await loadError(so.ownAndErrnoTls, 'ETLS');
    expect(message).toMatch(/^\S+: the driver has thread-local storage \(__thread, _Thread_local: PT_TLS; relocation \d+ of DT_RELA, for the __thread variable errno\), which/);
    expect(message.split('\n')).toHaveLength(1);
  });

  describe('thread-local storage a driver of the POSIX personality cannot have: ETLS', () => {
    it("the initial-exec model (the host thread's own TLS), naming the variable and the flag", async () => {
      const message = await loadError(so.initialExec, 'ETLS');
      expect(message).toMatch(/thread-local storage of the initial-exec model \(relocation \d+ of DT_RELA, for the __thread variable hits\)/);
      expect(message).toContain('-ftls-model=initial-exec');
    });

    it('TLS descriptors (-mtls-dialect=gnu2), naming the flag to build with', async () => {
      const message = await loadError(so.tlsdesc, 'ETLS');
      expect(message).toMatch(/through TLS descriptors \(relocation \d+ of DT_(RELA|JMPREL), for the __thread variable hits\)/);
      expect(message).toContain('build it with -mtls-dialect=gnu');
    });

    it('a __thread variable it does not define, naming it', async () => {
      const message = await loadError(so.posixExternTls, 'ETLS');
      expect(message).toMatch(/thread-local storage \(relocation \d+ of DT_RELA, for the __thread variable nooks_elsewhere\), which would live with the host's threads/);
    });

    it('a block larger than 64 KiB, naming its size', async () => {
      const message = await loadError(so.largeTls, 'ETLS');
      expect(message).toContain('thread-local storage (PT_TLS) is 65537 bytes aligned to 1,');
      expect(message).toContain('at most 65536 bytes');
    });
  });

  /** A copy of `path` (as `name`.so) with its first thread-local-storage relocation, at file offset r, changed by `change`. */
  function corruptTlsRelocation(path: string, name: string, change: (elf: Buffer, r: number) => void): string {
    const elf = readFileSync(path);
    const shoff = Number(elf.readBigUInt64LE(0x28));
    const tls = new Set([16, 17, 18, 23, 36]); // DTPMOD64, DTPOFF64, TPOFF64, TPOFF32, TLSDESC
    for (let i = 0; i < elf.readUInt16LE(0x3c); i++) {
      const sh = shoff + 64 * i;
      if (elf.readUInt32LE(sh + 4) !== 4) continue; // SHT_RELA
      const at = Number(elf.readBigUInt64LE(sh + 24)), size = Number(elf.readBigUInt64LE(sh + 32));
      for (let r = at; r < at + size; r += 24) {
        if (!tls.has(elf.readUInt32LE(r + 8))) continue;
        change(elf, r);
        const out = join(dir, `${name}.so`);
        writeFileSync(out, elf);
        return out;
      }
    }
    throw new Error(`${path} has no thread-local-storage relocation`);
  }

  it('a thread-local-storage relocation out of range: a malformed file (ENOTELF), not ETLS', async () => {
    const badSymbol = corruptTlsRelocation(so.externTls, 'tls_bad_symbol', (elf, r) => elf.writeUInt32LE(0xffffffff, r + 12));
    expect(await loadError(badSymbol, 'ENOTELF')).toMatch(/relocation \d+ of DT_RELA names a symbol out of range$/);
    const badTarget = corruptTlsRelocation(so.externTls, 'tls_bad_target', (elf, r) => elf.writeBigUInt64LE(0x7fff00000000n, r));
    expect(await loadError(badTarget, 'ENOTELF')).toMatch(/relocation \d+ of DT_RELA writes outside the driver's writable data \(offset 0x7fff00000000\)$/);
  });

  it('a file larger than any driver (a sparse 1 TiB): ENOTELF naming the file and its size, not read', async () => {
    const path = join(dir, 'huge.so');
    writeFileSync(path, '');
    truncateSync(path, 2 ** 40); // no disk: a hole
    expect(await loadError(path, 'ENOTELF')).toBe(`${path}: the file is 1099511627776 bytes, larger than any driver (at most 256 MiB); not read`);
  });

  it('the WRPKRU byte sequence in its code: EWRPKRU', async () => {
    expect(await loadError(so.wrpkru, 'EWRPKRU')).toMatch(/WRPKRU.* 0x[0-9a-f]+/); // names the instruction and where it is
  });

  it('a WRFSBASE in its code (it could move the thread context the crossing trusts): EWRPKRU', async () => {
    expect(await loadError(so.wrfsbase, 'EWRPKRU')).toMatch(/WRFSBASE.* 0x[0-9a-f]+/);
  });

  /** The program headers of `elf`: where each is in the file, and its fields. */
  function programHeaders(elf: Buffer) {
    const phoff = Number(elf.readBigUInt64LE(0x20));
    return Array.from({ length: elf.readUInt16LE(0x38) }, (_, i) => {
      const at = phoff + 56 * i;
      const field = (o: number) => Number(elf.readBigUInt64LE(at + o));
      return { at, type: elf.readUInt32LE(at), flags: elf.readUInt32LE(at + 4), offset: field(8), vaddr: field(16), filesz: field(32) };
    });
  }
  const PT_LOAD = 1;
  const PT_GNU_STACK = 0x6474e551;
  const PF_X = 1;
  const PF_W = 2;
  const PF_R = 4;
  const pageUp = (n: number) => Math.ceil(n / 4096) * 4096;

  /** A clean driver built as `name`, its bytes changed by `change` (given the file and its executable PT_LOAD). */
  function craftedDriver(name: string, change: (elf: Buffer, text: ReturnType<typeof programHeaders>[number]) => void): string {
    const path = buildDriver(dir, name, '#include <nooks/kapi.h>\nNOOKS_EXPORT long add(long a, long b) { return a + b; }\n' +
      'static int start(void) { return 0; }\nmodule_init(start);\n');
    const elf = readFileSync(path);
    change(elf, programHeaders(elf).find((p) => p.type === PT_LOAD && p.flags & PF_X)!);
    writeFileSync(path, elf);
    return path;
  }

  // dlopen maps whole pages: the rest of the text segment's last page is executable too (there the reviewer ran a WRPKRU)
  it('a WRPKRU in the text segment\'s last page past its file bytes, mapped executable all the same: EWRPKRU', async () => {
    let at = 0;
    const path = craftedDriver('wrpkru_page_tail', (elf, text) => {
      at = pageUp(text.offset + text.filesz) - 3;
      expect(at).toBeGreaterThanOrEqual(text.offset + text.filesz); // room past the segment's bytes
      elf.set([0x0f, 0x01, 0xef], at);
    });
    expect(await loadError(path, 'EWRPKRU')).toContain(`WRPKRU instruction sequence at file offset 0x${at.toString(16)}`);
  });

  it('a WRPKRU split across two adjacent executable segments: EWRPKRU', async () => {
    let at = 0;
    const path = craftedDriver('wrpkru_straddling', (elf, text) => {
      const next = programHeaders(elf).find((p) => p.type === PT_LOAD && p.vaddr > text.vaddr)!;
      expect(next.vaddr).toBe(pageUp(text.vaddr + text.filesz)); // its pages follow the text's
      elf.writeUInt32LE(next.flags | PF_X, next.at + 4);
      at = pageUp(text.offset + text.filesz) - 2;
      elf.set([0x0f, 0x01], at); // the last two bytes of the text's last page
      expect(next.offset % 4096).toBe(0);
      elf[next.offset] = 0xef; // the first of the next segment's
    });
    expect(await loadError(path, 'EWRPKRU')).toContain(`WRPKRU instruction sequence at file offset 0x${at.toString(16)}`);
  });

  it('a segment both writable and executable (code that could rewrite itself past the scan): ENOTELF, saying so', async () => {
    const path = craftedDriver('writable_text', (elf, text) => elf.writeUInt32LE(text.flags | PF_W, text.at + 4));
    expect(await loadError(path, 'ENOTELF')).toMatch(/program header \d+ \(PT_LOAD\) is both writable and executable/);
  });

  // Before: an execute-only segment was skipped by the comparison of the file mapped with the file checked: a file
  // swapped in between ran unscanned code.
  it('a segment executable but not readable (code the loader could not compare once mapped): ENOTELF, saying so', async () => {
    const path = craftedDriver('execute_only_text', (elf, text) => elf.writeUInt32LE(text.flags & ~PF_R, text.at + 4));
    expect(await loadError(path, 'ENOTELF')).toMatch(/program header \d+ \(PT_LOAD\) is executable but not readable/);
  });

  // glibc would make every thread's stack in the host executable
  it('an executable stack asked for (PT_GNU_STACK with PF_X, or none): ENOTELF, naming the cause and -z noexecstack', async () => {
    const execstack = buildDriver(dir, 'execstack', '#include <nooks/kapi.h>\nstatic int start(void) { return 0; }\nmodule_init(start);\n',
      { extraLdflags: ['-Wl,-z,execstack'] });
    let message = await loadError(execstack, 'ENOTELF');
    expect(message).toContain('the driver asks for an executable stack (its PT_GNU_STACK has PF_X)');
    expect(message).toContain('link it with -z noexecstack, as nooks build does');
    const none = craftedDriver('no_gnu_stack', (elf) => elf.writeUInt32LE(0, programHeaders(elf).find((p) => p.type === PT_GNU_STACK)!.at)); // PT_NULL
    message = await loadError(none, 'ENOTELF');
    expect(message).toContain('the driver asks for an executable stack (it has no PT_GNU_STACK)');
  });

  it('an assembly source without .note.GNU-stack: nooks build links it with a stack that is not executable, and it loads', async () => {
    writeFileSync(join(dir, 'forty_two.S'), '\t.text\n\t.globl asm_forty_two\n\t.hidden asm_forty_two\nasm_forty_two:\n\tmov $42, %eax\n\tret\n');
    writeFileSync(join(dir, 'asm_driver.c'), '#include <nooks/kapi.h>\nlong asm_forty_two(void);\n' +
      'NOOKS_EXPORT long fortytwo(void) { return asm_forty_two(); }\nstatic int start(void) { return 0; }\nmodule_init(start);\n');
    const { path } = build({ sources: [join(dir, 'asm_driver.c'), join(dir, 'forty_two.S')], out: join(dir, 'asm_driver.so') });
    const d = await kernel().load(path);
    expect(d.call('fortytwo')).toBe(42);
    d.unload();
  });

  it('text relocations (code built without -fPIC): ENOTELF, saying so and naming -fPIC, not an unsupported entry', async () => {
    const path = buildDriver(dir, 'textrel', '#include <nooks/kapi.h>\nlong counter;\n' +
      'NOOKS_EXPORT long f(void) { long *p; __asm__("movabs $counter, %0" : "=r"(p)); return ++*p; }\n' +
      'static int start(void) { return 0; }\nmodule_init(start);\n');
    expect(await loadError(path, 'ENOTELF')).toBe(`${path}: the driver has text relocations (DT_TEXTREL), code the dynamic loader would ` +
      'rewrite: compile it with -fPIC (nooks build does)');
  });

  it('module_init returning -ENODEV: EINITFAILED', async () => {
    expect(await loadError(so.nodev, 'EINITFAILED')).toContain('module_init returned -19 (ENODEV)'); // names what module_init returned, with its errno's name
    // the kernel log says so too, with an event for programs
    expect(kernel().log().at(-1)).toMatchObject({ level: 3, source: 'nodev', event: { kind: 'init-failed', driver: 'nodev', returned: -19 } });
  });

  it('module_init faulting: EINITFAULT, with the fault', async () => {
    expect(await loadError(so.initfault, 'EINITFAULT')).toContain('address 0x0'); // names where it faulted
    expect(kernel().log().at(-1)).toMatchObject({ level: 3, source: 'initfault', event: { kind: 'init-faulted', driver: 'initfault', fault: 'segv' } });
    // the kernel is unharmed: the next driver loads and runs
    const drv = await kernel().load('null');
    expect(drv.call('nop')).toBe(0);
    drv.unload();
  });

  // An edit-build-reload loop replaces the file as a compiler does (renames its output over it) while the old build
  // is loaded. Before, the fault read the file's .symtab at the fault, the new build's: 'in rebuilt.so:impostor+0x..'
  // or no name.
  it('a fault names the function of the build that was loaded, not of the file rebuilt since', async () => {
    const source = (fns: string, call: string) => `#include <nooks/kapi.h>\n${fns}\nNOOKS_EXPORT long f(long x) { return ${call}((long *)x); }\n` +
      'static int ok_init(void) { return 0; }\nmodule_init(ok_init);\n';
    const path = buildDriver(dir, 'rebuilt', source('static __attribute__((noipa)) long victim(long *p) { return *p + 1; }', 'victim'));
    const drv = await kernel().load(path);
    const newer = mkdtempSync(join(dir, 'newer-'));
    const filler = Array.from({ length: 64 }, (_, i) => `s = s * ${i + 3} + p[${i}];`).join(' ');
    renameSync(buildDriver(newer, 'rebuilt', source(
      `static __attribute__((noipa)) long impostor(long *p) { long s = 0; ${filler} return s; }`, 'impostor')), path);
    expect(() => drv.call('f', 0)).toThrow(expect.objectContaining({ message: expect.stringMatching(/ in rebuilt\.so:victim\+0x[0-9a-f]+$/) }));
    drv.unload();
  });

  it('a fault past a function symbol nested in another is named after the one that holds it', async () => {
    const path = buildDriver(dir, 'nested', '#include <nooks/kapi.h>\n' +
      '__asm__(".text\\n.type outer_fn,@function\\nouter_fn:\\n" "nop\\nnop\\nnop\\nnop\\nnop\\nnop\\nnop\\nnop\\n"\n' +
      '  ".type inner_fn,@function\\ninner_fn:\\nnop\\nnop\\nnop\\nnop\\n.size inner_fn,4\\n"\n' +
      '  "xorl %eax,%eax\\nmovq (%rax),%rax\\nret\\n.size outer_fn,.-outer_fn\\n");\n' +
      'long outer_fn(void);\nNOOKS_EXPORT long f(void) { return outer_fn(); }\nstatic int ok_init(void) { return 0; }\nmodule_init(ok_init);\n');
    const drv = await kernel().load(path);
    expect(() => drv.call('f')).toThrow(expect.objectContaining({ message: expect.stringMatching(/ in nested\.so:outer_fn\+0xe$/) }));
    drv.unload();
  });

  it('the same driver twice', async () => {
    const drv = await kernel().load('null');
    // by name...
    expect(await rejectionOf(kernel().load('null'))).toMatchObject({ code: 'EEXIST', message: expect.stringContaining("'null'") });
    // ...and the same file under another name: one domain per file
    const err = await rejectionOf(kernel().load('null', { name: 'null2' }));
    expect(err.code).toBe('ELOADED');
    expect(err.message).toContain(driverPath('null'));
    expect(kernel().domains().map((d) => d.name)).toEqual(['null']);
    drv.unload();
  });
});
