# The serial class: its kernel side and device model (sources of the nooks addon target).
# Paths are relative to this file (gyp resolves an included file's paths from where it lives).
{
  'sources': [
    'uart16550.cc',
    'serial_core.cc',
    'serial_kapi.cc',
    'serial_napi.cc',
  ],
}
