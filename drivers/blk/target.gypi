# The blk driver's build target.
{
  'targets': [],
}
