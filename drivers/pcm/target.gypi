# The pcm driver's build target.
{
  'targets': [
    {
      'target_name': 'pcm', 'type': 'shared_library', 'product_prefix': '', 'product_dir': '<(PRODUCT_DIR)/../drivers',
      'sources': ['pcm.c'], 'dependencies': ['driver_rt'], 'includes': ['../driver.gypi'],
    },
  ],
}
