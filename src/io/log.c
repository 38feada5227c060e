/* Progress logging (see include/collapse/log.h). */
#include "collapse/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int log_enabled = 1;
static char log_member[128] = "";

void col_log_enable(int enabled) { log_enabled = enabled; }

void col_log_set_member(const char *member) { snprintf(log_member, sizeof log_member, "%s", member ? member : ""); }

void col_log(const char *fmt, ...)
{
    if (!log_enabled)
        return;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (log_member[0])
        fprintf(stderr, "%s [%s] %s\n", stamp, log_member, line);
    else
        fprintf(stderr, "%s %s\n", stamp, line);
    fflush(stderr);
}

double col_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
