/*
 * Error reporting and checked allocation shared by every layer.
 *
 * Two kinds of failure exist in this project:
 *  - recoverable ones (bad input files, bad configuration) are returned as -1 with a message
 *    in a col_error, so that callers and tests can inspect them;
 *  - unrecoverable ones (out of memory, a failed MPI or HDF5 call) go through COL_FATAL,
 *    which prints file:line and the message, then calls the abort handler. The handler is
 *    exit() by default; the program installs one that aborts every MPI rank.
 */
#ifndef COLLAPSE_COMMON_H
#define COLLAPSE_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* A recoverable error: a message naming what failed, on which file or key, and what to do. */
typedef struct col_error {
    char msg[2048];
} col_error;

/* Formats the message into err (if not NULL) and returns -1, so `return col_fail(err, ...)`. */
int col_fail(col_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "collapse: fatal: <message> (file:line)" and calls the abort handler; never returns. */
_Noreturn void col_fatal_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define COL_FATAL(...) col_fatal_at(__FILE__, __LINE__, __VA_ARGS__)

/* Replaces the handler COL_FATAL calls (default: exit(code)). The handler must not return. */
void col_set_abort_handler(void (*handler)(int code));

/* Allocation that never returns NULL: a failure is fatal and names what was being allocated. */
void *col_malloc_at(size_t n_bytes, const char *purpose, const char *file, int line);
void *col_calloc_at(size_t count, size_t size, const char *purpose, const char *file, int line);
#define col_malloc(n_bytes, purpose) col_malloc_at((n_bytes), (purpose), __FILE__, __LINE__)
#define col_calloc(count, size, purpose) col_calloc_at((count), (size), (purpose), __FILE__, __LINE__)

/* Exit status of a run that stopped early on a signal and can be resumed (EX_TEMPFAIL). */
#define COL_EXIT_RESUMABLE 75

#endif
