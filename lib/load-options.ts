// kernel.load's options, checked as the policy file's entries are (the same
// words): a bad value is refused before anything is loaded, naming the option.
import type { LoadOptions } from './kernel.js';
import { pciAddress } from './pci.js';
import { describeValue, flagProblem, limitProblem } from './recovery/policy.js';

const keys = ['name', 'timeBudgetMs', 'memLimitBytes', 'dmaBytes', 'shadow', 'patches', 'params', 'env', 'devices', 'argv'];

/** The DMA memory a load may ask for: whole 2 MiB pages, within the domain's 256 MiB bus window. */
const HUGE = 2 << 20;
const maxDmaBytes = 256 << 20;

function dmaProblem(v: unknown): string | undefined {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < HUGE || v > maxDmaBytes || v % HUGE !== 0)
    return `expected a multiple of 2 MiB (2097152) from 2 MiB to 256 MiB, got ${describeValue(v)}`;
  return undefined;
}

function patchesProblem(v: unknown): [string, string] | undefined {
  if (!Array.isArray(v)) return ['', `expected a list of text patches, got ${describeValue(v)}`];
  for (const [i, p] of v.entries()) {
    const at = `[${i}]`;
    if (typeof p !== 'object' || p === null) return [at, `expected a text patch { offset, bytes, transient }, got ${describeValue(p)}`];
    if (!Number.isSafeInteger(p.offset) || p.offset < 0) return [`${at}.offset`, `expected a non-negative integer, got ${describeValue(p.offset)}`];
    if (!Buffer.isBuffer(p.bytes)) return [`${at}.bytes`, `expected a Buffer, got ${describeValue(p.bytes)}`];
    const flag = flagProblem(p.transient);
    if (flag) return [`${at}.transient`, flag];
  }
  return undefined;
}

// The POSIX personality's environment: C identifiers to strings its getenv can return whole.
function envProblem(v: unknown): [string, string] | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return ['', `expected an object { NAME: value }, got ${describeValue(v)}`];
  for (const [name, value] of Object.entries(v)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,255}$/.test(name)) return [`.${name}`, 'expected a name of letters, digits and _, not starting with a digit, at most 256 characters'];
    if (typeof value !== 'string') return [`.${name}`, `expected a string, got ${describeValue(value)}`];
    if (value.includes('\0') || Buffer.byteLength(value) > 4095) return [`.${name}`, `expected a string without NUL of at most 4095 bytes, got ${describeValue(value)}`];
  }
  return undefined;
}

// A program's argv: what its main can be given (the strings and the vector in its heap).
const maxArgs = 256;
const maxArgBytes = 64 << 10;
function argvProblem(v: unknown): [string, string] | undefined {
  if (!Array.isArray(v) || v.length === 0 || v.length > maxArgs)
    return ['', `expected a list of 1 to ${maxArgs} strings, argv[0] first, got ${describeValue(v)}`];
  let bytes = 0;
  for (const [i, a] of v.entries()) {
    if (typeof a !== 'string' || a.includes('\0')) return [`[${i}]`, `expected a string without NUL, got ${describeValue(a)}`];
    bytes += Buffer.byteLength(a) + 1;
  }
  if (bytes > maxArgBytes) return ['', `${bytes} bytes with their NULs, more than ${maxArgBytes}`];
  return undefined;
}

// The devices a driver holds: PCI addresses (lib/pci.ts's forms), each once.
function devicesProblem(v: unknown): [string, string] | undefined {
  if (!Array.isArray(v)) return ['', `expected a list of PCI addresses, got ${describeValue(v)}`];
  const seen = new Set<string>();
  for (const [i, a] of v.entries()) {
    let address: string;
    try {
      address = pciAddress(typeof a === 'string' ? a : '');
    } catch {
      return [`[${i}]`, `expected a PCI address like 0000:00:02.0, got ${describeValue(a)}`];
    }
    if (seen.has(address)) return [`[${i}]`, `${address} is named twice`];
    seen.add(address);
  }
  return undefined;
}

/** Throws an Error (code EINVAL) naming the driver, the option and the value. */
export function checkLoadOptions(driver: string, options: unknown): LoadOptions {
  const fail = (key: string, problem: string) =>
    Object.assign(new Error(`${driver}: load option${key ? ` ${key}` : 's'}: ${problem} [EINVAL]`), { code: 'EINVAL' });
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw fail('', `expected an object, got ${describeValue(options)}`);
  const o = options as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !keys.includes(k));
  if (unknown !== undefined) throw fail(unknown, `unknown option (expected one of ${keys.join(', ')})`);
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) throw fail('name', `expected a non-empty string, got ${describeValue(o.name)}`);
  for (const [key, check] of [['timeBudgetMs', limitProblem], ['memLimitBytes', limitProblem], ['dmaBytes', dmaProblem], ['shadow', flagProblem]] as const) {
    const problem = o[key] === undefined ? undefined : check(o[key]);
    if (problem) throw fail(key, problem);
  }
  const patches = o.patches === undefined ? undefined : patchesProblem(o.patches);
  if (patches) throw fail(`patches${patches[0]}`, patches[1]);
  const env = o.env === undefined ? undefined : envProblem(o.env);
  if (env) throw fail(`env${env[0]}`, env[1]);
  const devices = o.devices === undefined ? undefined : devicesProblem(o.devices);
  if (devices) throw fail(`devices${devices[0]}`, devices[1]);
  const argv = o.argv === undefined ? undefined : argvProblem(o.argv);
  if (argv) throw fail(`argv${argv[0]}`, argv[1]);
  return o as LoadOptions;
}
