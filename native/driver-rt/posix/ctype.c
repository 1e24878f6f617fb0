/* <ctype.h> in the C locale. glibc's macros index the tables behind
 * __ctype_b_loc & co. from -128 (EOF is -1) to 255: the tables here have that
 * shape and glibc's class bits, so compiled macros and these functions agree. */
#include <ctype.h>
#include <stdint.h>

#include "posix.h"

#define AT(c) [128 + (c)]
#define RANGE(a, b) [128 + (a) ... 128 + (b)]
#define PRINTABLE (_ISprint | _ISgraph)
#define PUNCT (PRINTABLE | _ISpunct)
#define UPPER (PRINTABLE | _ISupper | _ISalpha | _ISalnum)
#define LOWER (PRINTABLE | _ISlower | _ISalpha | _ISalnum)

static const unsigned short classes[384] = {
	RANGE(0, 8) = _IScntrl,
	AT('\t') = _IScntrl | _ISspace | _ISblank,
	RANGE('\n', '\r') = _IScntrl | _ISspace,
	RANGE(14, 31) = _IScntrl,
	AT(' ') = _ISprint | _ISspace | _ISblank,
	RANGE('!', '/') = PUNCT,
	RANGE('0', '9') = PRINTABLE | _ISdigit | _ISxdigit | _ISalnum,
	RANGE(':', '@') = PUNCT,
	RANGE('A', 'F') = UPPER | _ISxdigit,
	RANGE('G', 'Z') = UPPER,
	RANGE('[', '`') = PUNCT,
	RANGE('a', 'f') = LOWER | _ISxdigit,
	RANGE('g', 'z') = LOWER,
	RANGE('{', '~') = PUNCT,
	AT(127) = _IScntrl,
};

/* 384 entries from -128: c itself, or its other case */
#define LOWER_OF(c) ((c) >= 'A' && (c) <= 'Z' ? (c) + ('a' - 'A') : (c))
#define UPPER_OF(c) ((c) >= 'a' && (c) <= 'z' ? (c) - ('a' - 'A') : (c))
#define ROW4(f, c) f(c), f((c) + 1), f((c) + 2), f((c) + 3)
#define ROW16(f, c) ROW4(f, c), ROW4(f, (c) + 4), ROW4(f, (c) + 8), ROW4(f, (c) + 12)
#define ROW64(f, c) ROW16(f, c), ROW16(f, (c) + 16), ROW16(f, (c) + 32), ROW16(f, (c) + 48)
#define TABLE(f) { ROW64(f, -128), ROW64(f, -64), ROW64(f, 0), ROW64(f, 64), ROW64(f, 128), ROW64(f, 192) }

static const int32_t lower[384] = TABLE(LOWER_OF);
static const int32_t upper[384] = TABLE(UPPER_OF);

/* glibc hands out the address of a per-thread pointer to the table; one
 * pointer serves every thread here (the C locale never changes) */
static const unsigned short *classes_at = classes + 128;
static const int32_t *lower_at = lower + 128, *upper_at = upper + 128;

const unsigned short **__ctype_b_loc(void)
{
	return &classes_at;
}

const int32_t **__ctype_tolower_loc(void)
{
	return &lower_at;
}

const int32_t **__ctype_toupper_loc(void)
{
	return &upper_at;
}

/* the functions behind the macros, for sources that call them (or C++);
 * in parentheses, past <ctype.h>'s macros of the same names */
static int in_class(int c, unsigned short bits)
{
	return c >= -128 && c <= 255 ? classes_at[c] & bits : 0;
}

int (isalnum)(int c) { return in_class(c, _ISalnum); }
int (isalpha)(int c) { return in_class(c, _ISalpha); }
int (isblank)(int c) { return in_class(c, _ISblank); }
int (iscntrl)(int c) { return in_class(c, _IScntrl); }
int (isdigit)(int c) { return in_class(c, _ISdigit); }
int (isgraph)(int c) { return in_class(c, _ISgraph); }
int (islower)(int c) { return in_class(c, _ISlower); }
int (isprint)(int c) { return in_class(c, _ISprint); }
int (ispunct)(int c) { return in_class(c, _ISpunct); }
int (isspace)(int c) { return in_class(c, _ISspace); }
int (isupper)(int c) { return in_class(c, _ISupper); }
int (isxdigit)(int c) { return in_class(c, _ISxdigit); }
int (tolower)(int c) { return c >= -128 && c <= 255 ? lower_at[c] : c; }
int (toupper)(int c) { return c >= -128 && c <= 255 ? upper_at[c] : c; }
