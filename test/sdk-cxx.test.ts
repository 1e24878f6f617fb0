// Drivers written in C++ (docs/drivers.md, C++ drivers): `nooks build x.cc`
// compiles them with g++ (no exceptions, no RTTI) and links the C++ runtime
// (native/driver-rt/cxx/: operator new and delete on the driver's heap, the
// guards of function-local statics, pure-virtual calls, libstdc++'s throw
// helpers as contained failures). A kernel-API driver with classes, virtual
// methods, templates, lambdas, std::vector, std::array and std::unique_ptr
// runs in every isolation mode; its failures are contained and named, with
// C++ names demangled; what needs libstdc++.so is refused, by readable names.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy, Kernel, type Isolation } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { buildDriver } from '../lib/sdk/build.js';
import { newDriver } from '../lib/sdk/new.js';
import { nooks, shown } from './helpers/cli.js';
import { faultOf, rejectionOf, runNode, until } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-sdk-cxx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fixtures = join(packageRoot, 'test', 'fixtures', 'cxx');
const driver = buildDriver({ sources: [join(fixtures, 'kapi_driver.cc')], out: join(dir, 'cxxdrv.so'), extraCflags: ['-Werror'] }).path;

describe.each<Isolation>(['none', 'mprotect', 'process'])("a kernel-API driver in C++, isolation '%s'", (isolation) => {
  const contained = isolation !== 'none';
  let kernel: Kernel;
  beforeAll(async () => {
    // the driver fails eight times in this kernel, on purpose: not a bug its recovery policy should give up on
    kernel = await Kernel.boot({ isolation, policy: { default: { ...defaultPolicy.default, maxFailures: 10 }, drivers: new Map() } });
  });
  afterAll(() => kernel.shutdown());
  afterEach(() => kernel.driver('cxxdrv')?.unload()); // each test loads it afresh

  it('classes with virtual methods, new and delete, std::unique_ptr, std::vector, std::array, a template and a lambda', async () => {
    const drv = await kernel.load(driver);
    expect(drv.call('shapes')).toBe(12 + 25 + 1 + 4 + 9);
    expect(drv.call('containers', 1000)).toBe(1000 * 1001 + 10); // 1000 push_backs: the vector grew (_M_realloc_insert) ten times
    expect(drv.call('array_at', 2)).toBe(3);
    // everything new gave was deleted: no memory object left but what the kernel holds for itself
    expect(drv.objects().filter((o) => o.type === 'memory' && o.label === 'malloc')).toEqual([]);
  });

  it('a function-local static reached by a work item and the caller at once is constructed once, the other waiting at its guard; both see it constructed', async () => {
    const drv = await kernel.load(driver);
    expect(drv.call('racing_statics')).toBe(42101); // value 42, a waiter seen at the guard while constructing, one construction
  });

  if (contained) {
    it('a fault in a member function is contained and named by its C++ name', async () => {
      const drv = await kernel.load(driver);
      const f = faultOf(() => drv.call('member_fault'));
      expect(f.kind).toBe('segv');
      expect(f.message).toMatch(/segmentation fault at address 0x0 in cxxdrv\.so:drv::Device::read_register\(long const volatile\*\) const\+0x/);
      expect(drv.state).toBe('running');
      expect(drv.call('shapes')).toBe(51);
    });

    it('a pure virtual call, a failed new, an aligned new past a page, std::array::at out of range and an empty std::optional\'s value() are contained failures that say what failed', async () => {
      const drv = await kernel.load(driver, { memLimitBytes: 1 << 20 });
      expect(faultOf(() => drv.call('pure_call'))).toMatchObject({
        kind: 'abort', message: expect.stringContaining('__cxa_pure_virtual: a pure virtual function was called'),
      });
      expect(drv.state).toBe('running');
      expect(drv.call('big_new_nothrow', 4 << 20)).toBe(0); // new (std::nothrow) past the limit: nullptr
      expect(drv.call('big_new', 4096)).toBe(1);
      expect(faultOf(() => drv.call('big_new', 4 << 20))).toMatchObject({
        kind: 'abort', message: expect.stringContaining("operator new[]: cannot allocate 4194304 bytes (aligned to 16) in the driver's heap"),
      });
      expect(drv.call('aligned_new', 4096)).toBe(1);
      expect(faultOf(() => drv.call('aligned_new', 8192))).toMatchObject({
        kind: 'abort', message: expect.stringContaining("operator new[]: cannot allocate 16 bytes aligned to 8192: the driver's heap aligns to at most 4096"),
      });
      expect(faultOf(() => drv.call('array_at', 7))).toMatchObject({
        kind: 'abort', message: expect.stringContaining('std::__throw_out_of_range_fmt: array::at: __n (which is 7) >= _Nm (which is 4)'),
      });
      expect(drv.call('optional_value', 1)).toBe(7);
      expect(faultOf(() => drv.call('optional_value', 0))).toMatchObject({ kind: 'abort', message: 'cxxdrv: abort()' });
      expect(drv.state).toBe('running');
      expect(drv.call('containers', 10)).toBe(120);
    });

    it('a function-local static whose initialiser reaches it again is a contained failure that says so, from a call and from a work item', async () => {
      const says = '__cxa_guard_acquire: recursive initialisation of a function-local static';
      let drv = await kernel.load(driver);
      expect(faultOf(() => drv.call('recursive_static'))).toMatchObject({ kind: 'abort', message: expect.stringContaining(says) });
      expect(drv.state).toBe('running');
      drv.unload();
      drv = await kernel.load(driver);
      const before = kernel.events().length;
      const since = () => kernel.events().slice(before);
      try {
        drv.call('recursive_static_in_work');
      } catch {
        // the work item failed while the call was still in the driver: the call fails with its fault, asserted below
      }
      await until(() => since().some((e) => e.event === 'recovered'), "the recovery from the work item's fault");
      expect(since().find((e) => e.event === 'fault')?.fault).toMatchObject({ kind: 'abort', message: expect.stringContaining(says) });
      expect(drv.call('shapes')).toBe(51);
    });
  }
});

