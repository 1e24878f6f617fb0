/* htons & co., for code built without optimization (with it, <arpa/inet.h>
 * makes them byte swaps inline). x86-64 is little-endian. */
#include <arpa/inet.h>

#include "posix.h"

/* the functions themselves, not <arpa/inet.h>'s macros */
#undef htons
#undef ntohs
#undef htonl
#undef ntohl

uint16_t htons(uint16_t v)
{
	return __builtin_bswap16(v);
}

uint16_t ntohs(uint16_t v)
{
	return __builtin_bswap16(v);
}

uint32_t htonl(uint32_t v)
{
	return __builtin_bswap32(v);
}

uint32_t ntohl(uint32_t v)
{
	return __builtin_bswap32(v);
}
