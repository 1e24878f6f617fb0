// The block class: how a block driver registers its disk and completes requests.
// The structures (struct blk_disk, struct blk_request) are in
// native/include/nooks/blkdev.h; the parameters are `void *` here so that the
// generated prototypes need no declaration of them in every driver, and the
// bodies (native/classes/block/block.cc) check them.
import { p, type KapiCall } from './types.js';

export const block: KapiCall[] = [
  {
    name: 'blk_register_disk', ret: 'int', params: [p('disk', 'void *')],
    doc: 'Register a disk (a struct blk_disk * in driver memory that outlives its threads: heap, DMA, data or bss, never a stack) for a pci_dev the driver holds: the kernel allocates its queue_depth requests and their buffers in the driver\'s DMA memory and starts calling disk->submit. 0, -EINVAL (bad geometry), -EBUSY (registered already), -ENOMEM.',
  },
  {
    name: 'blk_unregister_disk', ret: 'void', params: [p('disk', 'void *', { kind: 'object', type: 'blkdev' })],
    doc: 'Unregister a disk: requests still in flight fail (the driver must not complete them afterwards); its request memory is freed.',
  },
  {
    name: 'blk_complete', ret: 'void', params: [p('rq', 'void *'), p('status', 'int')],
    doc: 'Complete a request (a struct blk_request * the kernel submitted): 0 or -errno. Completing a request not in flight is a driver fault.',
  },
];
