/*
 * Data-parallel training epochs. Every rank has the full data set and identical weights.
 * Each global batch is split into contiguous shards, one per rank. The gradient sums and the
 * step's statistics travel in one MPI_Allreduce, and every rank then takes the same Adam step.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collapse/log.h"
#include "collapse/pipeline.h"
#include "internal.h"

/* Copies the rows perm[first .. first + count) of x [n, d] into out [count, d]. */
static void gather_rows(const float *x, int d, const int32_t *perm, int first, int count, float *out)
{
    for (int i = 0; i < count; i++)
        memcpy(out + (size_t)i * d, x + (size_t)perm[first + i] * d, (size_t)d * sizeof(float));
}

/* Sums gradients and extras over the group; returns the reduced extras. */
static float *reduce_step(member_run *r, col_params *p, int nonfinite)
{
    float *extra = p->grad + p->n;
    extra[EXTRA_NONFINITE] = nonfinite ? 1.0f : 0.0f;
    extra[EXTRA_STOP] = col_stop_requested() ? 1.0f : 0.0f;
    col_dist_sum_floats(r->dist, p->grad, p->n + COL_GRAD_EXTRA);
    return extra;
}

static void log_epoch(member_run *r, const char *model, int generation, int epoch, int epochs,
                      double loss, const char *detail, double seconds, double eta_s)
{
    col_log("gen %d %s epoch %d/%d loss %.4f%s %.2f s, generation ETA %.0f s", generation, model,
            epoch + 1, epochs, loss, detail, seconds, eta_s);
}

/* What differs between the VAE and the classifier phase; the epoch loop is shared. */
typedef struct phase {
    const char *name;            /* "VAE" or "classifier", for logs and messages */
    const char *hint;            /* what to try after a NaN or Inf */
    int is_vae;
    int shuffle_purpose, epochs;
    float learning_rate;
    col_params *params;
    /* Computes the gradients of the shard [start, start + count) of the batch of size rows
       that begins at position first of the epoch's permutation, and writes the shard's loss
       and counters into the extras. */
    void (*step)(member_run *r, const int32_t *perm, int generation, int epoch, int first, int start,
                 int count, int size);
} phase;

static void vae_step(member_run *r, const int32_t *perm, int generation, int epoch, int first, int start,
                     int count, int size)
{
    (void)size;
    int latent = r->m->vae.latent;
    gather_rows(r->data_x, r->d, perm, first + start, count, r->batch_x);
    /* noise keyed by the sample's position in the epoch, never by rank */
    for (int i = 0; i < count; i++)
        col_rng_normal(r->key, generation, COL_RNG_REPARAM, (uint32_t)epoch, (uint32_t)(first + start + i),
                       r->batch_eps + (size_t)i * latent, latent);
    double recon, kl;
    double loss = col_vae_train_batch(&r->vae, count, r->batch_x, r->batch_eps, &recon, &kl);
    float *extra = r->vae.params.grad + r->vae.params.n;
    extra[EXTRA_LOSS] = (float)loss;
    extra[EXTRA_RECON] = (float)recon;
    extra[EXTRA_KL] = (float)kl;
}

static void classifier_step(member_run *r, const int32_t *perm, int generation, int epoch, int first,
                            int start, int count, int size)
{
    (void)generation;
    (void)epoch;
    gather_rows(r->data_x, r->d, perm, first + start, count, r->batch_x);
    for (int i = 0; i < count; i++)
        r->batch_y[i] = r->data_y[perm[first + start + i]];
    int correct = 0;
    /* the loss is the mean over the global batch, so each shard scales by 1 / size */
    double loss = col_classifier_train_batch(&r->cls, count, r->batch_x, r->batch_y, 1.0f / (float)size, &correct);
    float *extra = r->cls.params.grad + r->cls.params.n;
    extra[EXTRA_LOSS] = (float)loss;
    extra[EXTRA_CORRECT] = (float)correct;
}

/* Records an epoch's per-sample metrics and logs its line with the generation's ETA. */
static void finish_epoch(member_run *r, const phase *ph, int generation, int epoch, const double *sums,
                         double seconds)
{
    const col_member *m = r->m;
    double n = r->n_data;
    char detail[96];
    double eta;
    if (ph->is_vae) {
        r->metrics.vae_loss[epoch] = sums[EXTRA_LOSS] / n;
        r->metrics.vae_recon[epoch] = sums[EXTRA_RECON] / n;
        r->metrics.vae_kl[epoch] = sums[EXTRA_KL] / n;
        snprintf(detail, sizeof detail, " (recon %.4f, KL %.4f)", sums[EXTRA_RECON] / n, sums[EXTRA_KL] / n);
        r->eta_vae_epoch_s = seconds;
        if (r->eta_cls_epoch_s == 0.0)
            r->eta_cls_epoch_s = seconds; /* no classifier epoch timed yet: assume the same */
        eta = (m->vae.epochs - epoch - 1) * seconds + m->classifier.epochs * r->eta_cls_epoch_s;
    } else {
        r->metrics.classifier_loss[epoch] = sums[EXTRA_LOSS] / n;
        r->metrics.classifier_train_accuracy[epoch] = sums[EXTRA_CORRECT] / n;
        snprintf(detail, sizeof detail, " (train accuracy %.4f)", sums[EXTRA_CORRECT] / n);
        r->eta_cls_epoch_s = seconds;
        eta = (m->classifier.epochs - epoch - 1) * seconds;
    }
    log_epoch(r, ph->name, generation, epoch, ph->epochs, sums[EXTRA_LOSS] / n, detail, seconds, eta);
}

