# A driver built with the POSIX personality's flags (lib/sdk/flags.ts, as
# `nooks build --posix`): the personality linked before the driver runtime.
# A loadable module, so the archives are linked as `nooks build` links them,
# member by member (gyp links a shared library's whole archives): the
# personality's empty module_init only when the driver defines none. Last,
# libgcc.a, as nooks build --posix links it: the helpers the compiler calls
# for unmodified C (__popcountdi2 of the personality's CPU sets).
{
  'type': 'loadable_module', 'product_prefix': '', 'product_dir': '<(PRODUCT_DIR)/../drivers',
  'dependencies': ['posix_rt', 'driver_rt'],
  'cflags': ['<@(posix_driver_cflags)'],
  'cflags!': ['-pthread', '-fno-omit-frame-pointer'],
  'ldflags': ['<@(posix_driver_link_flags)'],
  'ldflags!': ['-pthread', '-rdynamic'],
  'libraries': ['-lgcc'],
  'target_conditions': [['_type=="loadable_module"', {'product_extension': 'so'}]],  # after node-gyp's 'node'
}
