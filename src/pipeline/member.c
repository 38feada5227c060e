/*
 * One ensemble member from start (or resume) to its last generation: data, models, the
 * generation loop, checkpoints and in-progress state.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h> /* SHA-256 fingerprint of the data */

#include "collapse/image.h"
#include "collapse/log.h"
#include "collapse/pipeline.h"
#include "collapse/version.h"
#include "internal.h"
#include "member.h"

/* ---------------------------------------------------------------- settings and fingerprint */

void member_settings_text(const col_member *m, char *buf, size_t size)
{
    /* Everything that shapes the member's results except file names and the generation
       count: a run may be extended with more generations, and data files are compared by
       content through the fingerprint. */
    size_t used = 0;
#define EMIT(...) used += (size_t)snprintf(buf + used, used < size ? size - used : 0, __VA_ARGS__)
    EMIT("dataset = %s\nkind = %s\nsplit = %s\nseed = %lld\n", m->data.name, m->data.kind, m->data.split,
         (long long)m->seed);
    EMIT("n_classes = %d\nbalance_per_class = %d\nholdout = %d\nmax_train = %d\n", m->data.n_classes,
         m->data.balance_per_class, m->data.holdout, m->data.max_train);
    EMIT("mean = %.17g\nstd = %.17g\nsamples = %d\nbatch_size = %d\n", m->data_mean, m->data_std, m->samples,
         m->batch_size);
    EMIT("vae.hidden =");
    for (int i = 0; i < m->vae.n_hidden; i++)
        EMIT(" %d", m->vae.hidden[i]);
    EMIT("\nvae.latent = %d\nvae.epochs = %d\nvae.learning_rate = %.17g\nvae.reset = %d\n", m->vae.latent,
         m->vae.epochs, m->vae.learning_rate, m->vae.reset);
    EMIT("classifier.type = %s\nclassifier.channels =", m->classifier.type == COL_CLASSIFIER_CNN ? "cnn" : "mlp");
    for (int i = 0; i < m->classifier.n_conv; i++)
        EMIT(" %d", m->classifier.channels[i]);
    EMIT("\nclassifier.hidden =");
    for (int i = 0; i < m->classifier.n_hidden; i++)
        EMIT(" %d", m->classifier.hidden[i]);
    EMIT("\nclassifier.epochs = %d\nclassifier.learning_rate = %.17g\n", m->classifier.epochs,
         m->classifier.learning_rate);
#undef EMIT
}

/* Lists the lines of a that differ from b, for an error message. */
static void describe_difference(const char *recorded, const char *current, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    const char *line = current;
    while (*line && used < size) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *eq = memchr(line, '=', len);
        size_t key_len = eq ? (size_t)(eq - line) : len;
        /* find the same key in the recorded text */
        const char *match = NULL;
        for (const char *r = recorded; r && *r; r = strchr(r, '\n') ? strchr(r, '\n') + 1 : NULL)
            if (strncmp(r, line, key_len) == 0) {
                match = r;
                break;
            }
        size_t match_len = match ? (strchr(match, '\n') ? (size_t)(strchr(match, '\n') - match) : strlen(match)) : 0;
        if (!match || match_len != len || strncmp(match, line, len) != 0)
            used += (size_t)snprintf(out + used, size - used, "%s%.*s (recorded: %.*s)", used ? "; " : "",
                                     (int)len, line, (int)match_len, match ? match : "");
        line = end ? end + 1 : line + len;
    }
}

static void fingerprint(const member_run *r, const col_image_set *train, const col_image_set *test, char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    const col_image_set *sets[2] = {train, test};
    for (int s = 0; s < 2; s++) {
        EVP_DigestUpdate(ctx, sets[s]->pixels, (size_t)sets[s]->n * sets[s]->rows * sets[s]->cols);
        EVP_DigestUpdate(ctx, sets[s]->labels, sizeof(int32_t) * (size_t)sets[s]->n);
    }
    char norm[64];
    snprintf(norm, sizeof norm, "%.9g/%.9g", r->mean, r->std);
    EVP_DigestUpdate(ctx, norm, strlen(norm));
    EVP_DigestFinal_ex(ctx, digest, &len);
    EVP_MD_CTX_free(ctx);
    strcpy(out, "sha256:");
    for (unsigned int i = 0; i < len; i++)
        sprintf(out + 7 + 2 * i, "%02x", digest[i]);
}

