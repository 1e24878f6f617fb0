# The net class: its kernel side and device model (sources of the nooks addon target).
{
  'sources': [],
}
