/* Shared state of one member's run, used by the files of src/pipeline/. */
#ifndef COLLAPSE_PIPELINE_INTERNAL_H
#define COLLAPSE_PIPELINE_INTERNAL_H

#include "collapse/checkpoint.h"
#include "collapse/common.h"
#include "collapse/config.h"
#include "collapse/data.h"
#include "collapse/dist.h"
#include "collapse/models.h"
#include "collapse/rng.h"

/* Slots in the extras after the gradients (see COL_GRAD_EXTRA). */
enum { EXTRA_LOSS, EXTRA_RECON, EXTRA_KL, EXTRA_CORRECT, EXTRA_NONFINITE, EXTRA_STOP };

typedef struct member_run {
    const col_config *cfg;
    const col_member *m;
    const col_dist *dist;
    char dir[COL_PATH_MAX + 200];  /* OUT/<member> */
    int lock_fd;                  /* flock on OUT/<member>/.lock (first rank), or < 0 */
    col_rng_key key;

    /* real data, normalized */
    col_data_info info;
    double mean, std;
    int rows, cols, d, n_classes;
    int n_train, n_test, n_samples;
    float *train_x, *test_x;      /* [n_train, d], [n_test, d] */
    int32_t *train_y, *test_y;
    char fingerprint[160];

    /* the data of the current generation D_g and the next D_{g+1} */
    float *data_x, *next_x;       /* data_x points at train_x in generation 0 */
    int32_t *data_y, *next_y;
    int n_data;

    /* models; vae0 keeps the generation-0 encoder, eval_cls takes earlier classifiers */
    col_vae vae, vae0;
    col_classifier cls, eval_cls;
    float **history;              /* [generations] classifier parameters, NULL if not yet trained */
    int have_vae0;

    /* scratch */
    int max_batch;
    float *batch_x, *batch_eps;   /* [max_batch, d], [max_batch, latent] */
    int32_t *batch_y;

    /* Frechet statistics of the real test set under the generation-0 classifier */
    int have_test_features;
    double *test_feature_mean, *test_feature_cov;

    double self_loss, self_correct;  /* this rank's shard: generation g's classifier on the
                                        labels it gave D_{g+1}, summed while labelling */
    col_metrics metrics;
    double eta_vae_epoch_s, eta_cls_epoch_s;
} member_run;

/* train.c: a member_run that only trains, on data x [n, rows * cols] and labels y (borrowed),
   for benchmarks and tests. Its models follow m and are initialized for generation 0. */
void train_only_setup(member_run *r, const col_member *m, const col_dist *dist, float *x, int32_t *y, int n,
                      int rows, int cols, int n_classes);
void train_only_teardown(member_run *r);

/* train.c: epochs [first_epoch, epochs) of one phase. Returns 0 when done, 1 when a stop
   request ended it after epoch *epochs_done, -1 (message in err) on NaN or Inf. */
int train_vae(member_run *r, int generation, int first_epoch, int *epochs_done, col_error *err);
int train_classifier(member_run *r, int generation, int first_epoch, int *epochs_done, col_error *err);

/* evaluate.c: sampling, labelling and every metric of a generation after training. */
void sample_next(member_run *r, int generation);
void evaluate_generation(member_run *r, int generation);

#endif
