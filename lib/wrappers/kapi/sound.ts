// The sound class: how a PCM driver registers its streams and reports periods.
// The driver-facing header is native/include/nooks/sound.h: it
// defines struct snd_pcm and the typed snd_pcm_* wrappers of these calls
// (kapi.h cannot name the class's structs, so the prototypes take void *).
import { p, type KapiCall } from './types.js';

const pcm = p('pcm', 'void *', { kind: 'object', type: 'pcm' });

export const sound: KapiCall[] = [
  {
    name: 'nooks_snd_pcm_register', ret: 'int',
    // 32 == sizeof(struct snd_pcm), asserted in sound.h and native/classes/sound/pcm_class.cc
    params: [p('pcm', 'void *', { kind: 'lasting', size: '32' })],
    doc: 'Register a struct snd_pcm (use snd_pcm_register): its streams become openable as the PCI device\'s name (pcm0...). 0, -EBUSY if already registered, -EINVAL for bad ops or streams, -ENODEV if pdev is not the driver\'s.',
  },
  {
    name: 'nooks_snd_pcm_unregister', ret: 'void', params: [pcm],
    doc: 'Unregister a pcm (use snd_pcm_unregister): open streams end with "device gone".',
  },
  {
    name: 'nooks_snd_pcm_set_buffer', ret: 'int',
    params: [pcm, p('stream', 'int'), p('area', 'void *', { kind: 'writable', size: 'bytes' }), p('bytes', 'unsigned long', { kind: 'size', max: 1 << 24 })],
    doc: 'From hw_params: the DMA ring of `stream` (use snd_pcm_set_buffer); `bytes` must be the runtime\'s buffer_bytes. 0 or -EINVAL.',
  },
  {
    name: 'nooks_snd_pcm_period_elapsed', ret: 'void', params: [pcm, p('stream', 'int')],
    doc: 'From the interrupt handler: the hardware crossed a period of `stream` (use snd_pcm_period_elapsed). Never waits.',
  },
];
