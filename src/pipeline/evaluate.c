/*
 * After training: sample D_{g+1}, label it, and compute the generation's metrics. Each rank
 * works on its shard of the samples; sums are combined with allreduce, so every rank ends
 * with the same data and metrics.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>    /* cblas_dsyrk, cblas_dgemm */
#include <lapacke.h>  /* LAPACKE_dsyev */

#include "collapse/log.h"
#include "internal.h"

static int argmax(const float *z, int n)
{
    int best = 0;
    for (int c = 1; c < n; c++)
        if (z[c] > z[best])
            best = c;
    return best;
}

void sample_next(member_run *r, int generation)
{
    int start, count, latent = r->m->vae.latent;
    col_dist_shard(r->n_samples, r->dist->rank, r->dist->size, &start, &count);
    float *z = col_malloc(sizeof(float) * (size_t)r->max_batch * latent, "latent vectors");
    for (int first = 0; first < count; first += r->max_batch) {
        int chunk = count - first < r->max_batch ? count - first : r->max_batch;
        /* latent vectors keyed by the sample's index, never by rank */
        for (int i = 0; i < chunk; i++)
            col_rng_normal(r->key, generation, COL_RNG_LATENT, 0, (uint32_t)(start + first + i),
                           z + (size_t)i * latent, latent);
        col_vae_decode(&r->vae, chunk, z, r->next_x + (size_t)(start + first) * r->d);
    }
    free(z);
    col_dist_allgather_rows(r->dist, r->next_x, r->n_samples, r->d);

    /* labels from this generation's classifier; the same forward pass gives the diagonal
       entry of the matrices, so evaluate_generation need not repeat it */
    r->self_loss = r->self_correct = 0.0;
    for (int first = 0; first < count; first += r->max_batch) {
        int chunk = count - first < r->max_batch ? count - first : r->max_batch, correct = 0;
        const float *logits = col_classifier_forward(&r->cls, chunk, r->next_x + (size_t)(start + first) * r->d);
        int32_t *labels = r->next_y + start + first;
        for (int i = 0; i < chunk; i++)
            labels[i] = argmax(logits + (size_t)i * r->n_classes, r->n_classes);
        r->self_loss += col_softmax_xent(chunk, r->n_classes, logits, labels, 1.0f, NULL, &correct);
        r->self_correct += correct;
    }
    col_dist_allgather_rows_int(r->dist, (int *)r->next_y, r->n_samples, 1);
}

/* Loss sum and correct count of classifier m on rows [start, start + count) of x, y;
   histogram (if not NULL) counts its predictions. */
static void score(member_run *r, col_classifier *m, const float *x, const int32_t *y, int start,
                  int count, double *loss, double *correct, double *histogram)
{
    for (int first = 0; first < count; first += r->max_batch) {
        int chunk = count - first < r->max_batch ? count - first : r->max_batch;
        const float *rows = x + (size_t)(start + first) * r->d;
        const float *logits = col_classifier_forward(m, chunk, rows);
        int n_correct = 0;
        *loss += col_softmax_xent(chunk, r->n_classes, logits, y + start + first, 1.0f, NULL, &n_correct);
        *correct += n_correct;
        if (histogram)
            for (int i = 0; i < chunk; i++)
                histogram[argmax(logits + (size_t)i * r->n_classes, r->n_classes)] += 1.0;
    }
}

/* Feature sums of the generation-0 classifier's last hidden layer over rows of x:
   sum [width] and the upper triangle of sum of outer products [width, width]. */
static void feature_sums(member_run *r, const float *x, int start, int count, double *sum, double *outer)
{
    int width = 0;
    double *rows = NULL;
    for (int first = 0; first < count; first += r->max_batch) {
        int chunk = count - first < r->max_batch ? count - first : r->max_batch;
        col_classifier_forward(&r->eval_cls, chunk, x + (size_t)(start + first) * r->d);
        const float *features = col_classifier_features(&r->eval_cls, &width);
        if (!rows)
            rows = col_malloc(sizeof(double) * (size_t)r->max_batch * width, "feature rows");
        for (size_t i = 0; i < (size_t)chunk * width; i++)
            rows[i] = features[i];
        for (int i = 0; i < chunk; i++)
            for (int j = 0; j < width; j++)
                sum[j] += rows[(size_t)i * width + j];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, width, chunk, 1.0, rows, width, 1.0, outer, width);
    }
    free(rows);
}

/* Mean and covariance (divisor n - 1, full symmetric) from feature sums over n rows. */
static void moments(int width, double n, const double *sum, const double *outer, double *mean, double *cov)
{
    for (int j = 0; j < width; j++)
        mean[j] = sum[j] / n;
    for (int i = 0; i < width; i++)
        for (int j = i; j < width; j++) {
            double c = (outer[(size_t)i * width + j] - n * mean[i] * mean[j]) / (n - 1.0);
            cov[(size_t)i * width + j] = cov[(size_t)j * width + i] = c;
        }
}

