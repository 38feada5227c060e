/* Stop requests from SIGTERM, SIGINT and SIGUSR1 (Slurm's warning signal of choice). */
#include <signal.h>
#include <string.h>

#include "collapse/pipeline.h"

static volatile sig_atomic_t stop_flag = 0;

static void on_signal(int signum)
{
    (void)signum;
    stop_flag = 1;
}

void col_signals_install(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART; /* MPI and file calls resume; the flag is read at safe points */
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGUSR1, &action, NULL);
}

int col_stop_requested(void) { return stop_flag != 0; }

void col_request_stop(void) { stop_flag = 1; }
