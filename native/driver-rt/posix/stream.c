/* FILE streams over the personality's descriptors (files.c): fopen a sysfs
 * attribute and fgets or fscanf it, fprintf a value to it, as userspace
 * drivers do. A stream is a heap block of the domain with one buffer, used
 * for reading or for writing (switching flushes); writes are fully buffered,
 * so a short fprintf to a sysfs attribute reaches it as one write at fflush
 * or fclose. stdout and stderr stay the kernel log (stdio.c). A recovery
 * frees the heap and the descriptors, and resets the driver's data: no
 * stream, nor any of their locks, outlives it. */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "posix.h"

#define STREAM_BUF 4096
#define STREAM_MAGIC 0x6e6b4653u /* "nkFS": what fclose'd or foreign pointers lack */

enum { CAN_READ = 1, CAN_WRITE = 2, AT_EOF = 4, HAD_ERROR = 8, UNBUFFERED = 16 };

struct file_stream {
	unsigned int magic;
	int fd;
	int flags;
	unsigned int lock;	/* posix_word_lock() */
	struct file_stream *next;	/* in the list of open streams (fflush(NULL), exit) */
	size_t pos, len;		/* reading: the buffer's unread bytes are [pos, len) */
	size_t pending;			/* writing: bytes waiting in the buffer */
	unsigned char buf[STREAM_BUF];
};

static struct file_stream *streams;
static unsigned int streams_lock;

/* stdin: a driver has no input. Reading it is at end of file at once
 * (descriptor 0 reads nothing: files.c), never a link error. */
static struct file_stream stdin_stream = { .magic = STREAM_MAGIC, .fd = STDIN_FILENO, .flags = CAN_READ };
FILE *stdin = (FILE *)&stdin_stream;

static struct file_stream *file_stream_of(FILE *f)
{
	struct file_stream *s = (struct file_stream *)f;

	if (!s || s->magic != STREAM_MAGIC) {
		errno = EBADF;
		return NULL;
	}
	return s;
}

/* "r", "w", "a", each with "+", "b", "e" (O_CLOEXEC), "x" (O_EXCL) after it. */
static int open_flags(const char *mode, int *flags)
{
	int f;

	switch (*mode) {
	case 'r': f = O_RDONLY; break;
	case 'w': f = O_WRONLY | O_CREAT | O_TRUNC; break;
	case 'a': f = O_WRONLY | O_CREAT | O_APPEND; break;
	default: errno = EINVAL; return -1;
	}
	for (const char *m = mode + 1; *m; m++) {
		if (*m == '+')
			f = (f & ~O_ACCMODE) | O_RDWR;
		else if (*m == 'e')
			f |= O_CLOEXEC;
		else if (*m == 'x')
			f |= O_EXCL;
	}
	*flags = f;
	return 0;
}

static FILE *stream_over(int fd, int flags)
{
	struct file_stream *s = malloc(sizeof(*s));
	int acc = flags & O_ACCMODE;

	if (!s)
		return NULL;
	memset(s, 0, offsetof(struct file_stream, buf));
	s->magic = STREAM_MAGIC;
	s->fd = fd;
	s->flags = (acc != O_WRONLY ? CAN_READ : 0) | (acc != O_RDONLY ? CAN_WRITE : 0);
	posix_word_lock(&streams_lock);
	s->next = streams;
	streams = s;
	posix_word_unlock(&streams_lock);
	return (FILE *)s;
}

FILE *fopen(const char *path, const char *mode)
{
	int flags, fd;
	FILE *f;

	if (open_flags(mode, &flags) < 0)
		return NULL;
	fd = open(path, flags, 0666);
	if (fd < 0)
		return NULL;
	f = stream_over(fd, flags);
	if (!f)
		close(fd);
	return f;
}
FILE *fopen64(const char *path, const char *mode) __attribute__((alias("fopen")));

FILE *fdopen(int fd, const char *mode)
{
	int flags, have = fcntl(fd, F_GETFL);

	if (have < 0 || open_flags(mode, &flags) < 0)
		return NULL;
	/* the descriptor must allow what the mode asks */
	if (((flags & O_ACCMODE) != O_RDONLY && (have & O_ACCMODE) == O_RDONLY) ||
	    ((flags & O_ACCMODE) != O_WRONLY && (have & O_ACCMODE) == O_WRONLY)) {
		errno = EINVAL;
		return NULL;
	}
	return stream_over(fd, flags);
}

