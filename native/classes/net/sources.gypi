# The net class: its kernel side and device model (sources of the nooks addon target).
# Paths are relative to this file (gyp resolves an included file's paths from where it lives).
{
  'sources': ['net_core.cc', 'net_kapi.cc', 'net_napi.cc', 'e1000_model.cc', 'e1000_phy.cc', 'e1000_stats.cc', 'e1000_quirk.cc'],
  'include_dirs': ['include'],
}
