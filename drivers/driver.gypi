# Settings shared by every driver target in binding.gyp: freestanding C linked
# against nothing but the driver runtime; kernel calls stay undefined and are
# bound at load to the kernel's wrappers.
{
  'cflags': ['<@(driver_cflags)'],
  'cflags!': ['-pthread', '-fno-omit-frame-pointer'],
  # -u: pull the deferred-call runner and the targeted faults' bugs (lib/inject)
  # out of the runtime archive into every driver
  'ldflags': ['-nostdlib', '-Wl,-z,now', '-Wl,-u,nooks_batch_run', '-Wl,-u,nooks_lkdtm'],
  'ldflags!': ['-pthread', '-rdynamic'],
}
