/*
 * nooks sound class, as a PCM driver sees it (ALSA-like, small).
 *
 * A driver registers one struct snd_pcm per device (usually in probe) with its
 * ops; the kernel names it after the PCI device (pcm0, ...). Applications open
 * a stream (playback or capture) through the kernel, which calls, through
 * crossings: open -> hw_params (the driver allocates its DMA ring and hands it
 * to the kernel with snd_pcm_set_buffer) -> prepare -> trigger(START) ...
 * trigger(STOP) -> close. The kernel moves the application's frames into the
 * ring (playback) or out of it (capture) as the hardware advances, and tells
 * the driver how far it may go with ack(). The driver's interrupt handler
 * calls snd_pcm_period_elapsed() when the hardware crossed a period; the
 * kernel then asks pointer() where the hardware is.
 *
 * struct snd_pcm and its ops live in driver memory; struct snd_pcm_runtime is
 * a kernel object the driver reads and never writes.
 */
#ifndef NOOKS_SOUND_H
#define NOOKS_SOUND_H

#include <nooks/kapi.h>

#define SNDRV_PCM_STREAM_PLAYBACK	0
#define SNDRV_PCM_STREAM_CAPTURE	1

#define SNDRV_PCM_TRIGGER_STOP		0
#define SNDRV_PCM_TRIGGER_START		1
/* Start again where the stream a device reset cut had stopped (a shadow
 * driver's restore after the driver's recovery). A driver without it returns
 * -EINVAL and the kernel starts the stream instead. */
#define SNDRV_PCM_TRIGGER_RESUME	6

#define SNDRV_PCM_FORMAT_S16_LE		2	/* the only format: 16-bit little-endian */

#define SND_PCM_PLAYBACK_BIT	(1u << SNDRV_PCM_STREAM_PLAYBACK)
#define SND_PCM_CAPTURE_BIT	(1u << SNDRV_PCM_STREAM_CAPTURE)

/* The configuration of one stream, set by the kernel before hw_params. */
struct snd_pcm_runtime {
	u32 rate;		/* frames per second */
	u32 channels;
	u32 format;		/* SNDRV_PCM_FORMAT_S16_LE */
	u32 frame_bytes;	/* channels * 2 */
	u32 period_bytes;	/* the driver interrupts once per period */
	u32 buffer_bytes;	/* the DMA ring: a whole number of periods */
};

struct snd_pcm;

#include <nooks/ops/snd_pcm_ops.h>	/* the operations: lib/wrappers/ops/sound.ts */

struct snd_pcm {
	struct pci_dev *pdev;		/* the device: the pcm takes its name (pcm0, ...) */
	const struct snd_pcm_ops *ops;	/* every op but mixer is required */
	u32 streams;			/* SND_PCM_PLAYBACK_BIT | SND_PCM_CAPTURE_BIT */
	u32 max_buffer_bytes;		/* the largest ring the driver accepts (0: 1 MiB) */
	void *private_data;
};
#ifndef __cplusplus
_Static_assert(sizeof(struct snd_pcm) == 32, "struct snd_pcm: the kernel checks 32 bytes (lib/wrappers/kapi/sound.ts)");
#endif

/* The kernel calls (lib/wrappers/kapi/sound.ts), typed. */
static inline int snd_pcm_register(struct snd_pcm *pcm)
{
	return nooks_snd_pcm_register(pcm);
}
static inline void snd_pcm_unregister(struct snd_pcm *pcm)
{
	nooks_snd_pcm_unregister(pcm);
}
static inline int snd_pcm_set_buffer(struct snd_pcm *pcm, int stream, void *area, unsigned long bytes)
{
	return nooks_snd_pcm_set_buffer(pcm, stream, area, bytes);
}
static inline void snd_pcm_period_elapsed(struct snd_pcm *pcm, int stream)
{
	nooks_snd_pcm_period_elapsed(pcm, stream);
}

#endif