/* ---------------------------------------------------------------- setup */

static void alloc_metrics(col_metrics *mt, const col_member *m)
{
    memset(mt, 0, sizeof *mt);
    mt->vae_epochs = m->vae.epochs;
    mt->classifier_epochs = m->classifier.epochs;
    mt->vae_loss = col_calloc((size_t)m->vae.epochs + 1, sizeof(double), "VAE losses");
    mt->vae_recon = col_calloc((size_t)m->vae.epochs + 1, sizeof(double), "VAE losses");
    mt->vae_kl = col_calloc((size_t)m->vae.epochs + 1, sizeof(double), "VAE losses");
    mt->classifier_loss = col_calloc((size_t)m->classifier.epochs, sizeof(double), "classifier losses");
    mt->classifier_train_accuracy = col_calloc((size_t)m->classifier.epochs, sizeof(double), "classifier accuracies");
    mt->eval_loss = col_calloc((size_t)m->generations, sizeof(double), "evaluation losses");
    mt->eval_accuracy = col_calloc((size_t)m->generations, sizeof(double), "evaluation accuracies");
}

static void free_metrics(col_metrics *mt)
{
    free(mt->vae_loss);
    free(mt->vae_recon);
    free(mt->vae_kl);
    free(mt->classifier_loss);
    free(mt->classifier_train_accuracy);
    free(mt->eval_loss);
    free(mt->eval_accuracy);
}

int member_load_data(const col_member *m, col_image_set *train, col_image_set *test, col_data_info *info,
                     col_error *err)
{
    col_error data_err;
    if (col_data_load(&m->data, train, test, info, &data_err))
        return col_fail(err, "member %s: %s", m->name, data_err.msg);
    if (m->batch_size > train->n)
        return col_fail(err, "member %s: batch_size %d is larger than the %d training images; lower "
                        "batch_size", m->name, m->batch_size, train->n);
    if (test->n < 1)
        return col_fail(err, "member %s: the test set is empty", m->name);
    return 0;
}

static int setup(member_run *r, col_error *err)
{
    const col_member *m = r->m;
    col_image_set train, test;
    if (member_load_data(m, &train, &test, &r->info, err))
        return -1;

    double mean, std;
    col_pixel_stats(&train, &mean, &std);
    r->mean = isnan(m->data_mean) ? mean : m->data_mean;
    r->std = isnan(m->data_std) ? std : m->data_std;
    r->rows = train.rows;
    r->cols = train.cols;
    r->d = train.rows * train.cols;
    r->n_classes = r->info.n_classes;
    r->n_train = train.n;
    r->n_test = test.n;
    r->n_samples = m->samples > 0 ? m->samples : train.n;
    fingerprint(r, &train, &test, r->fingerprint);

    r->train_x = col_malloc(sizeof(float) * (size_t)train.n * r->d, "training images");
    r->test_x = col_malloc(sizeof(float) * (size_t)test.n * r->d, "test images");
    col_normalize(&train, (float)r->mean, (float)r->std, r->train_x);
    col_normalize(&test, (float)r->mean, (float)r->std, r->test_x);
    r->train_y = train.labels;
    r->test_y = test.labels;
    train.labels = test.labels = NULL;
    col_image_set_free(&train);
    col_image_set_free(&test);

    /* the generated sets alternate between two buffers */
    r->next_x = col_malloc(sizeof(float) * (size_t)r->n_samples * r->d, "generated images");
    r->next_y = col_malloc(sizeof(int32_t) * (size_t)r->n_samples, "generated labels");
    r->data_x = r->train_x;
    r->data_y = r->train_y;
    r->n_data = r->n_train;

    /* models: training shards hold ceil(batch / ranks) rows; evaluation uses chunks of 256+ */
    int shard = (m->batch_size + r->dist->size - 1) / r->dist->size;
    r->max_batch = shard > 256 ? shard : 256;
    col_vae_create(&r->vae, r->d, m->vae.hidden, m->vae.n_hidden, m->vae.latent, r->max_batch);
    col_vae_create(&r->vae0, r->d, m->vae.hidden, m->vae.n_hidden, m->vae.latent, r->max_batch);
    col_classifier_create(&r->cls, m->classifier.type, r->rows, r->cols, m->classifier.channels,
                          m->classifier.n_conv, m->classifier.hidden, m->classifier.n_hidden, r->n_classes,
                          r->max_batch);
    col_classifier_create(&r->eval_cls, m->classifier.type, r->rows, r->cols, m->classifier.channels,
                          m->classifier.n_conv, m->classifier.hidden, m->classifier.n_hidden, r->n_classes,
                          r->max_batch);
    r->history = col_calloc((size_t)m->generations, sizeof(float *), "classifier history");
    r->batch_x = col_malloc(sizeof(float) * (size_t)r->max_batch * r->d, "batch images");
    r->batch_eps = col_malloc(sizeof(float) * (size_t)r->max_batch * m->vae.latent, "batch noise");
    r->batch_y = col_malloc(sizeof(int32_t) * (size_t)r->max_batch, "batch labels");
    alloc_metrics(&r->metrics, m);
    r->key = col_rng_make_key((uint64_t)m->seed, m->data.name);
    return 0;
}

