/*
 * The experiment: the generation loop of each ensemble member (train the VAE and a fresh
 * classifier on D_g, sample D_{g+1}, label it, evaluate every earlier classifier on it,
 * checkpoint), the schedule of members over rank groups, resume and stop requests.
 */
#ifndef COLLAPSE_PIPELINE_H
#define COLLAPSE_PIPELINE_H

/* Exit codes of a run. */
enum col_exit {
    COL_EXIT_OK = 0,
    COL_EXIT_ERROR = 1,        /* bad input or a failed write: see the message */
    COL_EXIT_DIVERGED = 3,     /* NaN or Inf in a loss or gradient */
    COL_EXIT_STOPPED = 75      /* stopped on a signal after saving; run again to resume */
};

typedef struct col_run_options {
    const char *config_path;
    char *const *overrides;    /* "KEY=VALUE" strings */
    int n_overrides;
    const char *output;        /* NULL: the config's output key */
    int member;                /* >= 0: run only this member; -1: all */
} col_run_options;

/* Runs the experiment on MPI_COMM_WORLD (MPI already initialized); returns an exit code. */
int col_run(const col_run_options *options);

/* Installs handlers that turn SIGTERM, SIGINT and SIGUSR1 into a stop request. */
void col_signals_install(void);

/* 1 once a stop signal has arrived (or col_request_stop was called). */
int col_stop_requested(void);
void col_request_stop(void);

#endif
