/*
 * Progress logging to stderr (stdout stays clean for data). Only ranks that called
 * col_log_enable(1), the first rank of each group, print; every line carries a UTC time
 * stamp and the member being trained.
 */
#ifndef COLLAPSE_LOG_H
#define COLLAPSE_LOG_H

void col_log_enable(int enabled);
void col_log_set_member(const char *member);
void col_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
double col_now_s(void);

#endif
