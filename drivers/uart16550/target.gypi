# The uart16550 driver's build target.
{
  'targets': [
    {
      'target_name': 'uart16550', 'type': 'shared_library', 'product_prefix': '', 'product_dir': '<(PRODUCT_DIR)/../drivers',
      'sources': ['uart16550.c'], 'dependencies': ['driver_rt'], 'includes': ['../driver.gypi'],
    },
  ],
}
