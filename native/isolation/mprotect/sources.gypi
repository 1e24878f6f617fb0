# The backend of isolation 'mprotect' (sources of the nooks addon target).
{
  'sources': ['mprotect.cc', 'mprotect_x86_64.S'],  # relative to this file (gyp rebases included paths)
}