const posixDriver = buildDriver({
  sources: [join(fixtures, 'posix_driver.cc'), join(fixtures, 'posix_helper.c')], out: join(dir, 'cxxposix.so'), posix: true, extraCflags: ['-Werror'],
}).path;

describe.each<Isolation>(['none', 'mprotect', 'process'])("a POSIX-personality driver in C++ and C, isolation '%s'", (isolation) => {
  it('its global object is constructed in the domain at load; it and a function-local static are destroyed at unload', async () => {
    const kernel = await Kernel.boot({ isolation });
    try {
      const lines = () => kernel.log().filter((l) => l.source === 'cxxposix').map((l) => l.text);
      const drv = await kernel.load(posixDriver);
      expect(lines()).toEqual(['global: constructed']);
      expect(drv.call('doubled', 21)).toBe(42); // by the C source: one build of both languages
      expect(drv.call('log_lines', 5)).toBe(5005);
      expect(lines()).toEqual(['global: constructed', 'local: constructed']);
      const before = kernel.log().length;
      drv.unload();
      expect(kernel.log().slice(before).filter((l) => l.source === 'cxxposix').map((l) => l.text)).toEqual([
        'local: destroyed after 5 lines', // registered with __cxa_atexit at its construction: destroyed first
        'global: destroyed after 5 lines',
      ]);
    } finally {
      await kernel.shutdown();
    }
  });
});