/* Writes what the buffer holds; 0, or EOF with the error flag set. */
static int drain(struct file_stream *s)
{
	int r = posix_write_all(s->fd, (const char *)s->buf, s->pending);

	s->pending = 0;
	if (r < 0) {
		s->flags |= HAD_ERROR;
		return EOF;
	}
	return 0;
}

/* Gives back what was read ahead (the descriptor's offset moves back to the
 * stream's) before a write or a seek. */
static int unread(struct file_stream *s)
{
	off_t back = (off_t)(s->len - s->pos);

	s->pos = s->len = 0;
	return back && lseek(s->fd, -back, SEEK_CUR) < 0 ? EOF : 0;
}

int posix_file_write(FILE *f, const char *p, size_t n)
{
	struct file_stream *s = file_stream_of(f);
	int r = 0;

	if (!s)
		return -1;
	if (!(s->flags & CAN_WRITE)) {
		s->flags |= HAD_ERROR;
		errno = EBADF;
		return -1;
	}
	posix_word_lock(&s->lock);
	if (s->len)
		unread(s);
	while (n && r == 0) {
		size_t room = sizeof(s->buf) - s->pending, k = n < room ? n : room;

		memcpy(s->buf + s->pending, p, k);
		s->pending += k;
		p += k;
		n -= k;
		if (s->pending == sizeof(s->buf))
			r = drain(s);
	}
	if (r == 0 && (s->flags & UNBUFFERED))
		r = drain(s);
	posix_word_unlock(&s->lock);
	return r ? -1 : 0;
}

/* The next byte, or EOF (end of file or error, flagged); the stream locked. */
static int next_byte(struct file_stream *s)
{
	ssize_t n;

	if (s->pos < s->len)
		return s->buf[s->pos++];
	if (!(s->flags & CAN_READ)) {
		s->flags |= HAD_ERROR;
		errno = EBADF;
		return EOF;
	}
	if (s->pending && drain(s))
		return EOF;
	n = read(s->fd, s->buf, sizeof(s->buf));
	if (n <= 0) {
		s->flags |= n ? HAD_ERROR : AT_EOF;
		return EOF;
	}
	s->pos = 1;
	s->len = (size_t)n;
	return s->buf[0];
}

/* The scanner's source: bytes of a locked stream; one byte may be pushed back. */
static int scan_get(void *ctx)
{
	return next_byte(ctx);
}

static void scan_unget(int c, void *ctx)
{
	struct file_stream *s = ctx;

	if (c != EOF && s->pos)
		s->pos--;
}

int vfscanf(FILE *f, const char *fmt, va_list ap)
{
	struct file_stream *s = file_stream_of(f);
	struct scan_source src = { scan_get, scan_unget, s };
	int n;

	if (!s)
		return EOF;
	posix_word_lock(&s->lock);
	n = posix_vscan(&src, fmt, ap);
	posix_word_unlock(&s->lock);
	return n;
}
/* <stdio.h> names it __isoc99_vfscanf (glibc 2.38's, for C23 or _GNU_SOURCE,
 * __isoc23_vfscanf: the same here, %b and 0b aside); code built for C89 calls vfscanf */
int plain_vfscanf(FILE *f, const char *fmt, va_list ap) __asm__("vfscanf") __attribute__((alias("__isoc99_vfscanf")));
int isoc23_vfscanf(FILE *f, const char *fmt, va_list ap) __asm__("__isoc23_vfscanf") __attribute__((alias("__isoc99_vfscanf")));

int fscanf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfscanf(f, fmt, ap);
	va_end(ap);
	return n;
}
/* <stdio.h> names it __isoc99_fscanf; code built for C89 calls fscanf */
int plain_fscanf(FILE *f, const char *fmt, ...) __asm__("fscanf") __attribute__((alias("__isoc99_fscanf")));
int isoc23_fscanf(FILE *f, const char *fmt, ...) __asm__("__isoc23_fscanf") __attribute__((alias("__isoc99_fscanf")));

int vscanf(const char *fmt, va_list ap)
{
	return vfscanf(stdin, fmt, ap);
}
int plain_vscanf(const char *fmt, va_list ap) __asm__("vscanf") __attribute__((alias("__isoc99_vscanf")));
int isoc23_vscanf(const char *fmt, va_list ap) __asm__("__isoc23_vscanf") __attribute__((alias("__isoc99_vscanf")));

int scanf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfscanf(stdin, fmt, ap);
	va_end(ap);
	return n;
}
int plain_scanf(const char *fmt, ...) __asm__("scanf") __attribute__((alias("__isoc99_scanf")));
int isoc23_scanf(const char *fmt, ...) __asm__("__isoc23_scanf") __attribute__((alias("__isoc99_scanf")));

