# Settings shared by every driver target in binding.gyp: freestanding C linked
# against nothing but the driver runtime; kernel calls stay undefined and are
# bound at load to the kernel's wrappers.
{
  'cflags': ['<@(driver_cflags)'],
  'cflags!': ['-pthread', '-fno-omit-frame-pointer'],
  'ldflags': ['-nostdlib', '-Wl,-z,now'],
  'ldflags!': ['-pthread', '-rdynamic'],
}
