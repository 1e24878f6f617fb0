/* The mark of a driver built with the personality, exported for the loader
 * (which then names what the driver imports beyond it as outside the
 * personality); linked into every such driver (-u, lib/sdk/flags.ts), and with
 * it <nooks/kapi.h>'s kernel-API stamp. */
#include "posix.h"

__attribute__((visibility("default"))) const char nooks_posix_personality[] = "nooks POSIX personality";
