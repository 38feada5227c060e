/*
 * collapse: the command line.
 *
 *   mpirun -n P collapse run CONFIG [--output DIR] [--set KEY=VALUE ...] [--member K]
 *   collapse members CONFIG [--set KEY=VALUE ...]
 *   collapse --help | --version
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "collapse/common.h"
#include "collapse/config.h"
#include "collapse/pipeline.h"
#include "collapse/version.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mpirun -n P collapse run CONFIG [--output DIR] [--set KEY=VALUE ...] [--member K]\n"
            "       collapse members CONFIG [--set KEY=VALUE ...]\n"
            "       collapse --help | --version\n"
            "\n"
            "Runs the model collapse experiment described by a libconfig file (see config/ and\n"
            "docs/configuration.md): per ensemble member and generation, a VAE and a classifier train\n"
            "on the current data, the VAE samples the next generation's data and the classifier labels\n"
            "it. Each generation is saved as OUT/<member>/gen-NNN.h5 (docs/checkpoint.md).\n"
            "\n"
            "commands:\n"
            "  run          run or resume the experiment; an output folder with checkpoints resumes\n"
            "               after its last complete generation\n"
            "  members      print the number of ensemble members (data sets x seeds) and exit\n"
            "\n"
            "options:\n"
            "  --output DIR        output folder (default: the config's 'output' key); the\n"
            "                      saved configuration keeps the file's key, so that runs in\n"
            "                      different folders record the same configuration\n"
            "  --set KEY=VALUE     override a config key, e.g. --set vae.epochs=5 or\n"
            "                      --set 'seeds=[1,2,3]'; validated like the file; repeatable\n"
            "  --member K          run only member K (0-based, data-set-major order) on all\n"
            "                      ranks, whatever ranks_per_member says\n"
            "  --help, --version\n"
            "\n"
            "exit status: 0 finished; 1 invalid input or failed write; 3 training diverged (NaN/Inf);\n"
            "75 stopped on SIGTERM/SIGINT/SIGUSR1 after saving, run the same command again to resume.\n");
}

/* Aborts every rank after COL_FATAL has printed its message. */
static void abort_all_ranks(int code)
{
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized && !finalized)
        MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

/* Parses the options after the command; returns 0 or prints the problem and returns -1. */
static int parse_options(int argc, char **argv, int first, col_run_options *o, char **overrides)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "--output") == 0 && has_value)
            o->output = argv[++i];
        else if (strcmp(a, "--set") == 0 && has_value)
            overrides[o->n_overrides++] = argv[++i];
        else if (strncmp(a, "--set=", 6) == 0)
            overrides[o->n_overrides++] = (char *)a + 6;
        else if (strcmp(a, "--member") == 0 && has_value) {
            char *end;
            long k = strtol(argv[++i], &end, 10);
            if (*end || k < 0 || k > 1000000) {
                fprintf(stderr, "collapse: invalid --member '%s'; give a member index from 0\n", argv[i]);
                return -1;
            }
            o->member = (int)k;
        } else if (!o->config_path && a[0] != '-')
            o->config_path = a;
        else {
            fprintf(stderr, "collapse: unexpected argument '%s'%s; see collapse --help\n", a,
                    (strcmp(a, "--output") == 0 || strcmp(a, "--set") == 0 || strcmp(a, "--member") == 0)
                        ? " (missing value)" : "");
            return -1;
        }
    }
    if (!o->config_path) {
        fprintf(stderr, "collapse: missing CONFIG; see collapse --help\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return COL_EXIT_ERROR;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return COL_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("collapse %s\n", COLLAPSE_VERSION);
        return COL_EXIT_OK;
    }
    int is_run = strcmp(argv[1], "run") == 0, is_members = strcmp(argv[1], "members") == 0;
    if (!is_run && !is_members) {
        fprintf(stderr, "collapse: unknown command '%s'; see collapse --help\n", argv[1]);
        return COL_EXIT_ERROR;
    }
    col_run_options options = {.member = -1};
    char **overrides = calloc((size_t)argc, sizeof(char *));
    if (!overrides || parse_options(argc, argv, 2, &options, overrides)) {
        free(overrides);
        return COL_EXIT_ERROR;
    }
    options.overrides = overrides;

    if (is_members) {
        col_config cfg;
        col_error err;
        int rc = col_config_load(options.config_path, overrides, options.n_overrides, &cfg, &err);
        if (rc)
            fprintf(stderr, "collapse: %s\n", err.msg);
        else
            printf("%d\n", cfg.n_members);
        col_config_free(&cfg);
        free(overrides);
        return rc ? COL_EXIT_ERROR : COL_EXIT_OK;
    }

    col_signals_install();
    MPI_Init(&argc, &argv);
    col_set_abort_handler(abort_all_ranks);
    int code = col_run(&options);
    MPI_Finalize();
    free(overrides);
    return code;
}
