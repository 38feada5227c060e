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

int train_vae(member_run *r, int generation, int first_epoch, int *epochs_done, col_error *err)
{
    const col_member *m = r->m;
    col_vae *vae = &r->vae;
    col_params *p = &vae->params;
    int n = r->n_data, batch_size = m->batch_size, latent = m->vae.latent;
    int32_t *perm = col_malloc(sizeof(int32_t) * (size_t)n, "epoch permutation");
    int stop = 0;

    for (int epoch = first_epoch; epoch < m->vae.epochs && !stop; epoch++) {
        double t0 = col_now_s(), loss = 0.0, recon = 0.0, kl = 0.0;
        col_rng_permutation(r->key, generation, COL_RNG_SHUFFLE_VAE, (uint32_t)epoch, n, perm);
        for (int first = 0, b = 0; first < n; first += batch_size, b++) {
            int size = n - first < batch_size ? n - first : batch_size, start, count;
            col_dist_shard(size, r->dist->rank, r->dist->size, &start, &count);
            gather_rows(r->data_x, r->d, perm, first + start, count, r->batch_x);
            /* noise keyed by the sample's position in the epoch, never by rank */
            for (int i = 0; i < count; i++)
                col_rng_normal(r->key, generation, COL_RNG_REPARAM, (uint32_t)epoch,
                               (uint32_t)(first + start + i), r->batch_eps + (size_t)i * latent, latent);

            col_params_zero_grad(p);
            double batch_recon, batch_kl;
            double batch_loss = col_vae_train_batch(vae, count, r->batch_x, r->batch_eps, &batch_recon, &batch_kl);
            float *extra = p->grad + p->n;
            extra[EXTRA_LOSS] = (float)batch_loss;
            extra[EXTRA_RECON] = (float)batch_recon;
            extra[EXTRA_KL] = (float)batch_kl;
            /* the float copies can overflow where the double sums did not */
            int nonfinite = !col_all_finite(extra, EXTRA_KL + 1) || !col_all_finite(p->grad, p->n);
            extra = reduce_step(r, p, nonfinite);
            if (extra[EXTRA_NONFINITE] > 0.0f) {
                free(perm);
                return col_fail(err, "member %s, generation %d, VAE epoch %d, batch %d: the loss or "
                                "gradients became NaN or Inf; lower vae.learning_rate or check the data",
                                m->name, generation, epoch + 1, b + 1);
            }
            stop |= extra[EXTRA_STOP] > 0.0f;
            col_adam_step(p, (float)m->vae.learning_rate, 0.9f, 0.999f, 1e-8f);
            loss += extra[EXTRA_LOSS];
            recon += extra[EXTRA_RECON];
            kl += extra[EXTRA_KL];
        }
        r->metrics.vae_loss[epoch] = loss / n;
        r->metrics.vae_recon[epoch] = recon / n;
        r->metrics.vae_kl[epoch] = kl / n;
        *epochs_done = epoch + 1;

        double seconds = col_dist_max(r->dist, col_now_s() - t0);
        r->eta_vae_epoch_s = seconds;
        if (r->eta_cls_epoch_s == 0.0)
            r->eta_cls_epoch_s = seconds;
        double eta = (m->vae.epochs - epoch - 1) * seconds + m->classifier.epochs * r->eta_cls_epoch_s;
        char detail[96];
        snprintf(detail, sizeof detail, " (recon %.4f, KL %.4f)", recon / n, kl / n);
        log_epoch(r, "VAE", generation, epoch, m->vae.epochs, loss / n, detail, seconds, eta);
    }
    free(perm);
    return stop ? 1 : 0;
}

int train_classifier(member_run *r, int generation, int first_epoch, int *epochs_done, col_error *err)
{
    const col_member *m = r->m;
    col_classifier *cls = &r->cls;
    col_params *p = &cls->params;
    int n = r->n_data, batch_size = m->batch_size;
    int32_t *perm = col_malloc(sizeof(int32_t) * (size_t)n, "epoch permutation");
    int stop = 0;

    for (int epoch = first_epoch; epoch < m->classifier.epochs && !stop; epoch++) {
        double t0 = col_now_s(), loss = 0.0, correct = 0.0;
        col_rng_permutation(r->key, generation, COL_RNG_SHUFFLE_CLASSIFIER, (uint32_t)epoch, n, perm);
        for (int first = 0, b = 0; first < n; first += batch_size, b++) {
            int size = n - first < batch_size ? n - first : batch_size, start, count;
            col_dist_shard(size, r->dist->rank, r->dist->size, &start, &count);
            gather_rows(r->data_x, r->d, perm, first + start, count, r->batch_x);
            for (int i = 0; i < count; i++)
                r->batch_y[i] = r->data_y[perm[first + start + i]];

            col_params_zero_grad(p);
            int batch_correct = 0;
            /* the loss is the mean over the global batch, so each shard scales by 1 / size */
            double batch_loss = col_classifier_train_batch(cls, count, r->batch_x, r->batch_y,
                                                           1.0f / (float)size, &batch_correct);
            float *extra = p->grad + p->n;
            extra[EXTRA_LOSS] = (float)batch_loss;
            extra[EXTRA_CORRECT] = (float)batch_correct;
            int nonfinite = !isfinite(extra[EXTRA_LOSS]) || !col_all_finite(p->grad, p->n);
            extra = reduce_step(r, p, nonfinite);
            if (extra[EXTRA_NONFINITE] > 0.0f) {
                free(perm);
                return col_fail(err, "member %s, generation %d, classifier epoch %d, batch %d: the "
                                "loss or gradients became NaN or Inf; lower classifier.learning_rate",
                                m->name, generation, epoch + 1, b + 1);
            }
            stop |= extra[EXTRA_STOP] > 0.0f;
            col_adam_step(p, (float)m->classifier.learning_rate, 0.9f, 0.999f, 1e-8f);
            loss += extra[EXTRA_LOSS];
            correct += extra[EXTRA_CORRECT];
        }
        r->metrics.classifier_loss[epoch] = loss / n;
        r->metrics.classifier_train_accuracy[epoch] = correct / n;
        *epochs_done = epoch + 1;

        double seconds = col_dist_max(r->dist, col_now_s() - t0);
        r->eta_cls_epoch_s = seconds;
        double eta = (m->classifier.epochs - epoch - 1) * seconds;
        char detail[64];
        snprintf(detail, sizeof detail, " (train accuracy %.4f)", correct / n);
        log_epoch(r, "classifier", generation, epoch, m->classifier.epochs, loss / n, detail, seconds, eta);
    }
    free(perm);
    return stop ? 1 : 0;
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