int fgetc(FILE *f)
{
	struct file_stream *s = file_stream_of(f);
	int c;

	if (!s)
		return EOF;
	posix_word_lock(&s->lock);
	c = next_byte(s);
	posix_word_unlock(&s->lock);
	return c;
}

int getc(FILE *f)
{
	return fgetc(f);
}

int getchar(void)
{
	return fgetc(stdin);
}

/* One byte back into the buffer, to be read next (and counted by ftell). */
int ungetc(int c, FILE *f)
{
	struct file_stream *s = file_stream_of(f);
	int r = EOF;

	if (!s || c == EOF)
		return EOF;
	posix_word_lock(&s->lock);
	if (!s->pending && (s->pos || !s->len)) {
		if (!s->len)
			s->pos = s->len = 1;
		s->buf[--s->pos] = (unsigned char)c;
		s->flags &= ~AT_EOF;
		r = (unsigned char)c;
	}
	posix_word_unlock(&s->lock);
	return r;
}

char *fgets(char *out, int size, FILE *f)
{
	struct file_stream *s = file_stream_of(f);
	int n = 0, c = 0;

	if (!s || size <= 0)
		return NULL;
	posix_word_lock(&s->lock);
	while (n < size - 1 && c != '\n' && (c = next_byte(s)) != EOF)
		out[n++] = (char)c;
	posix_word_unlock(&s->lock);
	if (n == 0 && size > 1)
		return NULL;
	out[n] = 0;
	return out;
}

char *__fgets_chk(char *out, size_t outlen, int size, FILE *f);
char *__fgets_chk(char *out, size_t outlen, int size, FILE *f)
{
	if ((size_t)size > outlen)
		__chk_fail();
	return fgets(out, size, f);
}

size_t fread(void *p, size_t size, size_t n, FILE *f)
{
	struct file_stream *s = file_stream_of(f);
	unsigned char *out = p;
	size_t want, got = 0;
	int c;

	if (!s || !size || !n)
		return 0;
	if (__builtin_mul_overflow(size, n, &want)) {
		/* glibc reads the wrapped product; no buffer is that large: refused */
		s->flags |= HAD_ERROR;
		errno = EOVERFLOW;
		return 0;
	}
	posix_word_lock(&s->lock);
	while (got < want && (c = next_byte(s)) != EOF) {
		size_t k = s->len - s->pos;

		out[got++] = (unsigned char)c;
		k = k < want - got ? k : want - got;
		memcpy(out + got, s->buf + s->pos, k);
		s->pos += k;
		got += k;
	}
	posix_word_unlock(&s->lock);
	return got / size;
}

size_t __fread_chk(void *p, size_t plen, size_t size, size_t n, FILE *f);
size_t __fread_chk(void *p, size_t plen, size_t size, size_t n, FILE *f)
{
	if (size && n > plen / size)
		__chk_fail();
	return fread(p, size, n, f);
}

ssize_t getdelim(char **line, size_t *cap, int delim, FILE *f)
{
	struct file_stream *s = file_stream_of(f);
	size_t n = 0;
	int c = 0;

	if (!s)
		return -1;
	if (!line || !cap) {
		errno = EINVAL;
		return -1;
	}
	posix_word_lock(&s->lock);
	while (c != delim && (c = next_byte(s)) != EOF) {
		if (n + 2 > *cap || !*line) {
			size_t bigger = *cap < 64 ? 128 : *cap * 2;
			char *grown = realloc(*line, bigger);

			if (!grown) {
				s->flags |= HAD_ERROR;
				break;
			}
			*line = grown;
			*cap = bigger;
		}
		(*line)[n++] = (char)c;
	}
	posix_word_unlock(&s->lock);
	if (!n)
		return -1;
	(*line)[n] = 0;
	return (ssize_t)n;
}
ssize_t __getdelim(char **line, size_t *cap, int delim, FILE *f) __attribute__((alias("getdelim")));

ssize_t getline(char **line, size_t *cap, FILE *f)
{
	return getdelim(line, cap, '\n', f);
}

int posix_file_flush(FILE *f)
{
	struct file_stream *s = file_stream_of(f);
	int r;

	if (!s)
		return EOF;
	posix_word_lock(&s->lock);
	r = drain(s);
	posix_word_unlock(&s->lock);
	return r;
}

/* A stream's lock taken, or at exit only when free (false when held). */
static bool lock_unless_exiting(unsigned int *word, bool at_exit)
{
	if (at_exit)
		return posix_word_trylock(word);
	posix_word_lock(word);
	return true;
}

