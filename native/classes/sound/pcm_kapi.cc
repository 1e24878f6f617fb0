// The sound class: the kernel calls sound drivers make (lib/wrappers/kapi/sound.ts).
#include <algorithm>

#include "../../kapi/checks.h"
#include "../../kapi/log.h"
#include "../../kapi/objects.h"
#include "../../kapi/register_hold.h"
#include "../../kapi/subsystems.h"
#include "../../shadow/shadow.h"
#include "pcm_core.h"

static_assert(sizeof(struct snd_pcm) == 32, "lib/wrappers/kapi/sound.ts checks 32 bytes of struct snd_pcm");

using namespace nooks;
using namespace nooks::sound_class;

namespace {
constexpr uint32_t kDefaultMaxBuffer = 1u << 20;

// Whether a stream of p still waits for its restore onto p (neither restored nor ended).
bool restore_pending(const Pcm &p) {
  std::lock_guard<std::mutex> g(g_lock);
  for (const std::shared_ptr<Stream> &s : p.open) {
    if (!s) continue;
    std::lock_guard<std::mutex> sg(s->lock);
    if (s->parked && s->error.empty()) return true;
  }
  return false;
}

// Test hook (pcmHoldRegister): the registration that handed p parked streams waits, before it returns to its
// driver, until their restore onto p is over or the driver failed (10 s at most): the restore crosses into the
// driver while the registration is still in the kernel.
void hold_register_for_test(const std::shared_ptr<Pcm> &p) {
  {
    std::lock_guard<std::mutex> g(g_lock);
    if (!g_hold_register.erase(p->name)) return;
  }
  hold_registration_for_test("sound", p->name, "the restore", [&] { return runs(*p) && restore_pending(*p); });
}
}  // namespace

extern "C" int kapi_nooks_snd_pcm_register(void *arg) {
  Domain *d = calling_domain();
  // Read once (the driver may change it meanwhile), and checked before anything is
  // allocated: a rejected table leaves the domain at once, skipping destructors.
  const snd_pcm pcm = *static_cast<const snd_pcm *>(arg);
  if (!pcm.pdev || !d->objects.find(ObjectType::pci_dev, (uintptr_t)pcm.pdev)) return -ENODEV;
  SndPcmOps ops;
  ops.take(d, pcm.ops, "snd_pcm_register");
  if (!pcm.streams || (pcm.streams & ~(SND_PCM_PLAYBACK_BIT | SND_PCM_CAPTURE_BIT))) return -EINVAL;
  auto p = std::make_shared<Pcm>();
  p->ops = ops;
  p->domain = d->id;
  p->serial = d->serial;
  p->gen = d->failure_gen.load();
  p->key = (uintptr_t)arg;
  p->name = pcm.pdev->dev.name;
  p->driver = d->name;
  p->streams = pcm.streams;
  p->max_buffer = pcm.max_buffer_bytes ? std::min(pcm.max_buffer_bytes, 1u << 24) : kDefaultMaxBuffer;
  bool handed;
  {
    std::lock_guard<std::mutex> g(g_lock);
    if (g_pcms.count(p->name) || pcm_of(d, p->key)) return -EBUSY;
    // The driver's before the pcm is anyone's: a parked stream's restore may cross into the driver as soon as
    // g_lock goes, if the driver runs (a registration from a work item, after its init), and the driver's calls
    // then (snd_pcm_set_buffer) must find the pcm its own. After, such a restore failed the driver (bad-call).
    d->objects.add({ObjectType::pcm, (uintptr_t)arg, sizeof pcm, 0, p->name});
    g_pcms[p->name] = p;
    shadow_registered(ObjectType::pcm, p->name);  // the shadow's wait for it is over; after its end, a new device for its opens
    auto parked = g_parked.find(p->name);
    handed = parked != g_parked.end();
    if (handed) {  // back from recovery: the shadow hands over what it kept
      resume_locked(*parked->second, p);
      g_parked.erase(parked);
    }
  }
  if (handed) hold_register_for_test(p);
  klog(6, "sound: %s registered by %s (%s%s%s)", p->name.c_str(), d->name.c_str(), p->streams & 1 ? "playback" : "",
       p->streams == 3 ? ", " : "", p->streams & 2 ? "capture" : "");
  return 0;
}

extern "C" void kapi_nooks_snd_pcm_unregister(void *arg) {
  Domain *d = calling_domain();
  d->objects.remove(ObjectType::pcm, (uintptr_t)arg);
  std::lock_guard<std::mutex> g(g_lock);
  if (auto p = pcm_of(d, (uintptr_t)arg)) drop_locked(*p, "unregistered by its driver");
}

extern "C" int kapi_nooks_snd_pcm_set_buffer(void *arg, int stream, void *area, unsigned long bytes) {
  Domain *d = calling_domain();
  std::lock_guard<std::mutex> g(g_lock);
  auto p = pcm_of(d, (uintptr_t)arg);
  if (!p || (stream != 0 && stream != 1) || !p->rt[stream]) return -EINVAL;
  if (bytes != p->rt[stream]->buffer_bytes || !d->dma.contains((uintptr_t)area, bytes)) {
    klog(3, "sound: %s: snd_pcm_set_buffer: %lu bytes at %p is not a DMA ring of %u bytes", p->name.c_str(), bytes, area,
         p->rt[stream]->buffer_bytes);
    return -EINVAL;
  }
  p->area[stream] = static_cast<uint8_t *>(area);
  return 0;
}

extern "C" void kapi_nooks_snd_pcm_period_elapsed(void *arg, int stream) {
  Domain *d = calling_domain();
  if (stream != 0 && stream != 1) kernel_bug(d, "snd_pcm_period_elapsed: stream %d is neither playback (0) nor capture (1)", stream);
  std::lock_guard<std::mutex> g(g_lock);
  auto p = pcm_of(d, (uintptr_t)arg);
  if (!p || !p->open[stream]) return;  // a late interrupt: nothing open
  Stream &s = *p->open[stream];
  std::lock_guard<std::mutex> sg(s.lock);
  s.elapsed = true;
  s.cv.notify_all();
}