/* Replaces a [n, n] by its symmetric square root and returns the root's trace. Eigenvalues
   below zero, which only round-off produces here, count as zero. */
static double symmetric_sqrt(int n, double *a)
{
    double *w = col_malloc(sizeof(double) * (size_t)n, "eigenvalues");
    double *scaled = col_malloc(sizeof(double) * (size_t)n * n, "eigenvectors");
    if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', n, a, n, w) != 0)
        COL_FATAL("LAPACKE_dsyev failed on a %d x %d covariance matrix", n, n);
    double trace = 0.0;
    for (int j = 0; j < n; j++) {
        double root = w[j] > 0.0 ? sqrt(w[j]) : 0.0;
        trace += root;
        for (int i = 0; i < n; i++)
            scaled[(size_t)i * n + j] = a[(size_t)i * n + j] * root;
    }
    /* a = V diag(root) V^T */
    double *v = col_malloc(sizeof(double) * (size_t)n * n, "eigenvectors");
    memcpy(v, a, sizeof(double) * (size_t)n * n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0, scaled, n, v, n, 0.0, a, n);
    free(v);
    free(scaled);
    free(w);
    return trace;
}

/* Frechet distance between two Gaussians given by means and covariances [n, n]. */
static double frechet(int n, const double *mean_a, const double *cov_a, const double *mean_b, const double *cov_b)
{
    double diff = 0.0, trace_a = 0.0, trace_b = 0.0;
    for (int i = 0; i < n; i++) {
        diff += (mean_a[i] - mean_b[i]) * (mean_a[i] - mean_b[i]);
        trace_a += cov_a[(size_t)i * n + i];
        trace_b += cov_b[(size_t)i * n + i];
    }
    size_t nn = (size_t)n * n;
    double *root_a = col_malloc(sizeof(double) * nn, "covariance root");
    double *tmp = col_malloc(sizeof(double) * nn, "covariance product");
    double *inner = col_malloc(sizeof(double) * nn, "covariance product");
    memcpy(root_a, cov_a, sizeof(double) * nn);
    symmetric_sqrt(n, root_a);
    /* inner = A^1/2 B A^1/2, symmetric positive semi-definite */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, root_a, n, cov_b, n, 0.0, tmp, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, tmp, n, root_a, n, 0.0, inner, n);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            inner[(size_t)i * n + j] = inner[(size_t)j * n + i] =
                0.5 * (inner[(size_t)i * n + j] + inner[(size_t)j * n + i]);
    double trace_root = symmetric_sqrt(n, inner);
    free(root_a);
    free(tmp);
    free(inner);
    return diff + trace_a + trace_b - 2.0 * trace_root;
}

static double entropy(const int64_t *histogram, int n)
{
    double total = 0.0, h = 0.0;
    for (int i = 0; i < n; i++)
        total += (double)histogram[i];
    for (int i = 0; i < n; i++)
        if (histogram[i] > 0) {
            double p = (double)histogram[i] / total;
            h -= p * log(p);
        }
    return h;
}

