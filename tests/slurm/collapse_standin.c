/*
 * A stand-in for the collapse program in the Slurm tests. It takes the same command line
 * and exits with the same statuses: 0 finished, 75 stopped by a signal and resumable,
 * anything else an error. It does no training, so the tests of the batch scripts' launcher
 * choice, world size check, signal forwarding and requeue logic take seconds.
 *
 *   collapse_standin members CONFIG
 *   collapse_standin run CONFIG --output DIR [--member K] [--set KEY=VALUE ...]
 *
 * CONFIG contains KEY=VALUE lines; --set overrides them. Keys:
 *   members=N       member count printed by `members` (default 1)
 *   wait_runs=N     runs of a member that wait for a signal before a run finishes (default 0)
 *   wait_member=K   only member K waits; the others finish at once (default -1: all wait)
 *   wait_s=S        longest wait for a signal, in seconds; exit 3 after it (default 300)
 *   world_size=N    world size to report in place of MPI_Comm_size (tests the size check)
 *   exit_status=N   exit with N at once (tests error handling; default -1: off)
 *
 * Rank 0 appends one line per run to DIR/runs.log:
 *   member=K run=R world_size=N signal=S status=X
 * where R counts this member's runs from 1 and S is the signal that stopped the run (0 if none).
 */
#define _POSIX_C_SOURCE 200809L /* sigaction, clock_gettime, nanosleep */

#include <errno.h>
#include <mpi.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { EXIT_STOPPED = 75, EXIT_TIMED_OUT = 3, EXIT_USAGE = 64 };

typedef struct {
    long members;
    long wait_runs;
    long wait_member;
    long wait_s;
    long world_size;
    long exit_status;
} standin_config;

static volatile sig_atomic_t received_signal;

static void on_signal(int sig) { received_signal = sig; }

static void fail(const char *message, const char *detail)
{
    fprintf(stderr, "collapse_standin: error: %s%s%s\n", message, detail ? ": " : "", detail ? detail : "");
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized)
        MPI_Abort(MPI_COMM_WORLD, EXIT_USAGE);
    exit(EXIT_USAGE);
}

/* Applies one KEY=VALUE setting; unknown keys are errors, as in the real program. */
static void config_set(standin_config *config, const char *setting)
{
    const char *equals = strchr(setting, '=');
    if (!equals)
        fail("setting without '='", setting);
    size_t key_length = (size_t)(equals - setting);
    char *end = NULL;
    errno = 0;
    long value = strtol(equals + 1, &end, 10);
    if (errno != 0 || end == equals + 1 || (*end != '\0' && *end != '\n'))
        fail("setting value is not an integer", setting);

    static const struct {
        const char *key;
        size_t offset;
    } keys[] = {
        {"members", offsetof(standin_config, members)},
        {"wait_runs", offsetof(standin_config, wait_runs)},
        {"wait_member", offsetof(standin_config, wait_member)},
        {"wait_s", offsetof(standin_config, wait_s)},
        {"world_size", offsetof(standin_config, world_size)},
        {"exit_status", offsetof(standin_config, exit_status)},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strlen(keys[i].key) == key_length && strncmp(keys[i].key, setting, key_length) == 0) {
            *(long *)((char *)config + keys[i].offset) = value;
            return;
        }
    }
    fail("unknown setting", setting);
}

static void config_read(standin_config *config, const char *path)
{
    *config = (standin_config){.members = 1, .wait_member = -1, .wait_s = 300, .exit_status = -1};
    FILE *file = fopen(path, "r");
    if (!file)
        fail("failed to open config file", path);
    char line[256];
    while (fgets(line, sizeof line, file)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        config_set(config, line);
    }
    fclose(file);
}

/* Counts the lines of DIR/runs.log that belong to member `member`. */
static long count_runs(const char *log_path, long member)
{
    FILE *file = fopen(log_path, "r");
    if (!file)
        return 0;
    long runs = 0, logged_member = 0;
    char line[256];
    while (fgets(line, sizeof line, file)) {
        if (sscanf(line, "member=%ld", &logged_member) == 1 && logged_member == member)
            runs++;
    }
    fclose(file);
    return runs;
}

static int run(int argc, char **argv)
{
    if (argc < 3)
        fail("usage: collapse_standin run CONFIG --output DIR [--member K] [--set KEY=VALUE ...]", NULL);
    standin_config config;
    config_read(&config, argv[2]);
    const char *output = NULL;
    long member = 0;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--output") == 0 && i + 1 < argc)
            output = argv[++i];
        else if (strcmp(argv[i], "--member") == 0 && i + 1 < argc)
            member = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc)
            config_set(&config, argv[++i]);
        else
            fail("unknown argument", argv[i]);
    }
    if (!output)
        fail("missing --output DIR", NULL);
    if (member < 0 || member >= config.members)
        fail("--member out of range", NULL);

    /* Handlers first, so that a signal arriving during MPI_Init is not fatal. */
    struct sigaction action = {0};
    action.sa_handler = on_signal;
    sigaction(SIGUSR1, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);

    MPI_Init(&argc, &argv);
    int rank = 0, size = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long reported_size = config.world_size > 0 ? config.world_size : size;

    char log_path[4096];
    snprintf(log_path, sizeof log_path, "%s/runs.log", output);
    long run_index = 0;
    if (rank == 0) {
        if (mkdir(output, 0777) != 0 && errno != EEXIST)
            fail("failed to create output folder", output);
        run_index = count_runs(log_path, member) + 1;
        fprintf(stderr, "collapse_standin: member %ld run %ld: world size %ld\n", member, run_index, reported_size);
    }
    MPI_Bcast(&run_index, 1, MPI_LONG, 0, MPI_COMM_WORLD);

    int status = 0;
    int stop_signal = 0;
    int waits = (config.wait_member < 0 || config.wait_member == member) && run_index <= config.wait_runs;
    if (config.exit_status >= 0) {
        status = (int)config.exit_status;
    } else if (waits) {
        /* Poll every 100 ms; any rank's signal stops all ranks, as in the real program. */
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
            struct timespec pause = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
            nanosleep(&pause, NULL);
            int local = received_signal;
            MPI_Allreduce(&local, &stop_signal, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
            if (stop_signal != 0) {
                status = EXIT_STOPPED;
                break;
            }
            clock_gettime(CLOCK_MONOTONIC, &now);
            int elapsed_s = (int)(now.tv_sec - start.tv_sec);
            MPI_Bcast(&elapsed_s, 1, MPI_INT, 0, MPI_COMM_WORLD);
            if (elapsed_s >= config.wait_s) {
                status = EXIT_TIMED_OUT;
                break;
            }
        }
    }

    if (rank == 0) {
        FILE *log = fopen(log_path, "a");
        if (!log)
            fail("failed to append to", log_path);
        fprintf(log, "member=%ld run=%ld world_size=%ld signal=%d status=%d\n", member, run_index, reported_size,
                stop_signal, status);
        fclose(log);
        fprintf(stderr, "collapse_standin: member %ld run %ld: exit status %d (signal %d)\n", member, run_index,
                status, stop_signal);
    }
    MPI_Finalize();
    return status;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "members") == 0) {
        standin_config config;
        config_read(&config, argv[2]);
        printf("%ld\n", config.members);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return run(argc, argv);
    fail("usage: collapse_standin members CONFIG | run CONFIG --output DIR [--member K] [--set KEY=VALUE ...]",
         NULL);
}
