# The blk driver's build target.
{
  'targets': [
    {
      'target_name': 'blk', 'type': 'shared_library', 'product_prefix': '', 'product_dir': '<(PRODUCT_DIR)/../drivers',
      'sources': ['blk.c'], 'dependencies': ['driver_rt'], 'includes': ['../driver.gypi'],
    },
  ],
}
