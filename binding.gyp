# One build for everything native: the addon, the driver runtime and every
# driver under drivers/ (each a shared object in build/Release/drivers/).
# `npm run build` (scripts/build.mjs) compiles lib/ and generates gen/ from
# lib/wrappers/kapi.ts first.
{
  'variables': {
    # The driver flags live in lib/sdk/flags.ts, shared with `nooks build` and
    # `nooks sdk`; the in-tree drivers are held to no warnings.
    'driver_cflags': ['<!@(node dist/lib/sdk/flags.js cflags)', '-Werror'],
    'driver_link_flags': ['<!@(node dist/lib/sdk/flags.js link)'],
    # drivers written against libc, built as `nooks build --posix` builds them
    'posix_driver_cflags': ['<!@(node dist/lib/sdk/flags.js posix-cflags)', '-Werror'],
    'posix_driver_link_flags': ['<!@(node dist/lib/sdk/flags.js posix-link)'],
  },
  'target_defaults': {
    'include_dirs': ['native/include', 'gen'],
  },
  # each driver of a device class adds its own target
  'includes': ['drivers/blk/target.gypi', 'drivers/uart16550/target.gypi', 'drivers/pcm/target.gypi', 'drivers/e1000/target.gypi',
               'drivers/e1000-libc/target.gypi'],
  'targets': [
    {
      'target_name': 'nooks',
      # each device class adds its kernel side and device model
      'includes': ['native/classes/common/sources.gypi', 'native/classes/block/sources.gypi', 'native/classes/serial/sources.gypi', 'native/classes/sound/sources.gypi', 'native/classes/net/sources.gypi',
                   # each isolation mode adds its backend
                   'native/isolation/none/sources.gypi', 'native/isolation/pkey/sources.gypi', 'native/isolation/mprotect/sources.gypi', 'native/isolation/process/sources.gypi'],
      'sources': [
        'native/addon.cc',
        'native/addon_surface.cc',
        'native/bench/bench.cc',
        'native/bench/scale.cc',
        'native/bench/bench_napi.cc',
        'native/dev/bus.cc',
        'native/dev/bus_napi.cc',
        'native/dev/config_space.cc',
        'native/dev/iomem.cc',
        'native/dev/host_pci.cc',
        'native/dev/uio.cc',
        'native/dev/vfio.cc',
        'native/dev/testdev.cc',
        'native/domain/arena.cc',
        'native/domain/domain.cc',
        'native/domain/driver_memory.cc',
        'native/domain/driver_memory_napi.cc',
        'native/domain/host_heap.cc',
        'native/isolation/backend.cc',
        'native/kapi/checks.cc',
        'native/kapi/io.cc',
        'native/kapi/irq.cc',
        'native/kapi/locks.cc',
        'native/kapi/log.cc',
        'native/kapi/memory.cc',
        'native/kapi/objects.cc',
        'native/kapi/posix.cc',
        'native/kapi/time.cc',
        'native/kapi/work.cc',
        'native/kapi/wrappers.cc',
        'native/loader/elf_check.cc',
        'native/loader/loader.cc',
        'native/loader/params.cc',
        'native/loader/text_patch.cc',
        'native/posix/calls.cc',
        'native/posix/epoll.cc',
        'native/posix/eventfd.cc',
        'native/posix/fd_table.cc',
        'native/posix/hugepages.cc',
        'native/posix/mappings.cc',
        'native/posix/sysfs.cc',
        'native/posix/vfio_device.cc',
        'native/posix/vfio_iommu.cc',
        'native/posix/view.cc',
        'native/recovery/recovery.cc',
        'native/recovery/teardown.cc',
        'native/shadow/shadow.cc',
        'native/shadow/taps.cc',
        'native/trap/mmio.cc',
        'native/trap/mmio_x86_64.S',
        'native/trap/trap.cc',
        'native/trap/x86_decode.cc',
        'native/xpc/batch.cc',
        'native/xpc/xpc.cc',
        'native/xpc/xpc_x86_64.S',
        'gen/kapi_stubs.S',
      ],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")", 'native/xpc'],
      'defines': ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS', 'NOOKS_HOST'],
      'cflags': ['-Wall', '-Wextra', '-Wno-missing-field-initializers'],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc': ['-std=gnu++17'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++14'],
      'ldflags': ['-Wl,-z,now'],
    },
    {
      'target_name': 'driver_rt',
      'type': 'static_library',
      'sources': ['native/driver-rt/string.c', 'native/driver-rt/format.c', 'native/driver-rt/format_float.c', 'native/driver-rt/batch.c', 'native/driver-rt/lkdtm.c'],
      # the runtime implements memset & co.: GCC must not turn its loops into calls to them
      'cflags': ['<@(driver_cflags)', '-fno-tree-loop-distribute-patterns'],
      'cflags!': ['-pthread', '-fno-omit-frame-pointer'],
    },
    {
      # The POSIX personality (native/driver-rt/posix/): the C library subset
      # `nooks build --posix` links into drivers written against libc.
      'target_name': 'posix_rt',
      'type': 'static_library',
      'sources': ['native/driver-rt/posix/personality.c', 'native/driver-rt/posix/memory.c', 'native/driver-rt/posix/errno.c', 'native/driver-rt/posix/init.c',
                  'native/driver-rt/posix/stdio.c', 'native/driver-rt/posix/strerror.c', 'native/driver-rt/posix/string.c',
                  'native/driver-rt/posix/number.c', 'native/driver-rt/posix/ctype.c', 'native/driver-rt/posix/time.c',
                  'native/driver-rt/posix/process.c', 'native/driver-rt/posix/fortify.c', 'native/driver-rt/posix/files.c',
                  'native/driver-rt/posix/mman.c', 'native/driver-rt/posix/events.c',
                  'native/driver-rt/posix/stream.c', 'native/driver-rt/posix/scanf.c', 'native/driver-rt/posix/pthread.c',
                  'native/driver-rt/posix/strtod.c', 'native/driver-rt/posix/sort.c', 'native/driver-rt/posix/random.c', 'native/driver-rt/posix/byteorder.c',
                  'native/driver-rt/posix/err.c', 'native/driver-rt/posix/path.c', 'native/driver-rt/posix/inet.c'],
      'cflags': ['<@(driver_cflags)', '-fno-tree-loop-distribute-patterns'],
      'cflags!': ['-pthread', '-fno-omit-frame-pointer'],
    },
    {
      'target_name': 'crashy', 'type': 'shared_library', 'product_prefix': '', 'product_dir': '<(PRODUCT_DIR)/../drivers',
      'sources': ['drivers/crashy/crashy.c'], 'dependencies': ['driver_rt'], 'includes': ['drivers/driver.gypi'],
    },
    {
      'target_name': 'ticker', 'type': 'shared_library', 'product_prefix': '', 'product_dir': '<(PRODUCT_DIR)/../drivers',
      'sources': ['drivers/ticker/ticker.c'], 'dependencies': ['driver_rt'], 'includes': ['drivers/driver.gypi'],
    },
    {
      'target_name': 'testdev', 'type': 'shared_library', 'product_prefix': '', 'product_dir': '<(PRODUCT_DIR)/../drivers',
      'sources': ['drivers/testdev/testdev.c', 'drivers/testdev/mmio.c'], 'dependencies': ['driver_rt'], 'includes': ['drivers/driver.gypi'],
    },
    {
      'target_name': 'memtest', 'type': 'shared_library', 'product_prefix': '', 'product_dir': '<(PRODUCT_DIR)/../drivers',
      'sources': ['drivers/memtest/memtest.c'], 'dependencies': ['driver_rt'], 'includes': ['drivers/driver.gypi'],
    },
    {
      'target_name': 'null', 'type': 'shared_library', 'product_prefix': '', 'product_dir': '<(PRODUCT_DIR)/../drivers',
      'sources': ['drivers/null/null.c'], 'dependencies': ['driver_rt'], 'includes': ['drivers/driver.gypi'],
    },
  ],
}
