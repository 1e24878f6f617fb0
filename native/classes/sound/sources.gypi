# The sound class: its kernel side and device model (sources of the nooks addon target).
{
  'sources': ['pcm_class.cc', 'pcm_device.cc'],
}
