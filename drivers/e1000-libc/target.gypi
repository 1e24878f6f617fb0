# The libc-style e1000 driver's build target: the POSIX personality's flags
# (lib/sdk/flags.ts, as `nooks build --posix`), the personality linked before
# the driver runtime. check.c is the plain program of the guest check, not part of it.
{
  'targets': [
    {
      'target_name': 'e1000-libc', 'type': 'shared_library', 'product_prefix': '', 'product_dir': '<(PRODUCT_DIR)/../drivers',
      'sources': ['e1000l.c', 'vfio.c'], 'dependencies': ['posix_rt', 'driver_rt'],
      'cflags': ['<@(posix_driver_cflags)'],
      'cflags!': ['-pthread', '-fno-omit-frame-pointer'],
      'ldflags': ['<@(posix_driver_link_flags)'],
      'ldflags!': ['-pthread', '-rdynamic'],
    },
  ],
}
