/* Error reporting and checked allocation (see include/collapse/common.h). */
#include "collapse/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void exit_handler(int code) { exit(code); }
static void (*abort_handler)(int) = exit_handler;

void col_set_abort_handler(void (*handler)(int code)) { abort_handler = handler ? handler : exit_handler; }

int col_fail(col_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void col_fatal_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "collapse: fatal: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (%s:%d)\n", file, line);
    fflush(stderr);
    abort_handler(1);
    abort(); /* a handler that returns is a bug; do not continue */
}

void *col_malloc_at(size_t n_bytes, const char *purpose, const char *file, int line)
{
    void *p = malloc(n_bytes ? n_bytes : 1);
    if (!p)
        col_fatal_at(file, line, "out of memory allocating %zu bytes for %s", n_bytes, purpose);
    return p;
}

void *col_calloc_at(size_t count, size_t size, const char *purpose, const char *file, int line)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        col_fatal_at(file, line, "out of memory allocating %zu x %zu bytes for %s", count, size, purpose);
    return p;
}
