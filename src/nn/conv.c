/*
 * 2-D convolution by im2col + cblas_sgemm, and 2x2 max-pooling (see include/collapse/nn.h).
 * Tensors are NCHW as in PyTorch, so weights and activations compare one to one.
 *
 * The im2col matrix of a whole batch is built once, [patch, batch * HW] with
 * patch = in_ch * k * k, so each layer costs one large GEMM per direction instead of one small
 * GEMM per image; the forward pass keeps it for the weight gradient of the backward pass.
 */
#include "collapse/nn.h"

#include <float.h>
#include <stdio.h>
#include <string.h>

#include <cblas.h> /* cblas_sgemm */

col_conv2d col_conv2d_make(col_params *p, const char *name, int in_channels, int out_channels,
                           int kernel, int padding, int stride, int in_h, int in_w)
{
    char tensor_name[32];
    int fan_in = in_channels * kernel * kernel;
    col_conv2d l = {.in_channels = in_channels, .out_channels = out_channels, .kernel = kernel,
                    .padding = padding, .stride = stride, .in_h = in_h, .in_w = in_w};
    l.out_h = (in_h + 2 * padding - kernel) / stride + 1;
    l.out_w = (in_w + 2 * padding - kernel) / stride + 1;
    snprintf(tensor_name, sizeof tensor_name, "%s.weight", name);
    l.weight = col_params_add(p, tensor_name, 4, (int[]){out_channels, in_channels, kernel, kernel}, fan_in);
    snprintf(tensor_name, sizeof tensor_name, "%s.bias", name);
    l.bias = col_params_add(p, tensor_name, 1, (int[]){out_channels}, fan_in);
    return l;
}

size_t col_conv2d_cols_size(const col_conv2d *l, int max_batch)
{
    return (size_t)l->in_channels * l->kernel * l->kernel * max_batch * l->out_h * l->out_w;
}

size_t col_conv2d_scratch_size(const col_conv2d *l, int max_batch)
{
    return (size_t)l->out_channels * max_batch * l->out_h * l->out_w;
}

/* The valid output columns [*first, *last) of a kernel column offset kj for stride 1. */
static void valid_range(const col_conv2d *l, int kj, int *first, int *last)
{
    *first = l->padding - kj > 0 ? l->padding - kj : 0;
    *last = l->in_w + l->padding - kj < l->out_w ? l->in_w + l->padding - kj : l->out_w;
}

/* Image n's part of the batch im2col matrix: row (c*k + ki)*k + kj, columns
   [n*HW, (n+1)*HW), contains x[c][oh*s - pad + ki][ow*s - pad + kj] (0 outside). */
static void im2col(const col_conv2d *l, const float *x, int n, size_t row_stride, float *cols)
{
    int k = l->kernel, out_hw = l->out_h * l->out_w;
    for (int c = 0; c < l->in_channels; c++)
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++) {
                float *row = cols + (size_t)((c * k + ki) * k + kj) * row_stride + (size_t)n * out_hw;
                const float *plane = x + (size_t)c * l->in_h * l->in_w;
                int first, last;
                valid_range(l, kj, &first, &last);
                for (int oh = 0; oh < l->out_h; oh++) {
                    int ih = oh * l->stride - l->padding + ki;
                    float *dst = row + oh * l->out_w;
                    if (ih < 0 || ih >= l->in_h) {
                        memset(dst, 0, (size_t)l->out_w * sizeof(float));
                    } else if (l->stride == 1) {
                        /* contiguous copy of the valid span, zeros at the padded edges */
                        const float *src = plane + ih * l->in_w - l->padding + kj;
                        for (int ow = 0; ow < first; ow++)
                            dst[ow] = 0.0f;
                        if (last > first)
                            memcpy(dst + first, src + first, (size_t)(last - first) * sizeof(float));
                        for (int ow = last > first ? last : first; ow < l->out_w; ow++)
                            dst[ow] = 0.0f;
                    } else {
                        for (int ow = 0; ow < l->out_w; ow++) {
                            int iw = ow * l->stride - l->padding + kj;
                            dst[ow] = (iw >= 0 && iw < l->in_w) ? plane[ih * l->in_w + iw] : 0.0f;
                        }
                    }
                }
            }
}

/* The adjoint of im2col for image n: dx[c][ih][iw] += cols[...] over every window. */
static void col2im(const col_conv2d *l, const float *cols, int n, size_t row_stride, float *dx)
{
    int k = l->kernel, out_hw = l->out_h * l->out_w;
    memset(dx, 0, (size_t)l->in_channels * l->in_h * l->in_w * sizeof(float));
    for (int c = 0; c < l->in_channels; c++)
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++) {
                const float *row = cols + (size_t)((c * k + ki) * k + kj) * row_stride + (size_t)n * out_hw;
                float *plane = dx + (size_t)c * l->in_h * l->in_w;
                int first = 0, last = l->out_w;
                if (l->stride == 1)
                    valid_range(l, kj, &first, &last);
                for (int oh = 0; oh < l->out_h; oh++) {
                    int ih = oh * l->stride - l->padding + ki;
                    if (ih < 0 || ih >= l->in_h)
                        continue;
                    const float *src = row + oh * l->out_w;
                    for (int ow = first; ow < last; ow++) {
                        int iw = ow * l->stride - l->padding + kj;
                        if (l->stride == 1 || (iw >= 0 && iw < l->in_w))
                            plane[ih * l->in_w + iw] += src[ow];
                    }
                }
            }
}

