# The e1000 driver's build target.
{
  'targets': [
    {
      'target_name': 'e1000', 'type': 'shared_library', 'product_prefix': '', 'product_dir': '<(PRODUCT_DIR)/../drivers',
      'sources': ['e1000.c'], 'dependencies': ['driver_rt'], 'includes': ['../driver.gypi'],
    },
  ],
}