describe('what a C++ driver may not use', () => {
  let kernel: Kernel;
  beforeAll(async () => {
    kernel = await Kernel.boot({ isolation: 'mprotect' });
  });
  afterAll(() => kernel.shutdown());

  /** The kernel's refusal of `source` built as <name>.so: built without the load check the nooks build CLI makes. */
  async function refusalOf(name: string, source: string): Promise<Error & { code?: string }> {
    const src = join(dir, `${name}.cc`);
    writeFileSync(src, `#include <nooks/kapi.h>\n${source}\nstatic int start(void) { return 0; }\nmodule_init(start);\n`);
    return rejectionOf(kernel.load(buildDriver({ sources: [src], out: join(dir, `${name}.so`) }).path));
  }

  it('a kernel-API driver with a global object that has a constructor is refused (ECTOR), pointing at --posix', async () => {
    const e = await refusalOf('global', `
struct Counter { Counter() : n(jiffies) {} unsigned long n; };
static Counter counter;
NOOKS_EXPORT long read_counter(void) { return (long)counter.n; }`);
    expect(e.message).toContain('the driver has constructors (.init_array (DT_INIT_ARRAY))');
    expect(e).toMatchObject({ code: 'ECTOR', message: expect.stringContaining('build it with nooks build --posix, which runs them inside the domain)') });
  });

  it('a kernel-API driver with a function-local static that has a destructor is refused (__cxa_atexit: ELIBC), as C++', async () => {
    const e = await refusalOf('local', `
struct Holder { Holder() : p(kmalloc(16, GFP_KERNEL)) {} ~Holder() { kfree(p); } void *p; };
NOOKS_EXPORT long held(void) { static Holder h; return h.p != nullptr; }`);
    expect(e).toMatchObject({ code: 'ELIBC', message: expect.stringContaining('(__cxa_atexit)') });
    expect(e.message).toContain('a C++ driver is served only the header-only part of the C++ library');
  });

  it('std::string and iostream (libstdc++.so) are refused, by their demangled names', async () => {
    const e = await refusalOf('strings', `
#include <iostream>
#include <string>
NOOKS_EXPORT long greet(long n)
{
	std::string s(static_cast<size_t>(n), 'x');
	s += " and more text than fits in the small-string buffer";
	std::cout << s << std::endl;
	return (long)s.size();
}`);
    expect(e.code).toBe('ELIBC');
    expect(e.message).toContain('std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::');
    expect(e.message).toContain('std::ostream::flush()');
    expect(e.message).not.toMatch(/_ZNS/); // no mangled name left
    expect(e.message).toContain('a C++ driver is served only the header-only part of the C++ library');
  });
});

describe('nooks build of C and C++ sources', () => {
  it('the C++ runtime is hidden in the driver: it exports its entry points and the runner only, not operator new & co.', () => {
    const exported = execFileSync('nm', ['-D', '--defined-only', driver], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(' ').at(-1)).sort();
    expect(exported).toEqual(['aligned_new', 'array_at', 'big_new', 'big_new_nothrow', 'containers', 'member_fault', 'nooks_batch_run', 'nooks_module_init',
      'optional_value', 'pure_call', 'racing_statics', 'recursive_static', 'recursive_static_in_work', 'shapes']);
  });

  it('a -std= of the user\'s goes to its language\'s compiler only: a C++ one to g++, a C one to cc', () => {
    const built = buildDriver({
      sources: [join(fixtures, 'posix_driver.cc'), join(fixtures, 'posix_helper.c')], out: join(dir, 'std.so'), posix: true,
      extraCflags: ['-Werror', '-std=gnu++20', '-std=gnu17'],
    });
    expect(built.warnings).toBe(''); // else g++ fails: "command-line option '-std=gnu17' is valid for C/ObjC but not for C++ [-Werror]"
  });

  it('extraCxxflags go to the C++ sources instead of extraCflags, which then go to the C sources only', () => {
    const built = buildDriver({
      sources: [join(fixtures, 'posix_driver.cc'), join(fixtures, 'posix_helper.c')], out: join(dir, 'split.so'), posix: true,
      extraCflags: ['-Werror', '-Wstrict-prototypes'], extraCxxflags: ['-Werror'],
    });
    expect(built.warnings).toBe(''); // else g++ fails: "command-line option '-Wstrict-prototypes' is valid for C/ObjC but not for C++ [-Werror]"
  });
});

describe('nooks sdk --cxxflags, --cxx-ldflags: a C++ driver built as make builds it', () => {
  it('compiled by g++ with the one, linked by cc with the other, it loads and runs', async () => {
    const flags = await nooks(['sdk', '--cxxflags', '--cxx-ldflags'], { cwd: dir, timeoutMs: 30_000 });
    expect(flags.code, shown(flags)).toBe(0);
    const [cxxflags, ldflags] = flags.stdout.trim().split('\n').map((l) => l.split(' '));
    const object = join(dir, 'made.o'), so = join(dir, 'made.so');
    execFileSync('g++', [...cxxflags, '-Werror', '-c', join(fixtures, 'kapi_driver.cc'), '-o', object]);
    execFileSync('cc', [object, '-o', so, ...ldflags]);
    const kernel = await Kernel.boot({ isolation: 'mprotect' });
    try {
      expect((await kernel.load(so)).call('containers', 10)).toBe(120);
    } finally {
      await kernel.shutdown();
    }
  });
});

