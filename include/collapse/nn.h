/*
 * Neural network building blocks over flat buffers.
 *
 * A model owns one col_params: a single contiguous buffer of parameters, one of gradients
 * and two of Adam moments, each of n floats, plus a table of named tensors (offsets and
 * shapes) into them. Layers hold offsets, not pointers, so the buffers can be reduced,
 * written and read as one piece. Layer shapes use B for the batch:
 *   dense:   x [B, in] -> y [B, out]; weight [out, in] (as PyTorch), bias [out]
 *   conv2d:  x [B, C, H, W] -> y [B, K, H', W']; weight [K, C, kh, kw], bias [K]
 *   maxpool: x [B, C, H, W] -> y [B, C, H/2, W/2] (floor), 2x2 windows, stride 2
 * Backward functions accumulate (+=) into the gradient buffer, so a step's gradients are
 * the sum over all calls since the last col_params_zero_grad.
 */
#ifndef COLLAPSE_NN_H
#define COLLAPSE_NN_H

#include <stddef.h>
#include <stdint.h>

#include "collapse/rng.h"

#define COL_MAX_TENSORS 32

/* Floats after the n gradients in col_params.grad: per-step statistics (loss, counts, flags)
   travel in the same allreduce as the gradients. */
#define COL_GRAD_EXTRA 8

/* ---------------------------------------------------------------- parameters and Adam */

typedef struct col_tensor {
    char name[32];       /* e.g. "enc0.weight" */
    int rank;            /* 1 to 4 */
    int shape[4];
    size_t offset;       /* into the flat buffers, in floats */
    size_t size;         /* product of the shape */
    int fan_in;          /* for initialization */
} col_tensor;

typedef struct col_params {
    size_t n;                 /* total floats */
    float *value;             /* [n] */
    float *grad;              /* [n + COL_GRAD_EXTRA] */
    float *adam_m, *adam_v;   /* [n] first and second moments */
    int64_t adam_step;        /* Adam steps taken */
    int n_tensors;
    col_tensor tensors[COL_MAX_TENSORS];
} col_params;

/* Registers a tensor before col_params_alloc; returns its offset. Fatal beyond COL_MAX_TENSORS. */
size_t col_params_add(col_params *p, const char *name, int rank, const int *shape, int fan_in);

/* Allocates the four buffers (zeroed) for the registered tensors. */
void col_params_alloc(col_params *p);
void col_params_free(col_params *p);
/* Zeroes the gradients and the extra slots. */
void col_params_zero_grad(col_params *p);

/* Resets Adam's moments and step count. */
void col_params_reset_adam(col_params *p);

/* PyTorch's nn.Linear / nn.Conv2d default: every tensor uniform in +-1/sqrt(fan_in). */
void col_params_init_uniform(col_params *p, col_rng_key key, int generation, int purpose);

/* Returns the tensor with that name, or NULL. */
const col_tensor *col_params_find(const col_params *p, const char *name);

/* One Adam step with PyTorch semantics (bias-corrected moments, eps outside the sqrt). */
void col_adam_step(col_params *p, float learning_rate, float beta1, float beta2, float eps);

/* 1 if every float in x[0..n) is finite. */
int col_all_finite(const float *x, size_t n);

/* ---------------------------------------------------------------- dense */

typedef struct col_dense {
    int in, out;
    size_t weight, bias;   /* offsets into col_params */
} col_dense;

/* Registers "<name>.weight" [out, in] and "<name>.bias" [out]. */
col_dense col_dense_make(col_params *p, const char *name, int in, int out);

/* y = x W^T + b. */
void col_dense_forward(const col_dense *l, const col_params *p, int batch, const float *x, float *y);

/* dW += dy^T x, db += column sums of dy, and dx = dy W unless dx is NULL. */
void col_dense_backward(const col_dense *l, col_params *p, int batch, const float *x,
                        const float *dy, float *dx);

/* ---------------------------------------------------------------- activations */

void col_relu_forward(float *x, size_t n);

/* dy *= (y > 0), where y is the ReLU output. */
void col_relu_backward(const float *y, float *dy, size_t n);

/* ---------------------------------------------------------------- conv2d and max-pool */

typedef struct col_conv2d {
    int in_channels, out_channels, kernel, padding, stride;
    int in_h, in_w, out_h, out_w;
    size_t weight, bias;
} col_conv2d;

/* Registers "<name>.weight" [out_ch, in_ch, k, k] and "<name>.bias" [out_ch]. */
col_conv2d col_conv2d_make(col_params *p, const char *name, int in_channels, int out_channels,
                           int kernel, int padding, int stride, int in_h, int in_w);

/*
 * Workspace, in floats, for a batch of up to max_batch images:
 *   cols:    in_ch * k * k rows of max_batch * out_h * out_w columns, the im2col matrix of
 *            the whole batch; forward fills it and backward reuses it, so it must be kept
 *            per layer between the two calls;
 *   scratch: out_ch * max_batch * out_h * out_w, for one GEMM result; may be shared.
 */
size_t col_conv2d_cols_size(const col_conv2d *l, int max_batch);
size_t col_conv2d_scratch_size(const col_conv2d *l, int max_batch);

/* y = conv(x) + b for the batch as one GEMM; fills cols (see above). */
void col_conv2d_forward(const col_conv2d *l, const col_params *p, int batch, const float *x,
                        float *y, float *cols, float *scratch);

/* Accumulates dW, db from the cols of the forward call; writes dx unless NULL. cols is
   overwritten. */
void col_conv2d_backward(const col_conv2d *l, col_params *p, int batch, const float *dy, float *dx,
                         float *cols, float *scratch);

/* 2x2 max-pool, stride 2; argmax[B, C, H/2, W/2] receives the input index of each maximum. */
void col_maxpool2_forward(int batch, int channels, int h, int w, const float *x, float *y,
                          int32_t *argmax);

/* dx = 0, then dx[argmax] += dy. */
void col_maxpool2_backward(int batch, int channels, int h, int w, const float *dy,
                           const int32_t *argmax, float *dx);

/* ---------------------------------------------------------------- losses */

/*
 * The VAE loss of a batch: sum over batch and pixels of (xhat - x)^2 (recon) plus the
 * Gaussian KL term -0.5 * sum(1 + logvar - mu^2 - exp(logvar)). Writes d_xhat = 2 (xhat - x)
 * and the KL's gradients into d_mu, d_logvar (overwriting). Returns recon + KL; the two
 * terms go to *recon and *kl. Shapes: x, xhat [B, d]; mu, logvar [B, latent].
 */
double col_vae_loss(int batch, int d, int latent, const float *x, const float *xhat,
                    const float *mu, const float *logvar, float *d_xhat, float *d_mu,
                    float *d_logvar, double *recon, double *kl);

/*
 * Softmax cross-entropy of logits [B, C] against labels [B]. Writes
 * d_logits = scale * (softmax - onehot) unless d_logits is NULL (scale = 1 / global batch
 * gives the batch mean's gradient). Returns the loss summed over the batch; *n_correct (if
 * not NULL) receives how many argmax predictions match.
 */
double col_softmax_xent(int batch, int n_classes, const float *logits, const int32_t *labels,
                        float scale, float *d_logits, int *n_correct);

#endif
