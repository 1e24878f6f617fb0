# The e1000 driver's build target.
{
  'targets': [],
}
