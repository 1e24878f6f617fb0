/* stdout and stderr as the kernel log: every '\n' ends one line, tagged with
 * the driver (the kernel knows the caller), level info for stdout and err for
 * stderr. An unfinished line waits in the stream; a line longer than the
 * stream's buffer is logged in pieces; syslog's messages (syslog.c) are
 * logged the same way, at their own levels. Output to any other FILE goes to
 * its file (stream.c); dprintf's to a descriptor (files.c). */
#define _GNU_SOURCE	/* vasprintf */
#include "posix.h"

#define LINE_MAX_BYTES 512

struct stream {
	const char *level;	/* the KERN_* prefix of its lines */
	spinlock_t lock;
	size_t len;
	char line[LINE_MAX_BYTES];	/* the level prefix, then the line */
};

static struct stream out_stream = { .level = KERN_INFO }, err_stream = { .level = KERN_ERR };

FILE *stdout = (FILE *)&out_stream;
FILE *stderr = (FILE *)&err_stream;

static struct stream *stream_of(FILE *f)
{
	return f == (FILE *)&out_stream || f == (FILE *)&err_stream ? (struct stream *)f : NULL;
}

static void emit(struct stream *s)
{
	nooks_log(s->line, s->len);
	s->len = 0;
}

/* Adds n bytes to s's line, logging it at each '\n' and when full. */
static void put(struct stream *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s->len == 0) {
			memcpy(s->line, s->level, 3);
			s->len = 3;
		}
		if (p[i] == '\n') {
			emit(s);
			continue;
		}
		s->line[s->len++] = p[i];
		if (s->len == sizeof(s->line))
			emit(s);
	}
}

int posix_stream_write(FILE *f, const char *p, size_t n)
{
	struct stream *s = stream_of(f);

	if (!s)
		return posix_file_write(f, p, n);
	spin_lock(&s->lock);
	put(s, p, n);
	spin_unlock(&s->lock);
	return 0;
}

void posix_log(int level, const char *prefix, const char *text, size_t n)
{
	static const char *const levels[] = { KERN_EMERG, KERN_ALERT, KERN_CRIT, KERN_ERR,
					      KERN_WARNING, KERN_NOTICE, KERN_INFO, KERN_DEBUG };
	struct stream s = { .level = levels[level & 7] };

	put(&s, prefix, strlen(prefix));
	put(&s, text, n);
	if (s.len > 3)
		emit(&s);
}

void posix_streams_flush(void)
{
	struct stream *all[] = { &out_stream, &err_stream };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		spin_lock(&all[i]->lock);
		if (all[i]->len > 3)
			emit(all[i]);
		spin_unlock(&all[i]->lock);
	}
	posix_files_flush_at_exit();
}

int fflush(FILE *f)
{
	if (!f) {
		posix_files_flush();
		return 0;
	}
	/* lines reach the log whole, at their '\n' */
	return stream_of(f) ? 0 : posix_file_flush(f);
}

char *posix_format(char small[POSIX_SMALL_TEXT], int *n, const char *fmt, va_list ap)
{
	char *text = small;
	va_list again;

	va_copy(again, ap);
	*n = vsnprintf(small, POSIX_SMALL_TEXT, fmt, ap);
	if (*n >= POSIX_SMALL_TEXT) {
		text = malloc((size_t)*n + 1);
		if (text)
			vsnprintf(text, (size_t)*n + 1, fmt, again);
	}
	va_end(again);
	return text;
}

int vfprintf(FILE *f, const char *fmt, va_list ap)
{
	char small[POSIX_SMALL_TEXT], *text;
	int n;

	text = posix_format(small, &n, fmt, ap);
	if (!text)
		return -1;
	if (n > 0 && posix_stream_write(f, text, (size_t)n) < 0)
		n = -1;
	if (text != small)
		free(text);
	return n;
}

/* To a descriptor: write() until all is written (1 and 2 are stdout and stderr). */
int vdprintf(int fd, const char *fmt, va_list ap)
{
	char small[POSIX_SMALL_TEXT], *text;
	int n;

	text = posix_format(small, &n, fmt, ap);
	if (!text)
		return -1;
	if (n > 0 && posix_write_all(fd, text, (size_t)n) < 0)
		n = -1;
	if (text != small)
		free(text);
	return n;
}

int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vdprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}

int fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

int vprintf(const char *fmt, va_list ap)
{
	return vfprintf(stdout, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(stdout, fmt, ap);
	va_end(ap);
	return n;
}

/* The text in a heap block of its own (asprintf(3)): its length, or -1
 * (EOVERFLOW past INT_MAX, ENOMEM), *out then unset. */
int vasprintf(char **out, const char *fmt, va_list ap)
{
	char small[POSIX_SMALL_TEXT], *text;
	int n;

	text = posix_format(small, &n, fmt, ap);
	if (!text || n < 0)
		return -1;
	if (text == small) {
		text = malloc((size_t)n + 1);
		if (!text)
			return -1;
		memcpy(text, small, (size_t)n + 1);
	}
	*out = text;
	return n;
}

int asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	return n;
}

int vsprintf(char *buf, const char *fmt, va_list ap)
{
	return vsnprintf(buf, (size_t)-1 / 2, fmt, ap);
}

int sprintf(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsprintf(buf, fmt, ap);
	va_end(ap);
	return n;
}

int fputs(const char *s, FILE *f)
{
	return posix_stream_write(f, s, strlen(s)) < 0 ? EOF : 1;
}

int puts(const char *s)
{
	if (fputs(s, stdout) == EOF)
		return EOF;
	return posix_stream_write(stdout, "\n", 1) < 0 ? EOF : 1;
}

int fputc(int c, FILE *f)
{
	char ch = (char)c;

	return posix_stream_write(f, &ch, 1) < 0 ? EOF : (unsigned char)c;
}

int putc(int c, FILE *f)
{
	return fputc(c, f);
}

int putchar(int c)
{
	return fputc(c, stdout);
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	size_t bytes;

	if (!size || !n)
		return 0;
	if (__builtin_mul_overflow(size, n, &bytes)) {
		errno = EOVERFLOW;	/* glibc writes the wrapped product; no buffer is that large */
		return 0;
	}
	return posix_stream_write(f, p, bytes) < 0 ? 0 : n;
}

void perror(const char *s)
{
	const char *why = strerror(errno);

	if (s && *s)
		fprintf(stderr, "%s: %s\n", s, why);
	else
		fprintf(stderr, "%s\n", why);
}
