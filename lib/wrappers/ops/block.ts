// The block class's operations (native/classes/block/block.cc calls them).
import { a, type OpsTable } from './types.js';

export const blkDiskOps: OpsTable = {
  name: 'blk_disk_ops', class: 'block',
  doc: 'A block driver\'s operations (struct blk_disk.ops).',
  ops: [
    {
      name: 'submit', ret: 'int', params: [a('disk', 'struct blk_disk *'), a('rq', 'struct blk_request *')], required: true, role: 'request',
      doc: 'Start rq on the device; it completes with blk_complete. 0, -EBUSY (given again after a completion) or another -errno to fail it. Several per crossing.',
    },
  ],
};
