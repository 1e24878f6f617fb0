// The core kernel calls: memory, locks, time, work, interrupts, DMA, I/O, log.
import { p, type KapiCall } from './types.js';

export const core: KapiCall[] = [
  // memory
  {
    name: 'kmalloc', ret: 'void *', params: [p('size', 'size_t', { kind: 'size', max: 1 << 26 }), p('flags', 'gfp_t')],
    doc: 'Allocate `size` bytes from the driver\'s domain heap (16-byte aligned). NULL when the domain\'s memory limit is reached.',
  },
  {
    name: 'kzalloc', ret: 'void *', params: [p('size', 'size_t', { kind: 'size', max: 1 << 26 }), p('flags', 'gfp_t')],
    doc: 'Like kmalloc, zero-filled.',
  },
  {
    name: 'kfree', ret: 'void', params: [p('ptr', 'const void *', { kind: 'object', type: 'memory', nullable: true })],
    doc: 'Free memory from kmalloc/kzalloc. NULL is ignored; anything else not allocated (double free, host pointer) is a driver fault.',
  },
  // locks
  {
    name: 'spin_lock_init', ret: 'void', params: [p('lock', 'spinlock_t *', { kind: 'writable', size: 'sizeof(spinlock_t)' })],
    doc: 'Initialise a spinlock that lives in driver memory.',
  },
  {
    name: 'spin_lock', ret: 'void', params: [p('lock', 'spinlock_t *', { kind: 'writable', size: 'sizeof(spinlock_t)' })],
    doc: 'Take a spinlock. The kernel records it as held by the driver, so recovery can release it.', blocking: true,
  },
  {
    name: 'spin_unlock', ret: 'void', params: [p('lock', 'spinlock_t *', { kind: 'object', type: 'lock' })],
    doc: 'Release a spinlock the calling thread holds; releasing one it does not hold is a driver fault.',
  },
  {
    name: 'mutex_init', ret: 'void', params: [p('lock', 'struct mutex *', { kind: 'writable', size: 'sizeof(struct mutex)' })],
    doc: 'Initialise a sleeping lock that lives in driver memory.',
  },
  {
    name: 'mutex_lock', ret: 'void', params: [p('lock', 'struct mutex *', { kind: 'writable', size: 'sizeof(struct mutex)' })],
    doc: 'Take a sleeping lock (the thread sleeps while another holds it). Taking a mutex the caller holds is a driver fault (self-deadlock); so is one not 4-byte aligned, here and to mutex_init and mutex_trylock (its wait, a futex\'s, would be refused).', blocking: true,
  },
  {
    name: 'mutex_trylock', ret: 'int', params: [p('lock', 'struct mutex *', { kind: 'writable', size: 'sizeof(struct mutex)' })],
    doc: 'Take a sleeping lock if it is free: 1 when taken, 0 when another thread (or the caller) holds it. Never sleeps.',
  },
  {
    name: 'mutex_unlock', ret: 'void', params: [p('lock', 'struct mutex *', { kind: 'object', type: 'mutex' })],
    doc: 'Release a mutex the calling thread holds.',
  },
  // time
  {
    name: 'nooks_jiffies', ret: 'unsigned long', params: [],
    doc: 'Milliseconds since the kernel booted (HZ is 1000); use `jiffies`.',
  },
  {
    name: 'msleep', ret: 'void', params: [p('msecs', 'unsigned int')],
    doc: 'Sleep for at least `msecs` milliseconds. Counts against the driver\'s time budget.', blocking: true,
  },
  {
    name: 'timer_setup', ret: 'void',
    params: [p('timer', 'struct timer_list *', { kind: 'writable', size: 'sizeof(struct timer_list)' }),
      p('fn', 'void (*)(struct timer_list *)', { kind: 'driver-fn' }), p('flags', 'unsigned int')],
    doc: 'Prepare a timer that calls `fn` (on a kernel timer thread, through a crossing) when it expires.',
  },
  {
    name: 'mod_timer', ret: 'int',
    params: [p('timer', 'struct timer_list *', { kind: 'object', type: 'timer' }), p('expires', 'unsigned long')],
    doc: 'Arm or re-arm a timer to fire at `expires` (in jiffies). Returns 1 if it was pending.',
  },
  {
    name: 'del_timer', ret: 'int', params: [p('timer', 'struct timer_list *', { kind: 'object', type: 'timer' })],
    doc: 'Disarm a timer (it stays set up). Returns 1 if it was pending. Waits for a running callback on another thread to finish.', blocking: true,
  },
  // deferred work
  {
    name: 'nooks_init_work', ret: 'void',
    params: [p('work', 'struct work_struct *', { kind: 'writable', size: 'sizeof(struct work_struct)' }),
      p('fn', 'void (*)(struct work_struct *)', { kind: 'driver-fn' })],
    doc: 'Prepare a work item; use INIT_WORK.',
  },
  {
    name: 'schedule_work', ret: 'int', params: [p('work', 'struct work_struct *', { kind: 'object', type: 'work' })],
    doc: 'Queue work to run on the kernel worker thread. Returns 0 if it was already queued.',
  },
  {
    name: 'cancel_work_sync', ret: 'int', params: [p('work', 'struct work_struct *', { kind: 'object', type: 'work' })],
    doc: 'Unqueue work and wait for a running instance to finish; forget it. Returns 1 if it was queued.', blocking: true,
  },
  {
    name: 'on_each_cpu', ret: 'void',
    params: [p('func', 'void (*)(void *)', { kind: 'driver-fn' }), p('info', 'void *'), p('wait', 'int')],
    doc: 'Run func(info) on every CPU and wait. The kernel presents one CPU to a driver: func runs at once on the calling thread, through a nested crossing.',
  },
  // interrupts
  {
    name: 'request_irq', ret: 'int',
    params: [p('irq', 'unsigned int'), p('handler', 'irq_handler_t', { kind: 'driver-fn' }), p('flags', 'unsigned long'),
      p('name', 'const char *', { kind: 'string', max: 64 }), p('dev_id', 'void *')],
    doc: 'Attach `handler` to interrupt line `irq`; it runs on the line\'s kernel irq thread, through a crossing. A device\'s line is only for the driver that holds the device (probed, or by the load option `devices`); lines below 32 are software lines, anyone\'s. 0, -EBUSY (requested already), or -EINVAL (no such line, or another device\'s or a line without a device: logged).',
  },
  {
    name: 'free_irq', ret: 'void', params: [p('irq', 'unsigned int', { kind: 'object', type: 'irq' }), p('dev_id', 'void *')],
    doc: 'Detach the handler from `irq`, waiting for a running handler to finish (5 s at most: one still in a kernel call then is left running, asked to leave: when that call returns it runs no more driver code: docs/recovery.md, "free_irq\'s give-up"; the wait ends at once when the calling thread must leave its domain). Called from that handler (or code it calls): the handler runs on to its end, and the line may be requested again at once, by the handler too; a new handler then runs on a thread of its own.', blocking: true,
  },
  {
    name: 'disable_irq', ret: 'void', params: [p('irq', 'unsigned int', { kind: 'object', type: 'irq' })],
    doc: 'Mask interrupt line `irq` (nesting).',
  },
  {
    name: 'enable_irq', ret: 'void', params: [p('irq', 'unsigned int', { kind: 'object', type: 'irq' })],
    doc: 'Unmask interrupt line `irq`.',
  },
  // DMA
  {
    name: 'dma_alloc_coherent', ret: 'void *',
    params: [p('dev', 'struct device *'), p('size', 'size_t', { kind: 'size', max: 1 << 26 }),
      p('dma_handle', 'dma_addr_t *', { kind: 'writable', size: 'sizeof(dma_addr_t)' }), p('flags', 'gfp_t')],
    doc: 'Allocate page-aligned DMA memory inside the driver\'s domain; stores its bus address in *dma_handle.',
  },
  {
    name: 'dma_free_coherent', ret: 'void',
    params: [p('dev', 'struct device *'), p('size', 'size_t'), p('cpu_addr', 'void *', { kind: 'object', type: 'dma' }),
      p('dma_handle', 'dma_addr_t')],
    doc: 'Free DMA memory from dma_alloc_coherent.',
  },
  // I/O
  {
    name: 'nooks_io_read', ret: 'u32', params: [p('addr', 'const volatile void *'), p('width', 'unsigned int')],
    doc: 'Register read on an emulated device (ioread8/16/32 call it for emulated I/O cookies).',
  },
  {
    name: 'nooks_io_write', ret: 'void', params: [p('addr', 'volatile void *'), p('value', 'u32'), p('width', 'unsigned int')],
    doc: 'Register write on an emulated device (iowrite8/16/32 call it for emulated I/O cookies).',
  },
  {
    name: 'nooks_mmio_emulate', ret: 'void',
    params: [p('frame', 'struct nooks_mmio_frame *', { kind: 'writable', size: 'sizeof(struct nooks_mmio_frame)' })],
    doc: 'A load or store in an emulated device\'s BAR mapped with mmap, trapped and decoded: performed on the device model (64 bits as two 32-bit accesses, low half first), the destination register set in the frame. Called by the MMIO trap\'s stub, never by drivers.',
  },
  // log
  {
    name: 'nooks_log', ret: 'void', params: [p('msg', 'const char *', { kind: 'readable', size: 'len' }), p('len', 'size_t', { kind: 'size', max: 4096 })],
    doc: 'Append one formatted line to the kernel log; printk formats in the driver and calls this.',
  },
];
