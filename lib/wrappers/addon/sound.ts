// The sound class's functions (native/classes/sound/pcm_napi.cc), behind lib/classes/sound.ts.
import type { PcmDevice, PcmStatus } from '../../classes/sound.js';
import { fn, surface } from './describe.js';

/** What a stream tells JavaScript: room to write, data to read, drained, or its error. */
export interface PcmEvent {
  type: 'space' | 'data' | 'drained' | 'error';
  frames: number;
  code?: string;
  message?: string;
}

export const sound = surface({
  name: 'sound',
  source: 'native/classes/sound/pcm_napi.cc',
  functions: {
    pcmOpen: fn<(name: string, dir: 'playback' | 'capture', rate: number, channels: number, periodFrames: number, periods: number,
      onEvent: (e: PcmEvent) => void) => number>(
      'Opens a stream of the pcm (the driver\'s open, hw_params, prepare); its handle.',
      ['string', 'string', 'number', 'number', 'number', 'number', 'function']),
    pcmWrite: fn<(h: number, b: Buffer) => number>('Bytes taken into the queue (whole frames; 0 when full).', ['number', 'bytes']),
    pcmRead: fn<(h: number, bytes: number) => Buffer | null>(
      'Whole frames (up to `bytes`) once min(bytes, half the queue) are there, else null (an event comes when they are).', ['number', 'number']),
    pcmDrain: fn<(h: number) => void>('Plays what is queued to the end (playback).', ['number']),
    pcmClose: fn<(h: number) => void>('Closes the stream.', ['number']),
    pcmMixer: fn<(h: number, volume: number, mute: boolean | null) => { volume: number; muted: boolean }>(
      'The device\'s mixer for the stream\'s direction (volume -1, mute null: keep it); it stays as set for later streams.',
      ['number', 'number', 'boolean|null']),
    pcmStatus: fn<(h: number) => PcmStatus>('The stream\'s position, queue and errors.', ['number']),
    pcmList: fn<() => PcmDevice[]>('The pcm devices drivers have registered.', []),
    pcmHoldDma: fn<(device: string) => boolean>(
      'Test hook: the emulated pcm\'s next DMA waits, planned, until its driver has let go of the device.', ['string']),
    pcmHoldRestore: fn<(device: string) => void>(
      'Test hook: the next restore of a stream of the pcm waits, before it writes the stream\'s runtime, for driver code on another thread.',
      ['string']),
    pcmHoldRegister: fn<(device: string) => void>(
      'Test hook: the next registration of the pcm that hands it parked streams waits, before it returns to the driver, until their restore is over.',
      ['string']),
    pcmHoldDownCrossing: fn<(device: string) => void>(
      'Test hook: the next crossing of a stream of the pcm that finds its driver down waits, before the stream\'s loop decides whether it ends, until that driver is unloaded.',
      ['string']),
  },
});