void evaluate_generation(member_run *r, int generation)
{
    col_metrics *mt = &r->metrics;
    int C = r->n_classes, n_eval = generation + 1, start, count, test_start, test_count;
    col_dist_shard(r->n_samples, r->dist->rank, r->dist->size, &start, &count);
    col_dist_shard(r->n_test, r->dist->rank, r->dist->size, &test_start, &test_count);

    /* one reduction for every score: [eval loss, eval correct] x n_eval, test loss, test
       correct, judge histogram [C] */
    size_t n_sums = 2 * (size_t)n_eval + 2 + (size_t)C;
    double *sums = col_calloc(n_sums, sizeof(double), "evaluation sums");
    for (int g = 0; g < n_eval; g++) {
        if (g == generation && g > 0) {
            sums[2 * g] = r->self_loss;
            sums[2 * g + 1] = r->self_correct;
            continue;
        }
        memcpy(r->eval_cls.params.value, r->history[g], r->eval_cls.params.n * sizeof(float));
        score(r, &r->eval_cls, r->next_x, r->next_y, start, count, &sums[2 * g], &sums[2 * g + 1],
              g == 0 ? sums + 2 * n_eval + 2 : NULL);
    }
    score(r, &r->cls, r->test_x, r->test_y, test_start, test_count, &sums[2 * n_eval], &sums[2 * n_eval + 1], NULL);
    col_dist_sum_doubles(r->dist, sums, n_sums);
    mt->n_eval = n_eval;
    for (int g = 0; g < n_eval; g++) {
        mt->eval_loss[g] = sums[2 * g] / r->n_samples;
        mt->eval_accuracy[g] = sums[2 * g + 1] / r->n_samples;
    }
    mt->test_loss = sums[2 * n_eval] / r->n_test;
    mt->test_accuracy = sums[2 * n_eval + 1] / r->n_test;
    mt->n_classes = C;
    memset(mt->judge_histogram, 0, sizeof mt->judge_histogram);
    memset(mt->class_histogram, 0, sizeof mt->class_histogram);
    for (int c = 0; c < C; c++)
        mt->judge_histogram[c] = (int64_t)llround(sums[2 * n_eval + 2 + c]);
    for (int i = 0; i < r->n_samples; i++)
        mt->class_histogram[r->next_y[i]]++;
    mt->class_entropy = entropy(mt->class_histogram, C);
    mt->judge_entropy = entropy(mt->judge_histogram, C);
    free(sums);

    /* pixel statistics in [0,1] units: sum, sum of squares, clipped count, histogram */
    double pixel[3 + COL_PIXEL_BINS] = {0};
    for (size_t i = (size_t)start * r->d; i < (size_t)(start + count) * r->d; i++) {
        double v = r->next_x[i] * r->std + r->mean;
        pixel[0] += v;
        pixel[1] += v * v;
        pixel[2] += v < 0.0 || v > 1.0;
        double clipped = fmin(fmax(v, 0.0), 1.0);
        int bin = (int)(clipped * COL_PIXEL_BINS);
        pixel[3 + (bin < COL_PIXEL_BINS ? bin : COL_PIXEL_BINS - 1)] += 1.0;
    }
    col_dist_sum_doubles(r->dist, pixel, 3 + COL_PIXEL_BINS);
    double n_pixels = (double)r->n_samples * r->d;
    mt->pixel_mean = pixel[0] / n_pixels;
    mt->pixel_std = sqrt(fmax(pixel[1] / n_pixels - mt->pixel_mean * mt->pixel_mean, 0.0));
    mt->pixel_clipped_fraction = pixel[2] / n_pixels;
    for (int b = 0; b < COL_PIXEL_BINS; b++)
        mt->pixel_histogram[b] = (int64_t)llround(pixel[3 + b]);

    /* latent spread: generation-0 encoder means of D_{g+1} */
    int latent = r->m->vae.latent;
    double *lat = col_calloc(2 * (size_t)latent, sizeof(double), "latent sums");
    float *mu = col_malloc(sizeof(float) * (size_t)r->max_batch * latent, "latent means");
    for (int first = 0; first < count; first += r->max_batch) {
        int chunk = count - first < r->max_batch ? count - first : r->max_batch;
        col_vae_encode(&r->vae0, chunk, r->next_x + (size_t)(start + first) * r->d, mu);
        for (int i = 0; i < chunk; i++)
            for (int j = 0; j < latent; j++) {
                double v = mu[(size_t)i * latent + j];
                lat[j] += v;
                lat[latent + j] += v * v;
            }
    }
    col_dist_sum_doubles(r->dist, lat, 2 * (size_t)latent);
    double spread = 0.0;
    for (int j = 0; j < latent; j++) {
        double mean = lat[j] / r->n_samples;
        spread += sqrt(fmax(lat[latent + j] / r->n_samples - mean * mean, 0.0));
    }
    mt->latent_spread = spread / latent;
    free(mu);
    free(lat);

    /* Frechet distance in the generation-0 classifier's feature space */
    /* NOTE: this repeats the generation-0 classifier's forward pass over D_{g+1} that the
       judge histogram above already ran; sharing it would save one pass per generation. */
    memcpy(r->eval_cls.params.value, r->history[0], r->eval_cls.params.n * sizeof(float));
    int width;
    col_classifier_features(&r->eval_cls, &width);
    size_t n_stats = (size_t)width + (size_t)width * width;
    double *stats = col_calloc(n_stats, sizeof(double), "feature sums");
    if (!r->have_test_features) {
        feature_sums(r, r->test_x, test_start, test_count, stats, stats + width);
        col_dist_sum_doubles(r->dist, stats, n_stats);
        r->test_feature_mean = col_malloc(sizeof(double) * (size_t)width, "test feature mean");
        r->test_feature_cov = col_malloc(sizeof(double) * (size_t)width * width, "test feature covariance");
        moments(width, r->n_test, stats, stats + width, r->test_feature_mean, r->test_feature_cov);
        r->have_test_features = 1;
        memset(stats, 0, n_stats * sizeof(double));
    }
    feature_sums(r, r->next_x, start, count, stats, stats + width);
    col_dist_sum_doubles(r->dist, stats, n_stats);
    double *mean = col_malloc(sizeof(double) * (size_t)width, "feature mean");
    double *cov = col_malloc(sizeof(double) * (size_t)width * width, "feature covariance");
    moments(width, r->n_samples, stats, stats + width, mean, cov);
    mt->frechet_distance = frechet(width, r->test_feature_mean, r->test_feature_cov, mean, cov);
    free(mean);
    free(cov);
    free(stats);
}
