# The pcm driver's build target.
{
  'targets': [],
}
