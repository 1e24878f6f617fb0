# The sound class: its kernel side and device model (sources of the nooks addon target).
{
  'sources': ['pcm_core.cc', 'pcm_stream.cc', 'pcm_napi.cc', 'pcm_kapi.cc', 'pcm_device.cc'],
}