/* The shared epoch loop of both phases (see train_vae in internal.h for the return values). */
static int train_phase(member_run *r, const phase *ph, int generation, int first_epoch, int *epochs_done,
                       col_error *err)
{
    col_params *p = ph->params;
    int n = r->n_data, batch_size = r->m->batch_size, stop = 0;
    int32_t *perm = col_malloc(sizeof(int32_t) * (size_t)n, "epoch permutation");

    for (int epoch = first_epoch; epoch < ph->epochs && !stop; epoch++) {
        double t0 = col_now_s(), sums[EXTRA_CORRECT + 1] = {0};
        col_rng_permutation(r->key, generation, ph->shuffle_purpose, (uint32_t)epoch, n, perm);
        for (int first = 0, b = 0; first < n; first += batch_size, b++) {
            int size = n - first < batch_size ? n - first : batch_size, start, count;
            col_dist_shard(size, r->dist->rank, r->dist->size, &start, &count);
            col_params_zero_grad(p);
            ph->step(r, perm, generation, epoch, first, start, count, size);

            /* the float copies of the statistics can overflow where the double sums did not */
            float *extra = p->grad + p->n;
            int nonfinite = !col_all_finite(extra, EXTRA_CORRECT + 1) || !col_all_finite(p->grad, p->n);
            extra = reduce_step(r, p, nonfinite);
            if (extra[EXTRA_NONFINITE] > 0.0f) {
                free(perm);
                return col_fail(err, "member %s, generation %d, %s epoch %d, batch %d: the loss or "
                                "gradients became NaN or Inf; %s", r->m->name, generation, ph->name, epoch + 1,
                                b + 1, ph->hint);
            }
            stop |= extra[EXTRA_STOP] > 0.0f;
            col_adam_step(p, ph->learning_rate, 0.9f, 0.999f, 1e-8f);
            for (int k = 0; k <= EXTRA_CORRECT; k++)
                sums[k] += extra[k];
        }
        *epochs_done = epoch + 1;
        finish_epoch(r, ph, generation, epoch, sums, col_dist_max(r->dist, col_now_s() - t0));
    }
    free(perm);
    return stop ? 1 : 0;
}

int train_vae(member_run *r, int generation, int first_epoch, int *epochs_done, col_error *err)
{
    phase ph = {.name = "VAE", .hint = "lower vae.learning_rate or check the data", .is_vae = 1,
                .shuffle_purpose = COL_RNG_SHUFFLE_VAE, .epochs = r->m->vae.epochs,
                .learning_rate = (float)r->m->vae.learning_rate, .params = &r->vae.params, .step = vae_step};
    return train_phase(r, &ph, generation, first_epoch, epochs_done, err);
}

int train_classifier(member_run *r, int generation, int first_epoch, int *epochs_done, col_error *err)
{
    phase ph = {.name = "classifier", .hint = "lower classifier.learning_rate", .is_vae = 0,
                .shuffle_purpose = COL_RNG_SHUFFLE_CLASSIFIER, .epochs = r->m->classifier.epochs,
                .learning_rate = (float)r->m->classifier.learning_rate, .params = &r->cls.params,
                .step = classifier_step};
    return train_phase(r, &ph, generation, first_epoch, epochs_done, err);
}

void train_only_setup(member_run *r, const col_member *m, const col_dist *dist, float *x, int32_t *y, int n,
                      int rows, int cols, int n_classes)
{
    memset(r, 0, sizeof *r);
    r->lock_fd = -2;
    r->m = m;
    r->dist = dist;
    r->key = col_rng_make_key((uint64_t)m->seed, m->data.name);
    r->rows = rows;
    r->cols = cols;
    r->d = rows * cols;
    r->n_classes = n_classes;
    r->data_x = x;
    r->data_y = y;
    r->n_data = n;
    r->max_batch = (m->batch_size + dist->size - 1) / dist->size;
    r->batch_x = col_malloc(sizeof(float) * (size_t)r->max_batch * r->d, "batch images");
    r->batch_eps = col_malloc(sizeof(float) * (size_t)r->max_batch * m->vae.latent, "batch noise");
    r->batch_y = col_malloc(sizeof(int32_t) * (size_t)r->max_batch, "batch labels");
    int epochs = m->vae.epochs > m->classifier.epochs ? m->vae.epochs : m->classifier.epochs;
    r->metrics.vae_loss = col_calloc((size_t)epochs + 1, sizeof(double), "losses");
    r->metrics.vae_recon = col_calloc((size_t)epochs + 1, sizeof(double), "losses");
    r->metrics.vae_kl = col_calloc((size_t)epochs + 1, sizeof(double), "losses");
    r->metrics.classifier_loss = col_calloc((size_t)epochs + 1, sizeof(double), "losses");
    r->metrics.classifier_train_accuracy = col_calloc((size_t)epochs + 1, sizeof(double), "accuracies");
    col_vae_create(&r->vae, r->d, m->vae.hidden, m->vae.n_hidden, m->vae.latent, r->max_batch);
    col_params_init_uniform(&r->vae.params, r->key, 0, COL_RNG_INIT_VAE);
    col_classifier_create(&r->cls, m->classifier.type, rows, cols, m->classifier.channels, m->classifier.n_conv,
                          m->classifier.hidden, m->classifier.n_hidden, n_classes, r->max_batch);
    col_params_init_uniform(&r->cls.params, r->key, 0, COL_RNG_INIT_CLASSIFIER);
}

void train_only_teardown(member_run *r)
{
    col_vae_destroy(&r->vae);
    col_classifier_destroy(&r->cls);
    free(r->batch_x);
    free(r->batch_eps);
    free(r->batch_y);
    free(r->metrics.vae_loss);
    free(r->metrics.vae_recon);
    free(r->metrics.vae_kl);
    free(r->metrics.classifier_loss);
    free(r->metrics.classifier_train_accuracy);
}
