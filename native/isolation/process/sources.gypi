# The backend of isolation 'process' (sources of the nooks addon target).
{
  'sources': ['process.cc', 'process_x86_64.S', 'driver_host.cc', 'helper.cc'],  # relative to this file (gyp rebases included paths)
}
