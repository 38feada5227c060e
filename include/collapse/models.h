/*
 * The two models of the experiment, built from include/collapse/nn.h:
 *
 *  VAE: encoder d -> hidden[0] -> ... -> hidden[n-1] (ReLU), two linear heads to mu and
 *  logvar [B, latent]; z = mu + eps * exp(logvar / 2); decoder mirrors the encoder
 *  (latent -> hidden[n-1] -> ... -> hidden[0], ReLU) and a linear output layer to d.
 *  logvar is clamped to [COL_LOGVAR_MIN, COL_LOGVAR_MAX] so exp() cannot overflow; the
 *  clamp passes no gradient where it is active.
 *
 *  Classifier: an MLP d -> hidden... (ReLU) -> C, or a CNN: per entry of channels a 3x3
 *  convolution (padding 1) + ReLU + 2x2 max-pool, then the dense hidden layers and C outputs.
 *
 * Each model owns its workspace for batches of up to max_batch samples; calls with more
 * samples are a programming error (fatal).
 */
#ifndef COLLAPSE_MODELS_H
#define COLLAPSE_MODELS_H

#include <stdint.h>

#include "collapse/nn.h"

#define COL_MAX_HIDDEN 8
#define COL_MAX_CONV 4
#define COL_LOGVAR_MIN -30.0f
#define COL_LOGVAR_MAX 20.0f

/* ---------------------------------------------------------------- VAE */

typedef struct col_vae {
    int d_in, latent, n_hidden, hidden[COL_MAX_HIDDEN];
    col_dense enc[COL_MAX_HIDDEN], mu, logvar, dec[COL_MAX_HIDDEN], out;
    col_params params;
    int max_batch;
    /* workspace, each [max_batch, width of that layer] */
    float *enc_act[COL_MAX_HIDDEN], *dec_act[COL_MAX_HIDDEN];
    float *d_enc[COL_MAX_HIDDEN], *d_dec[COL_MAX_HIDDEN];
    float *mu_out, *logvar_raw, *logvar_out, *eps, *z, *xhat;
    float *d_xhat, *d_mu, *d_logvar, *d_z, *d_head;
} col_vae;

void col_vae_create(col_vae *m, int d_in, const int *hidden, int n_hidden, int latent, int max_batch);
void col_vae_destroy(col_vae *m);

/*
 * Forward and backward for one shard x [B, d_in] with noise eps [B, latent]; accumulates the
 * gradients of the summed loss. Returns the loss sum; *recon and *kl get its terms.
 */
double col_vae_train_batch(col_vae *m, int batch, const float *x, const float *eps, double *recon,
                           double *kl);

/* Encoder means of x [B, d_in] into mu [B, latent]. */
void col_vae_encode(col_vae *m, int batch, const float *x, float *mu);

/* Decodes z [B, latent] into x [B, d_in]. */
void col_vae_decode(col_vae *m, int batch, const float *z, float *x);

/* ---------------------------------------------------------------- classifier */

enum col_classifier_type { COL_CLASSIFIER_MLP = 0, COL_CLASSIFIER_CNN = 1 };

typedef struct col_classifier {
    int type;
    int rows, cols, d_in, n_classes;
    int n_conv, channels[COL_MAX_CONV];
    int n_hidden, hidden[COL_MAX_HIDDEN];
    col_conv2d conv[COL_MAX_CONV];
    col_dense fc[COL_MAX_HIDDEN], out;
    col_params params;
    int max_batch;
    int flat_dim;                       /* input width of the first dense layer */
    /* workspace */
    float *conv_act[COL_MAX_CONV], *pool_act[COL_MAX_CONV];
    float *d_conv[COL_MAX_CONV], *d_pool[COL_MAX_CONV];
    int32_t *pool_argmax[COL_MAX_CONV];
    float *conv_cols[COL_MAX_CONV];     /* each convolution's batch im2col matrix */
    float *conv_scratch;                /* one GEMM result, shared by the convolutions */
    float *fc_act[COL_MAX_HIDDEN], *d_fc[COL_MAX_HIDDEN];
    float *logits, *d_logits;
} col_classifier;

void col_classifier_create(col_classifier *m, int type, int rows, int cols, const int *channels,
                           int n_conv, const int *hidden, int n_hidden, int n_classes, int max_batch);
void col_classifier_destroy(col_classifier *m);

/*
 * Forward and backward for one shard; accumulates scale * the gradient of the summed
 * cross-entropy (scale = 1 / global batch for the batch mean). Returns the loss sum;
 * *n_correct receives the correct predictions.
 */
double col_classifier_train_batch(col_classifier *m, int batch, const float *x,
                                  const int32_t *labels, float scale, int *n_correct);

/* Forward only; returns the internal logits [B, C], valid until the next call. */
const float *col_classifier_forward(col_classifier *m, int batch, const float *x);

/* After a forward: the last hidden layer's activations [B, width]; *width receives the width. */
const float *col_classifier_features(const col_classifier *m, int *width);

#endif
