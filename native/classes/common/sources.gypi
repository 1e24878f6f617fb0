# What the four device classes share (sources of the nooks addon target; paths relative to this file).
{
  'sources': ['cross.cc', 'failure.cc', 'js_pump.cc'],
}
