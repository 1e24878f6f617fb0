# The block class: its kernel side and device model (sources of the nooks addon target).
{
  'sources': ['block_core.cc', 'block_kapi.cc', 'block_napi.cc', 'model.cc'],  # relative to this file (gyp rebases included paths)
}
