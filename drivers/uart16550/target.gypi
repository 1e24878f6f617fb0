# The uart16550 driver's build target.
{
  'targets': [],
}
