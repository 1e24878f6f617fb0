// nooks and V8 both trap SIGSEGV: V8 for WebAssembly bounds checks (its trap
// handler), nooks for drivers. nooks installs its handler at boot and passes
// faults outside domains on to the previous one: both must keep working.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Driver } from '../lib/index.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf } from './helpers/util.js';

// (module (memory 1) (func (export "load") (result i32) (i32.load (i32.const 0x20000))))
// One 64 KiB page, read at 128 KiB: out of bounds.
// prettier-ignore
const oob = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type: () -> i32
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x05, 0x03, 0x01, 0x00, 0x01, // memory: min 1 page, no max
  0x07, 0x08, 0x01, 0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x00, // export "load" = func 0
  0x0a, 0x0b, 0x01, 0x09, 0x00, // code: one body of 9 bytes, no locals
  0x41, 0x80, 0x80, 0x08, // i32.const 0x20000
  0x28, 0x02, 0x00, // i32.load align=4 offset=0
  0x0b, // end
]);

function wasmLoad(): () => number {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(oob));
  return instance.exports.load as () => number;
}

describe('WebAssembly traps beside nooks', () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect' });
  let crashy: Driver;

  beforeAll(async () => {
    crashy = await kernel().load('crashy');
  });

  it('an out-of-bounds wasm load still throws a RuntimeError', () => {
    const load = wasmLoad();
    expect(load).toThrow(WebAssembly.RuntimeError);
    expect(load).toThrow(/memory access out of bounds/);
  });

  it('a driver fault after that is still trapped by nooks', () => {
    const f = faultOf(() => crashy.call('null_deref'));
    expect(f.kind).toBe('segv');
    expect(crashy.state).toBe('running');
    expect(crashy.call('add', 2, 3)).toBe(5);
  });

  it('and the two keep alternating', () => {
    const load = wasmLoad();
    for (let i = 0; i < 3; i++) {
      expect(load).toThrow(WebAssembly.RuntimeError);
      expect(faultOf(() => crashy.call('null_deref')).kind).toBe('segv');
    }
    expect(crashy.call('add', 2, 3)).toBe(5);
  });
});