static void teardown(member_run *r)
{
    if (r->lock_fd >= 0)
        close(r->lock_fd); /* releases the flock */
    if (r->data_x != r->train_x)
        free(r->data_x);
    if (r->data_y != r->train_y)
        free(r->data_y);
    free(r->train_x);
    free(r->test_x);
    free(r->train_y);
    free(r->test_y);
    free(r->next_x);
    free(r->next_y);
    col_vae_destroy(&r->vae);
    col_vae_destroy(&r->vae0);
    col_classifier_destroy(&r->cls);
    col_classifier_destroy(&r->eval_cls);
    for (int g = 0; r->history && g < r->m->generations; g++)
        free(r->history[g]);
    free(r->history);
    free(r->batch_x);
    free(r->batch_eps);
    free(r->batch_y);
    free(r->test_feature_mean);
    free(r->test_feature_cov);
    free_metrics(&r->metrics);
}

/* ---------------------------------------------------------------- resume */

static void checkpoint_path(const member_run *r, int generation, char *out, size_t size)
{
    snprintf(out, size, "%.*s/gen-%03d.h5", (int)sizeof r->dir, r->dir, generation);
}

/* Renames an untrusted file to <path>.invalid (or .invalid.N) and logs the reason. */
static void set_aside(const char *path, const char *reason)
{
    char target[2 * COL_PATH_MAX + 32];
    snprintf(target, sizeof target, "%s.invalid", path);
    for (int i = 1; access(target, F_OK) == 0 && i < 1000; i++)
        snprintf(target, sizeof target, "%s.invalid.%d", path, i);
    if (rename(path, target) == 0)
        col_log("set aside %s as %s: %s", path, target, reason);
    else
        col_log("cannot set aside %s (%s): %s", path, strerror(errno), reason);
}

/*
 * On the group's first rank: finds the last generation g such that gen-000 .. gen-g are all
 * valid checkpoints of this member. Files from the first invalid one on are set aside.
 * Returns g (-1 if none), or -2 with a message if a valid checkpoint belongs to other
 * settings or data.
 */
