// One kernel for the tests of a describe block (or of a file, called at top level).
import { afterAll, beforeAll } from 'vitest';
import { Kernel, type BootOptions } from '../../lib/index.js';

/**
 * Boots a kernel with `options` before the tests of the calling describe block
 * and shuts it down after them; the returned function gives that kernel. Set-up
 * that needs the kernel goes in a beforeAll registered after this call (before
 * hooks run in the order they were registered); an afterAll registered after it
 * runs before the shutdown (after hooks run in reverse).
 */
export function kernelPerBlock(options: BootOptions): () => Kernel {
  let kernel: Kernel | undefined;
  beforeAll(async () => {
    kernel = await Kernel.boot(options);
  });
  afterAll(async () => {
    await kernel?.shutdown();
  });
  return () => {
    // a kernel asked for outside the block's tests (a boot that failed, or a call at collection time)
    if (!kernel) throw new Error('kernelPerBlock: no kernel booted (ask for it inside a test or hook of the block)');
    return kernel;
  };
}
