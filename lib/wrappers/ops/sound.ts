// The sound class's operations (native/classes/sound/pcm_class.cc calls them).
import { a, type OpsTable } from './types.js';

const pcm = a('pcm', 'struct snd_pcm *');
const stream = a('stream', 'int');

export const sndPcmOps: OpsTable = {
  name: 'snd_pcm_ops', class: 'sound',
  doc: 'A PCM driver\'s operations (struct snd_pcm.ops), per stream (SND_PCM_PLAYBACK or SND_PCM_CAPTURE).',
  ops: [
    { name: 'open', ret: 'int', params: [pcm, stream], required: true, role: 'lifecycle', doc: 'A stream is opened. 0 or -errno.' },
    { name: 'close', ret: 'int', params: [pcm, stream], required: true, role: 'lifecycle', doc: 'It is closed: stop it, free its ring.' },
    {
      name: 'hw_params', ret: 'int', params: [pcm, stream, a('rt', 'const struct snd_pcm_runtime *')], required: true, role: 'config',
      doc: 'Allocate the DMA ring (rt->buffer_bytes) and call snd_pcm_set_buffer.',
    },
    { name: 'prepare', ret: 'int', params: [pcm, stream], required: true, role: 'lifecycle', doc: 'Program the hardware for the runtime (format, ring); the pointer restarts at 0.' },
    { name: 'trigger', ret: 'int', params: [pcm, stream, a('cmd', 'int')], required: true, role: 'lifecycle', doc: 'Start, stop or resume (SNDRV_PCM_TRIGGER_*) the stream.' },
    {
      name: 'pointer', ret: 'unsigned long', params: [pcm, stream], required: true, role: 'query',
      doc: 'The hardware position in the ring, in frames: 0 .. buffer frames - 1. Also asked after hw_params (before prepare) when a restarted driver\'s stream is restored: where the hardware stopped when the reset cut it.',
    },
    { name: 'ack', ret: 'int', params: [pcm, stream, a('limit', 'u32')], required: true, role: 'request', doc: 'The hardware may move up to limit bytes (a free-running byte count since prepare).' },
    { name: 'mixer', ret: 'int', params: [pcm, stream, a('volume', 'unsigned int'), a('mute', 'int')], required: false, role: 'config', doc: 'Mixer: volume 0..100, mute 0/1.' },
  ],
};
