# The libc-style e1000 driver's build targets, each with the POSIX
# personality's flags (personality.gypi). e1000-libc is the library alone
# (library-style: no module_init); e1000-libc-net is the same library with the
# net-class adapter (netdev.c: its module_init registers eth0). check.c is the
# plain program of the guest check, part of neither.
{
  'targets': [
    {
      'target_name': 'e1000-libc', 'sources': ['e1000l.c', 'vfio.c'], 'includes': ['personality.gypi'],
    },
    {
      'target_name': 'e1000-libc-net', 'sources': ['e1000l.c', 'vfio.c', 'netdev.c'], 'includes': ['personality.gypi'],
    },
  ],
}
