// The block class's operations (native/classes/block/block.cc calls them).
import { a, type OpsTable } from './types.js';

export const blkDiskOps: OpsTable = {
  name: 'blk_disk_ops', class: 'block',
  doc: 'A block driver\'s operations (struct blk_disk.ops).',
  ops: [
    {
      name: 'submit', ret: 'int', params: [a('disk', 'struct blk_disk *'), a('rq', 'struct blk_request *')], required: true, role: 'request',
      doc: 'Start rq on the device; it completes with blk_complete. 0, -EBUSY (given again after a completion) or another -errno to fail it. Several per crossing; a driver with commit may leave the device\'s doorbell to it.',
    },
    {
      name: 'commit', ret: 'void', params: [a('disk', 'struct blk_disk *')], required: false, role: 'commit',
      doc: 'Called in the same crossing after each batch of submits, whatever they returned (blk-mq\'s commit_rqs): start on the device what they queued, with one doorbell. Without it, each submit starts its request.',
    },
  ],
};
