# The backend of isolation 'pkey' (sources of the nooks addon target).
{
  'sources': ['pkey.cc', 'pkey_x86_64.S'],  # relative to this file (gyp rebases included paths)
}