/* Every stream's buffer written out. At exit no lock is waited for (nor is
 * it by glibc's exit): a stream another thread holds (in a read that waits,
 * say) stays as it is, and every stream while another thread holds the list:
 * opening or closing one, or in fflush(NULL) waiting for a stream held (as
 * it keeps the list meanwhile); a wait there could be forever, and exit
 * never return. */
static void flush_all(bool at_exit)
{
	if (!lock_unless_exiting(&streams_lock, at_exit))
		return;
	for (struct file_stream *s = streams; s; s = s->next)
		if (lock_unless_exiting(&s->lock, at_exit)) {
			drain(s);
			posix_word_unlock(&s->lock);
		}
	posix_word_unlock(&streams_lock);
}

void posix_files_flush(void)
{
	flush_all(false);
}

void posix_files_flush_at_exit(void)
{
	flush_all(true);
}

int fclose(FILE *f)
{
	struct file_stream *s = file_stream_of(f);
	int r;

	if (!s)
		return EOF;
	if (s == &stdin_stream) {
		s->magic = 0;	/* not a heap block, nor in the list */
		return 0;
	}
	r = posix_file_flush(f);
	posix_word_lock(&streams_lock);
	for (struct file_stream **at = &streams; *at; at = &(*at)->next)
		if (*at == s) {
			*at = s->next;
			break;
		}
	posix_word_unlock(&streams_lock);
	if (close(s->fd) < 0)
		r = EOF;
	s->magic = 0;
	free(s);
	return r;
}

int fseeko(FILE *f, off_t offset, int whence)
{
	struct file_stream *s = file_stream_of(f);
	int r;

	if (!s)
		return -1;
	posix_word_lock(&s->lock);
	r = drain(s);
	if (!r && whence == SEEK_CUR)
		offset -= (off_t)(s->len - s->pos);
	s->pos = s->len = 0;
	if (!r && lseek(s->fd, offset, whence) < 0)
		r = -1;
	if (!r)
		s->flags &= ~AT_EOF;
	posix_word_unlock(&s->lock);
	return r ? -1 : 0;
}
int fseeko64(FILE *f, off64_t offset, int whence) __attribute__((alias("fseeko")));

int fseek(FILE *f, long offset, int whence)
{
	return fseeko(f, offset, whence);
}

off_t ftello(FILE *f)
{
	struct file_stream *s = file_stream_of(f);
	off_t at;

	if (!s)
		return -1;
	posix_word_lock(&s->lock);
	at = lseek(s->fd, 0, SEEK_CUR);
	if (at >= 0)
		at += (off_t)s->pending - (off_t)(s->len - s->pos);
	posix_word_unlock(&s->lock);
	return at;
}
off64_t ftello64(FILE *f) __attribute__((alias("ftello")));

long ftell(FILE *f)
{
	return ftello(f);
}

void rewind(FILE *f)
{
	struct file_stream *s = file_stream_of(f);

	if (s && fseeko(f, 0, SEEK_SET) == 0)
		s->flags &= ~HAD_ERROR;
}

int feof(FILE *f)
{
	struct file_stream *s = file_stream_of(f);

	return s && (s->flags & AT_EOF);
}

int ferror(FILE *f)
{
	struct file_stream *s = file_stream_of(f);

	return s && (s->flags & HAD_ERROR);
}

void clearerr(FILE *f)
{
	struct file_stream *s = file_stream_of(f);

	if (s)
		s->flags &= ~(AT_EOF | HAD_ERROR);
}

int fileno(FILE *f)
{
	struct file_stream *s;

	if (f == stdout || f == stderr)
		return f == stdout ? STDOUT_FILENO : STDERR_FILENO;
	s = file_stream_of(f);
	return s ? s->fd : -1;
}

/* The stream's own buffer is kept (`buf` unused); _IONBF writes at each
 * call, _IOLBF and _IOFBF at fflush, fclose or a full buffer (sysfs wants
 * one write per value). stdout and stderr are always line by line. */
int setvbuf(FILE *f, char *buf, int mode, size_t size)
{
	struct file_stream *s;

	(void)buf;
	(void)size;
	if (mode != _IOFBF && mode != _IOLBF && mode != _IONBF) {
		errno = EINVAL;
		return -1;
	}
	if (f == stdout || f == stderr)
		return 0;
	s = file_stream_of(f);
	if (!s)
		return -1;
	s->flags = mode == _IONBF ? s->flags | UNBUFFERED : s->flags & ~UNBUFFERED;
	return 0;
}

void setbuf(FILE *f, char *buf)
{
	setvbuf(f, buf, buf ? _IOFBF : _IONBF, BUFSIZ);
}