void col_conv2d_forward(const col_conv2d *l, const col_params *p, int batch, const float *x,
                        float *y, float *cols, float *scratch)
{
    if (batch == 0)
        return;
    int out_hw = l->out_h * l->out_w, patch = l->in_channels * l->kernel * l->kernel;
    size_t in_size = (size_t)l->in_channels * l->in_h * l->in_w, columns = (size_t)batch * out_hw;
    for (int n = 0; n < batch; n++)
        im2col(l, x + n * in_size, n, columns, cols);
    /* scratch [K, batch * HW] = W [K, patch] cols [patch, batch * HW] */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, l->out_channels, (int)columns, patch, 1.0f,
                p->value + l->weight, patch, cols, (int)columns, 0.0f, scratch, (int)columns);
    /* to NCHW, adding the bias on the way */
    const float *b = p->value + l->bias;
    for (int n = 0; n < batch; n++)
        for (int k = 0; k < l->out_channels; k++) {
            const float *src = scratch + (size_t)k * columns + (size_t)n * out_hw;
            float *dst = y + ((size_t)n * l->out_channels + k) * out_hw;
            for (int i = 0; i < out_hw; i++)
                dst[i] = src[i] + b[k];
        }
}

void col_conv2d_backward(const col_conv2d *l, col_params *p, int batch, const float *dy, float *dx,
                         float *cols, float *scratch)
{
    if (batch == 0)
        return;
    int out_hw = l->out_h * l->out_w, patch = l->in_channels * l->kernel * l->kernel;
    size_t in_size = (size_t)l->in_channels * l->in_h * l->in_w, columns = (size_t)batch * out_hw;
    float *db = p->grad + l->bias;

    /* dy from NCHW to [K, batch * HW], summing the bias gradient on the way */
    for (int n = 0; n < batch; n++)
        for (int k = 0; k < l->out_channels; k++) {
            const float *src = dy + ((size_t)n * l->out_channels + k) * out_hw;
            float *dst = scratch + (size_t)k * columns + (size_t)n * out_hw;
            float sum = 0.0f;
            for (int i = 0; i < out_hw; i++) {
                dst[i] = src[i];
                sum += src[i];
            }
            db[k] += sum;
        }
    /* dW [K, patch] += dy [K, batch * HW] cols^T [batch * HW, patch] */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, l->out_channels, patch, (int)columns, 1.0f, scratch,
                (int)columns, cols, (int)columns, 1.0f, p->grad + l->weight, patch);
    if (!dx)
        return;
    /* dcols [patch, batch * HW] = W^T dy, written over cols, then scattered back per image */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, patch, (int)columns, l->out_channels, 1.0f,
                p->value + l->weight, patch, scratch, (int)columns, 0.0f, cols, (int)columns);
    for (int n = 0; n < batch; n++)
        col2im(l, cols, n, columns, dx + n * in_size);
}

void col_maxpool2_forward(int batch, int channels, int h, int w, const float *x, float *y,
                          int32_t *argmax)
{
    int oh_n = h / 2, ow_n = w / 2;
    for (int plane = 0; plane < batch * channels; plane++) {
        const float *in = x + (size_t)plane * h * w;
        float *out = y + (size_t)plane * oh_n * ow_n;
        int32_t *arg = argmax + (size_t)plane * oh_n * ow_n;
        for (int oh = 0; oh < oh_n; oh++)
            for (int ow = 0; ow < ow_n; ow++) {
                int best = (2 * oh) * w + 2 * ow;
                float max = -FLT_MAX;
                for (int di = 0; di < 2; di++)
                    for (int dj = 0; dj < 2; dj++) {
                        int idx = (2 * oh + di) * w + 2 * ow + dj;
                        if (in[idx] > max) {
                            max = in[idx];
                            best = idx;
                        }
                    }
                out[oh * ow_n + ow] = max;
                arg[oh * ow_n + ow] = (int32_t)((size_t)plane * h * w + best);
            }
    }
}

void col_maxpool2_backward(int batch, int channels, int h, int w, const float *dy,
                           const int32_t *argmax, float *dx)
{
    size_t n_out = (size_t)batch * channels * (h / 2) * (w / 2);
    memset(dx, 0, (size_t)batch * channels * h * w * sizeof(float));
    for (size_t i = 0; i < n_out; i++)
        dx[argmax[i]] += dy[i];
}
