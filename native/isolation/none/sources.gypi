# The backend of isolation 'none' (sources of the nooks addon target).
{
  'sources': ['none.cc', 'none_x86_64.S'],  # relative to this file (gyp rebases included paths)
}
