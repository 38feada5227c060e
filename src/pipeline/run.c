/*
 * The run: configuration, parallel layout, checks of every input and of the output folder
 * before any training, the start-of-run table, and the schedule of members over groups.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cblas.h>  /* openblas_set_num_threads */
#include <hdf5.h>

#include "collapse/config.h"
#include "collapse/dist.h"
#include "collapse/log.h"
#include "collapse/pipeline.h"
#include "collapse/version.h"
#include "member.h"

/* mkdir -p; returns 0 or -1 with errno set. */
static int make_dirs(const char *path)
{
    char buf[2 * COL_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* Creates the member folder and proves that it takes an HDF5 file. */
static int prepare_output(const char *output, const col_member *m, col_error *err)
{
    char dir[COL_PATH_MAX + 200], path[COL_PATH_MAX + 300];
    snprintf(dir, sizeof dir, "%s/%s", output, m->name);
    if (make_dirs(dir) != 0)
        return col_fail(err, "cannot create output folder %s: %s; choose a writable --output", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/.write-test.h5", dir);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    errno = 0;
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) {
        int saved = errno;
        return col_fail(err, "cannot create an HDF5 file in %s (%s). Check permissions and free space; "
                        "if the file system does not support file locking (some NFS or Lustre mounts), "
                        "set HDF5_USE_FILE_LOCKING=FALSE", dir, saved ? strerror(saved) : "HDF5 error");
    }
    H5Fclose(file);
    unlink(path);
    return 0;
}

/* On world rank 0: loads each distinct data set once and checks the members that use it,
   and prepares every member's output folder. */
static int check_inputs(const col_config *cfg, const char *output, int only_member, col_error *err)
{
    for (int i = 0; i < cfg->n_members; i++) {
        const col_member *m = &cfg->members[i];
        if (only_member >= 0 && i != only_member)
            continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = (only_member < 0 || j == only_member) && strcmp(cfg->members[j].data.name, m->data.name) == 0 &&
                   cfg->members[j].batch_size == m->batch_size;
        if (!seen) {
            col_image_set train, test;
            col_data_info info;
            if (member_load_data(m, &train, &test, &info, err))
                return -1;
            col_log("data set %s: %d training and %d test images of %dx%d, %d classes", m->data.name, train.n,
                    test.n, train.rows, train.cols, info.n_classes);
            col_image_set_free(&train);
            col_image_set_free(&test);
        }
        if (prepare_output(output, m, err))
            return -1;
    }
    return 0;
}

static void log_start_table(const col_config *cfg, const col_dist *dist, const char *output, int only_member)
{
    col_log("collapse %s: config %s, output %s", COLLAPSE_VERSION, cfg->path, output);
    col_log("MPI ranks %d in %d group(s) of %d; BLAS threads per rank %d", dist->world_size, dist->n_groups,
            dist->size, openblas_get_num_threads());
    for (int i = 0; i < cfg->n_members; i++) {
        const col_member *m = &cfg->members[i];
        if (only_member >= 0 && i != only_member)
            continue;
        char vae[64] = "", cls[96] = "";
        for (int k = 0, used = 0; k < m->vae.n_hidden; k++)
            used += snprintf(vae + used, sizeof vae - (size_t)used, "%s%d", k ? "-" : "", m->vae.hidden[k]);
        int used = snprintf(cls, sizeof cls, "%s ", m->classifier.type == COL_CLASSIFIER_CNN ? "cnn" : "mlp");
        for (int k = 0; k < m->classifier.n_conv; k++)
            used += snprintf(cls + used, sizeof cls - (size_t)used, "c%d-", m->classifier.channels[k]);
        for (int k = 0; k < m->classifier.n_hidden; k++)
            used += snprintf(cls + used, sizeof cls - (size_t)used, "%s%d", k ? "-" : "", m->classifier.hidden[k]);
        char samples[32] = "training-set size";
        if (m->samples)
            snprintf(samples, sizeof samples, "%d", m->samples);
        col_log("member %d %s: group %d; generations %d, samples %s, batch %d; VAE %s latent %d, epochs %d, "
                "lr %g%s; classifier %s, epochs %d, lr %g", i, m->name, i % dist->n_groups, m->generations, samples,
                m->batch_size, vae, m->vae.latent, m->vae.epochs, m->vae.learning_rate,
                m->vae.reset ? ", reset each generation" : "", cls, m->classifier.epochs, m->classifier.learning_rate);
    }
}

int col_run(const col_run_options *options)
{
    col_error err = {{0}};
    col_config cfg;
    int world_rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    col_log_enable(world_rank == 0);

    if (col_config_load(options->config_path, options->overrides, options->n_overrides, &cfg, &err)) {
        if (world_rank == 0)
            fprintf(stderr, "collapse: %s\n", err.msg);
        return COL_EXIT_ERROR;
    }
    const char *output = options->output ? options->output : cfg.output;
    if (!output || !output[0]) {
        if (world_rank == 0)
            fprintf(stderr, "collapse: no output folder: pass --output DIR or set output in %s\n", cfg.path);
        col_config_free(&cfg);
        return COL_EXIT_ERROR;
    }
    if (options->member >= cfg.n_members) {
        if (world_rank == 0)
            fprintf(stderr, "collapse: --member %d is out of range: %s has %d members (0 to %d)\n", options->member,
                    cfg.path, cfg.n_members, cfg.n_members - 1);
        col_config_free(&cfg);
        return COL_EXIT_ERROR;
    }
    openblas_set_num_threads(cfg.blas_threads);

    col_dist dist;
    char msg[512];
    /* a single member gets every rank; ranks_per_member only shapes whole ensembles */
    int ranks_per_member = options->member >= 0 ? 0 : cfg.ranks_per_member;
    if (col_dist_init(&dist, ranks_per_member, msg, sizeof msg)) {
        if (world_rank == 0)
            fprintf(stderr, "collapse: %s\n", msg);
        col_config_free(&cfg);
        return COL_EXIT_ERROR;
    }

    /* every input and the output folder are checked before any training */
    int failed = 0;
    if (world_rank == 0) {
        log_start_table(&cfg, &dist, output, options->member);
        failed = check_inputs(&cfg, output, options->member, &err) != 0;
        if (failed)
            fprintf(stderr, "collapse: %s\n", err.msg);
    }
    MPI_Bcast(&failed, 1, MPI_INT, 0, MPI_COMM_WORLD);
    int exit_code = failed ? COL_EXIT_ERROR : COL_EXIT_OK;

    /* groups take members round-robin */
    col_log_enable(dist.rank == 0);
    for (int i = dist.group_index; !failed && i < cfg.n_members; i += dist.n_groups) {
        if (options->member >= 0 && i != options->member)
            continue;
        if (options->member >= 0 && dist.group_index != 0)
            break;
        int code = member_run_all(&cfg, &cfg.members[i], &dist, output, &err);
        if (code != COL_EXIT_OK) {
            if (dist.rank == 0 && code != COL_EXIT_STOPPED)
                fprintf(stderr, "collapse: %s\n", err.msg);
            exit_code = code;
            break;
        }
        if (col_stop_requested()) {
            exit_code = COL_EXIT_STOPPED;
            break;
        }
    }
    col_log_set_member(NULL);

    /* over all groups an error outranks a stop request, and a stop outranks success */
    int severity = 100 + exit_code;
    if (exit_code == COL_EXIT_OK)
        severity = 0;
    else if (exit_code == COL_EXIT_STOPPED)
        severity = 1;
    MPI_Allreduce(MPI_IN_PLACE, &severity, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (severity == 0)
        exit_code = COL_EXIT_OK;
    else if (severity == 1)
        exit_code = COL_EXIT_STOPPED;
    else
        exit_code = severity - 100;
    if (world_rank == 0 && exit_code == COL_EXIT_OK)
        col_log("finished: every member's generations are in %s", output);
    col_dist_finalize(&dist);
    col_config_free(&cfg);
    return exit_code;
}
