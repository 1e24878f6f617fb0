# The block class: its kernel side and device model (sources of the nooks addon target).
{
  'sources': ['block.cc', 'model.cc'],  # relative to this file (gyp rebases included paths)
}