describe('nooks new --lang c++', () => {
  const project = join(dir, 'project');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'drivers', private: true, type: 'module' }));
  symlinkSync(packageRoot, join(project, 'node_modules', 'nooks')); // what `npm install nooks` gives

  it('writes the plain driver in C++; it builds with no warnings under -Werror and the test it writes passes', async () => {
    const made = newDriver('hello', 'plain', project, false, 'c++');
    expect(made.files).toEqual(['hello/hello.cc', 'hello/hello.test.mjs', 'hello/workload.mjs', 'hello/bench.mjs']);
    expect(made.scripts['build:hello']).toBe('nooks build hello/hello.cc -o build/hello.so');
    expect(readFileSync(join(project, 'hello', 'hello.test.mjs'), 'utf8')).toContain('`npx nooks build hello/hello.cc -o build/hello.so`');
    const built = buildDriver({ sources: [join(project, 'hello', 'hello.cc')], out: join(project, 'build', 'hello.so'), extraCflags: ['-Werror'] });
    expect(built.warnings).toBe('');
    const r = await runNode(['--test', 'hello/hello.test.mjs'], project, 30_000);
    expect(r.stdout, r.stderr).toMatch(/^# pass 3$/m);
    expect(r.code).toBe(0);
  }, 40_000);

  it('writes every class in C++ from the command line (test/sdk-templates.test.ts runs them), and refuses an unknown language', async () => {
    for (const cls of ['block', 'net', 'serial', 'sound']) {
      const r = await nooks(['new', `my_${cls}`, '--class', cls, '--lang', 'c++', '--json'], { cwd: project, timeoutMs: 30_000 });
      expect(r.code, shown(r)).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ class: cls, files: [`my_${cls}/my_${cls}.cc`, `my_${cls}/my_${cls}.test.mjs`, `my_${cls}/workload.mjs`, `my_${cls}/bench.mjs`] });
    }
    const r = await nooks(['new', 'disk', '--lang', 'rust'], { cwd: project, timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    for (const named of ['--lang', '"rust"', 'c, c++']) expect(r.stderr).toContain(named);
  }, 40_000);
});

describe("the static data of inline functions: each POSIX driver's own (-fno-gnu-unique), never shared through glibc", () => {
  // g++ makes such data STB_GNU_UNIQUE, which glibc binds to one copy for every module and never unloads
  const counterDriver = (name: string, add: number, extraCxxflags?: string[]) => {
    const src = join(dir, `${name}.cc`);
    writeFileSync(src, `inline int &counter() { static int c; return c; }\nextern "C" long bump(void) { counter() += ${add}; return counter(); }\n`);
    return buildDriver({ sources: [src], out: join(dir, `${name}.so`), posix: true, extraCxxflags }).path;
  };
  let kernel: Kernel;
  beforeAll(async () => {
    kernel = await Kernel.boot({ isolation: 'mprotect' });
  });
  afterAll(() => kernel.shutdown());

  it('two drivers count apart, and one unloaded loads again', async () => {
    const path = counterDriver('unique_a', 1);
    const a = await kernel.load(path), b = await kernel.load(counterDriver('unique_b', 100));
    expect([a.call('bump'), b.call('bump'), a.call('bump')]).toEqual([1, 100, 2]);
    a.unload();
    const again = await kernel.load(path);
    expect(again.call('bump')).toBe(1);
    again.unload();
    b.unload();
  });

  it('a driver built with -fgnu-unique is refused: EUNIQUE, naming the data', async () => {
    const path = counterDriver('unique_kept', 1, ['-fgnu-unique']);
    expect(await rejectionOf(kernel.load(path))).toMatchObject({ code: 'EUNIQUE', message: expect.stringContaining('counter()::c') });
  });
});