static int scan_checkpoints(member_run *r, const char *settings, col_error *err)
{
    char path[2 * COL_PATH_MAX];
    int last = -1, broken = 0;
    for (int g = 0; g < 100000; g++) {
        checkpoint_path(r, g, path, sizeof path);
        if (access(path, F_OK) != 0)
            break;
        if (broken) {
            set_aside(path, "an earlier generation is invalid");
            continue;
        }
        col_checkpoint_info info;
        col_error check;
        if (col_checkpoint_validate(path, &info, &check)) {
            set_aside(path, check.msg);
            broken = 1;
            continue;
        }
        int rc = 0;
        if (info.generation != g)
            rc = col_fail(err, "%s records generation %d; was it copied or renamed?", path, info.generation);
        else if (strcmp(info.settings, settings) != 0) {
            char diff[1500];
            describe_difference(info.settings, settings, diff, sizeof diff);
            rc = col_fail(err, "%s was written with other settings, so the run cannot resume there: %s. "
                          "Use another output folder or restore the original settings", path, diff);
        } else if (strcmp(info.fingerprint, r->fingerprint) != 0)
            rc = col_fail(err, "%s was written for different data (fingerprint %s, now %s): the data "
                          "files changed. Use another output folder or restore the original files",
                          path, info.fingerprint, r->fingerprint);
        col_checkpoint_info_free(&info);
        if (rc)
            return -2;
        last = g;
    }

    /* checkpoints after a gap would be overwritten by the recomputed generations */
    DIR *dir = opendir(r->dir);
    struct dirent *entry;
    while (dir && (entry = readdir(dir))) {
        int g, end = 0;
        if (sscanf(entry->d_name, "gen-%d.h5%n", &g, &end) == 1 && end > 0 && entry->d_name[end] == '\0' &&
            g > last) {
            snprintf(path, sizeof path, "%.*s/%s", (int)sizeof r->dir, r->dir, entry->d_name);
            set_aside(path, "an earlier generation is missing or invalid");
        }
    }
    if (dir)
        closedir(dir);
    return last;
}

/* Every rank reads the state after generation last; returns 0 or -1 with a message. */
static int load_resume_state(member_run *r, int last, col_error *err)
{
    char path[2 * COL_PATH_MAX];
    int max_loaded = last < r->m->generations - 1 ? last : r->m->generations - 1;
    for (int g = 0; g <= max_loaded; g++) {
        checkpoint_path(r, g, path, sizeof path);
        if (col_checkpoint_read_params(path, "classifier", &r->eval_cls.params, 0, err))
            return -1;
        r->history[g] = col_malloc(sizeof(float) * r->eval_cls.params.n, "classifier history");
        memcpy(r->history[g], r->eval_cls.params.value, sizeof(float) * r->eval_cls.params.n);
    }
    checkpoint_path(r, 0, path, sizeof path);
    if (col_checkpoint_read_params(path, "vae", &r->vae0.params, 0, err))
        return -1;
    r->have_vae0 = 1;
    checkpoint_path(r, last, path, sizeof path);
    if (col_checkpoint_read_params(path, "vae", &r->vae.params, 1, err))
        return -1;
    /* D_{last+1} becomes the current data */
    float *x = col_malloc(sizeof(float) * (size_t)r->n_samples * r->d, "generated images");
    int32_t *y = col_malloc(sizeof(int32_t) * (size_t)r->n_samples, "generated labels");
    if (col_checkpoint_read_generated(path, x, y, r->n_samples, r->d, err)) {
        free(x);
        free(y);
        return -1;
    }
    r->data_x = x;
    r->data_y = y;
    r->n_data = r->n_samples;
    free(r->train_x); /* only generation 0 trains on the real training set */
    free(r->train_y);
    r->train_x = NULL;
    r->train_y = NULL;
    return 0;
}

/* ---------------------------------------------------------------- writing */

