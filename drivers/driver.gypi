# Settings shared by every driver target in binding.gyp: the flags of
# lib/sdk/flags.ts (freestanding C linked against nothing but the driver runtime).
{
  'cflags': ['<@(driver_cflags)'],
  'cflags!': ['-pthread', '-fno-omit-frame-pointer'],
  'ldflags': ['<@(driver_link_flags)'],
  'ldflags!': ['-pthread', '-rdynamic'],
}
