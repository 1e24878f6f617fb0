/*
 * memtest: a driver that takes buffers and strings from its host and reads
 * load parameters, for the tests of driver.alloc/read/write/cstring and of
 * module_param. Its exported functions dereference what they are given, as a
 * user's driver would: a bad pointer is the driver's fault, contained.
 */
#include <nooks/kapi.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Buffers, strings and load parameters from the host, for the nooks tests");

static int count = 3;
module_param(count, int, 0444);
MODULE_PARM_DESC(count, "a small number");
static long offset = -5;
module_param(offset, long, 0444);
static bool verbose;
module_param(verbose, bool, 0444);
static char *greeting = "hello";
module_param(greeting, charp, 0444);

/* a block of its own, made at init: the host may read what the driver owns */
static u8 *table;
#define TABLE_LEN 32

NOOKS_EXPORT long sum(const u8 *p, long len)
{
	long s = 0;

	for (long i = 0; i < len; i++)
		s += p[i];
	return s;
}

NOOKS_EXPORT long strlen_(const char *s)
{
	return (long)strlen(s);
}

NOOKS_EXPORT long fill(u8 *p, long len, long byte)
{
	memset(p, (int)byte, (size_t)len);
	return len;
}

/* the driver takes a host block over: kfree on a driver.alloc block */
NOOKS_EXPORT long release(void *p)
{
	kfree(p);
	return 0;
}

NOOKS_EXPORT long table_addr(void)
{
	return (long)table;
}

NOOKS_EXPORT long get_count(void)
{
	return count;
}

NOOKS_EXPORT long get_offset(void)
{
	return offset;
}

NOOKS_EXPORT long get_verbose(void)
{
	return verbose;
}

NOOKS_EXPORT long greeting_addr(void)
{
	return (long)greeting;
}

/* changes a parameter at run time: recovery must give the driver the loaded value again */
NOOKS_EXPORT long set_count(long v)
{
	count = (int)v;
	return count;
}

NOOKS_EXPORT long null_deref(void)
{
	/* a volatile pointer: GCC cannot see it is NULL and turn the load into a trap */
	long *volatile p = NULL;

	return *p;
}

static int memtest_init(void)
{
	table = kmalloc(TABLE_LEN, GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	for (int i = 0; i < TABLE_LEN; i++)
		table[i] = (u8)(i * 3);
	if (verbose)
		pr_info("memtest: count=%d offset=%ld greeting=%s\n", count, offset, greeting);
	return 0;
}

static void memtest_exit(void)
{
	kfree(table);
}

module_init(memtest_init);
module_exit(memtest_exit);