static int write_checkpoint(member_run *r, int generation, const char *settings, col_error *err)
{
    char path[2 * COL_PATH_MAX];
    checkpoint_path(r, generation, path, sizeof path);
    const char(*names)[32] = (const char(*)[32])r->info.class_names;
    col_checkpoint c = {
        .member = r->m->name, .dataset = r->m->data.name, .config_text = r->cfg->text,
        .data_fingerprint = r->fingerprint, .settings = settings, .seed = r->m->seed,
        .generation = generation, .n_ranks = r->dist->size, .n_classes = r->n_classes,
        .rng_key = {r->key.k[0], r->key.k[1]}, .data_mean = r->mean, .data_std = r->std,
        .class_names = names, .vae = &r->vae.params, .classifier = &r->cls.params,
        .n_generated = r->n_samples, .rows = r->rows, .cols = r->cols, .images = r->next_x,
        .labels = r->next_y, .metrics = &r->metrics,
    };
    if (col_checkpoint_write(path, &c, err))
        return -1;
    if (r->m->sample_grid > 0) {
        int n = r->m->sample_grid < r->n_samples ? r->m->sample_grid : r->n_samples;
        int grid_cols = (int)ceil(sqrt((double)n));
        snprintf(path, sizeof path, "%s/samples-%03d.png", r->dir, generation);
        if (col_png_grid(path, r->next_x, n, r->rows, r->cols, grid_cols, (float)r->mean, (float)r->std, err))
            return -1;
    }
    return 0;
}

/* Replaces config.cfg, the effective configuration, once the run is known to proceed. */
static int write_config_copy(const member_run *r, col_error *err)
{
    char path[2 * COL_PATH_MAX], tmp[2 * COL_PATH_MAX + 8];
    snprintf(path, sizeof path, "%.*s/config.cfg", (int)sizeof r->dir, r->dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fputs(r->cfg->text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return col_fail(err, "cannot write %s: %s", path, strerror(saved));
    }
    return 0;
}

/* Saves the in-progress state on the first rank; every rank learns whether it worked. */
static int save_progress(member_run *r, int generation, int phase, int epochs_done, const char *settings,
                         col_error *err)
{
    char path[2 * COL_PATH_MAX];
    int failed = 0;
    if (r->dist->rank == 0) {
        snprintf(path, sizeof path, "%s/progress.h5", r->dir);
        col_progress p = {.generation = generation, .phase = phase, .epochs_done = epochs_done,
                          .settings = settings, .data_fingerprint = r->fingerprint, .vae = &r->vae.params,
                          .classifier = phase == 1 ? &r->cls.params : NULL, .metrics = &r->metrics};
        failed = col_progress_write(path, &p, err) != 0;
        if (!failed)
            col_log("stop requested: saved generation %d, %s epoch %d to %s", generation,
                    phase == 0 ? "VAE" : "classifier", epochs_done, path);
    }
    if (col_dist_any(r->dist, failed))
        return r->dist->rank == 0 ? -1 : col_fail(err, "saving the in-progress state failed on the first rank");
    return 0;
}

/* ---------------------------------------------------------------- the generation loop */

/* Takes an exclusive flock on OUT/<member>/.lock so that two runs never write one member; the
   kernel releases it when the process ends, so a crash leaves no stale lock. Returns the
   descriptor, -1 with a message if another run holds it, or -2 if the file system has no
   locks (then the run goes on with a warning). */
static int lock_member(const member_run *r, col_error *err)
{
    char path[2 * COL_PATH_MAX];
    snprintf(path, sizeof path, "%.*s/.lock", (int)sizeof r->dir, r->dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0)
        return col_fail(err, "cannot create %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return fd;
    int saved = errno;
    close(fd);
    if (saved == EWOULDBLOCK)
        return col_fail(err, "another run is writing to %s (it holds %s); wait for it to finish or use "
                        "another --output", r->dir, path);
    col_log("warning: cannot lock %s (%s); make sure no other run writes to this folder", path, strerror(saved));
    return -2;
}

/* Agrees over the group whether an error happened; the first rank's message wins. */
static int group_failed(const member_run *r, int failed, col_error *err)
{
    if (!col_dist_any(r->dist, failed))
        return 0;
    if (!failed)
        col_fail(err, "member %s: another rank of the group failed (see its message)", r->m->name);
    return 1;
}

int member_run_all(const col_config *cfg, const col_member *m, const col_dist *dist, const char *output,
                   col_error *err)
{
    member_run run, *r = &run;
    memset(r, 0, sizeof *r);
    r->lock_fd = -2;
    r->cfg = cfg;
    r->m = m;
    r->dist = dist;
    snprintf(r->dir, sizeof r->dir, "%s/%s", output, m->name);
    col_log_set_member(m->name);

    if (group_failed(r, setup(r, err) != 0, err)) {
        teardown(r);
        return COL_EXIT_ERROR;
    }
    char settings[4096];
    member_settings_text(m, settings, sizeof settings);

    /* resume: the first rank locks the folder and decides, every rank loads */
    int last = -1;
    int scan_failed = 0;
    if (dist->rank == 0)
        r->lock_fd = lock_member(r, err);
    if (dist->rank == 0 && r->lock_fd == -1) {
        scan_failed = 1;
    } else if (dist->rank == 0) {
        last = scan_checkpoints(r, settings, err);
        scan_failed = last == -2 || (last != -2 && write_config_copy(r, err) != 0);
    }
    if (group_failed(r, scan_failed, err)) {
        teardown(r);
        return COL_EXIT_ERROR;
    }
    col_dist_bcast(dist, &last, sizeof last);
    if (last >= m->generations - 1) {
        col_log("all %d generations are complete in %s; nothing to do", m->generations, r->dir);
        teardown(r);
        return COL_EXIT_OK;
    }
    if (last >= 0) {
        if (group_failed(r, load_resume_state(r, last, err) != 0, err)) {
            teardown(r);
            return COL_EXIT_ERROR;
        }
        col_log("resuming after generation %d from %s", last, r->dir);
    }

    /* an interrupted generation continues from its in-progress state */
    int phase = 0, epochs_done = 0, have_progress = 0;
    char progress_path[2 * COL_PATH_MAX];
    snprintf(progress_path, sizeof progress_path, "%.*s/progress.h5", (int)sizeof r->dir, r->dir);
    if (dist->rank == 0)
        have_progress = access(progress_path, F_OK) == 0;
    col_dist_bcast(dist, &have_progress, sizeof have_progress);
    if (have_progress) {
        col_progress p = {.settings = settings, .data_fingerprint = r->fingerprint, .vae = &r->vae.params,
                          .classifier = &r->cls.params, .metrics = &r->metrics};
        col_error perr = {{0}};
        int bad = col_progress_read(progress_path, &p, &perr) != 0 || p.generation != last + 1;
        if (col_dist_any(dist, bad)) {
            if (dist->rank == 0)
                set_aside(progress_path, bad ? (p.generation != last + 1 && !perr.msg[0] ? "wrong generation" : perr.msg)
                                             : "unreadable on another rank");
            /* start the generation afresh from the last checkpoint's VAE */
            if (last >= 0) {
                char path[2 * COL_PATH_MAX];
                checkpoint_path(r, last, path, sizeof path);
                if (group_failed(r, col_checkpoint_read_params(path, "vae", &r->vae.params, 1, err) != 0, err)) {
                    teardown(r);
                    return COL_EXIT_ERROR;
                }
            }
        } else {
            phase = p.phase;
            epochs_done = p.epochs_done;
            if (phase == 0 && epochs_done >= m->vae.epochs)
                col_log("continuing generation %d at classifier epoch 1", last + 1);
            else
                col_log("continuing generation %d at %s epoch %d", last + 1, phase == 0 ? "VAE" : "classifier",
                        epochs_done + 1);
        }
    }

    int exit_code = COL_EXIT_OK;
    for (int g = last + 1; g < m->generations; g++) {
        double t0 = col_now_s();
        int rc, done = 0;

        /* 1. the VAE: carried over unless reset; generation 0 starts fresh */
        if (phase == 0) {
            if (epochs_done == 0 && (g == 0 || m->vae.reset))
                col_params_init_uniform(&r->vae.params, r->key, g, COL_RNG_INIT_VAE);
            rc = train_vae(r, g, epochs_done, &done, err);
            if (rc < 0) {
                exit_code = COL_EXIT_DIVERGED;
                break;
            }
            if (rc == 1) {
                exit_code = save_progress(r, g, 0, done, settings, err) ? COL_EXIT_ERROR : COL_EXIT_STOPPED;
                break;
            }
            epochs_done = 0;
        }

        /* 2. a fresh classifier */
        if (phase == 0 || epochs_done == 0)
            col_params_init_uniform(&r->cls.params, r->key, g, COL_RNG_INIT_CLASSIFIER);
        rc = train_classifier(r, g, epochs_done, &done, err);
        if (rc < 0) {
            exit_code = COL_EXIT_DIVERGED;
            break;
        }
        if (rc == 1) {
            exit_code = save_progress(r, g, 1, done, settings, err) ? COL_EXIT_ERROR : COL_EXIT_STOPPED;
            break;
        }
        phase = 0;
        epochs_done = 0;
        r->history[g] = col_malloc(sizeof(float) * r->cls.params.n, "classifier history");
        memcpy(r->history[g], r->cls.params.value, sizeof(float) * r->cls.params.n);
        if (g == 0) {
            memcpy(r->vae0.params.value, r->vae.params.value, sizeof(float) * r->vae.params.n);
            r->have_vae0 = 1;
        }

        /* replicas must agree bit for bit; anything else is a bug worth stopping for */
        if (!col_dist_same_on_all(dist, r->vae.params.value, sizeof(float) * r->vae.params.n) ||
            !col_dist_same_on_all(dist, r->cls.params.value, sizeof(float) * r->cls.params.n)) {
            col_fail(err, "member %s, generation %d: the ranks of the group hold different weights after "
                     "training; this is a bug, please report it with the configuration", m->name, g);
            exit_code = COL_EXIT_ERROR;
            break;
        }

        /* 3-5. sample, label, evaluate */
        sample_next(r, g);
        evaluate_generation(r, g);
        r->metrics.seconds = col_dist_max(dist, col_now_s() - t0);

        /* 6. checkpoint, written by the first rank */
        int failed = 0;
        double write_t0 = col_now_s();
        if (dist->rank == 0) {
            failed = write_checkpoint(r, g, settings, err) != 0;
            if (!failed)
                unlink(progress_path);
        }
        if (group_failed(r, failed, err)) {
            exit_code = COL_EXIT_ERROR;
            break;
        }
        const col_metrics *mt = &r->metrics;
        int top = 0;
        for (int c = 1; c < r->n_classes; c++)
            if (mt->judge_histogram[c] > mt->judge_histogram[top])
                top = c;
        double write_s = col_now_s() - write_t0;
        char judge_accuracy[64] = "";
        if (g > 0)
            snprintf(judge_accuracy, sizeof judge_accuracy, ", gen-0 classifier on new data %.4f", mt->eval_accuracy[0]);
        col_log("gen %d done in %.1f s + %.1f s writing: test accuracy %.4f%s, "
                "judge entropy %.3f (top class %s %.1f%%), pixel mean %.3f, latent spread %.3f, Frechet %.2f",
                g, mt->seconds, write_s, mt->test_accuracy, judge_accuracy, mt->judge_entropy,
                r->info.class_names[top], 100.0 * (double)mt->judge_histogram[top] / r->n_samples,
                mt->pixel_mean, mt->latent_spread, mt->frechet_distance);

        /* D_{g+1} becomes the current data */
        float *old_x = r->data_x;
        int32_t *old_y = r->data_y;
        r->data_x = r->next_x;
        r->data_y = r->next_y;
        r->n_data = r->n_samples;
        if (old_x == r->train_x) {
            /* the real training set is not used after generation 0: its memory goes to D_{g+2} */
            free(r->train_x);
            free(r->train_y);
            r->train_x = NULL;
            r->train_y = NULL;
            r->next_x = col_malloc(sizeof(float) * (size_t)r->n_samples * r->d, "generated images");
            r->next_y = col_malloc(sizeof(int32_t) * (size_t)r->n_samples, "generated labels");
        } else {
            r->next_x = old_x;
            r->next_y = old_y;
        }

        if (g + 1 < m->generations && col_dist_any(dist, col_stop_requested())) {
            col_log("stop requested: generation %d is saved; run again to continue", g);
            exit_code = COL_EXIT_STOPPED;
            break;
        }
    }
    teardown(r);
    return exit_code;
}
