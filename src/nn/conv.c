/*
 * 2-D convolution by im2col + cblas_sgemm, and 2x2 max-pooling (see include/collapse/nn.h).
 * Tensors are NCHW as in PyTorch, so weights and activations compare one to one.
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

size_t col_conv2d_workspace(const col_conv2d *l)
{
    return (size_t)l->in_channels * l->kernel * l->kernel * l->out_h * l->out_w;
}

/* cols[(c*k + ki)*k + kj][oh*out_w + ow] = x[c][oh*s - pad + ki][ow*s - pad + kj], 0 outside. */
static void im2col(const col_conv2d *l, const float *x, float *cols)
{
    int k = l->kernel, out_hw = l->out_h * l->out_w;
    for (int c = 0; c < l->in_channels; c++)
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++) {
                float *row = cols + (size_t)((c * k + ki) * k + kj) * out_hw;
                const float *plane = x + (size_t)c * l->in_h * l->in_w;
                for (int oh = 0; oh < l->out_h; oh++) {
                    int ih = oh * l->stride - l->padding + ki;
                    float *dst = row + oh * l->out_w;
                    if (ih < 0 || ih >= l->in_h) {
                        memset(dst, 0, (size_t)l->out_w * sizeof(float));
                        continue;
                    }
                    for (int ow = 0; ow < l->out_w; ow++) {
                        int iw = ow * l->stride - l->padding + kj;
                        dst[ow] = (iw >= 0 && iw < l->in_w) ? plane[ih * l->in_w + iw] : 0.0f;
                    }
                }
            }
}

/* The adjoint of im2col: dx[c][ih][iw] += cols[...] for every window position. */
static void col2im(const col_conv2d *l, const float *cols, float *dx)
{
    int k = l->kernel, out_hw = l->out_h * l->out_w;
    for (int c = 0; c < l->in_channels; c++)
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++) {
                const float *row = cols + (size_t)((c * k + ki) * k + kj) * out_hw;
                float *plane = dx + (size_t)c * l->in_h * l->in_w;
                for (int oh = 0; oh < l->out_h; oh++) {
                    int ih = oh * l->stride - l->padding + ki;
                    if (ih < 0 || ih >= l->in_h)
                        continue;
                    for (int ow = 0; ow < l->out_w; ow++) {
                        int iw = ow * l->stride - l->padding + kj;
                        if (iw >= 0 && iw < l->in_w)
                            plane[ih * l->in_w + iw] += row[oh * l->out_w + ow];
                    }
                }
            }
}

void col_conv2d_forward(const col_conv2d *l, const col_params *p, int batch, const float *x,
                        float *y, float *cols)
{
    int out_hw = l->out_h * l->out_w, patch = l->in_channels * l->kernel * l->kernel;
    size_t in_size = (size_t)l->in_channels * l->in_h * l->in_w, out_size = (size_t)l->out_channels * out_hw;
    const float *w = p->value + l->weight, *b = p->value + l->bias;
    for (int n = 0; n < batch; n++) {
        float *yn = y + n * out_size;
        for (int k = 0; k < l->out_channels; k++)
            for (int i = 0; i < out_hw; i++)
                yn[(size_t)k * out_hw + i] = b[k];
        im2col(l, x + n * in_size, cols);
        /* y_n [K, HW] += W [K, patch] cols [patch, HW] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, l->out_channels, out_hw, patch, 1.0f,
                    w, patch, cols, out_hw, 1.0f, yn, out_hw);
    }
}

void col_conv2d_backward(const col_conv2d *l, col_params *p, int batch, const float *x,
                         const float *dy, float *dx, float *cols)
{
    int out_hw = l->out_h * l->out_w, patch = l->in_channels * l->kernel * l->kernel;
    size_t in_size = (size_t)l->in_channels * l->in_h * l->in_w, out_size = (size_t)l->out_channels * out_hw;
    float *dw = p->grad + l->weight, *db = p->grad + l->bias;
    const float *w = p->value + l->weight;
    for (int n = 0; n < batch; n++) {
        const float *dyn = dy + n * out_size;
        for (int k = 0; k < l->out_channels; k++) {
            float sum = 0.0f;
            for (int i = 0; i < out_hw; i++)
                sum += dyn[(size_t)k * out_hw + i];
            db[k] += sum;
        }
        im2col(l, x + n * in_size, cols);
        /* dW [K, patch] += dy_n [K, HW] cols^T [HW, patch] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, l->out_channels, patch, out_hw, 1.0f,
                    dyn, out_hw, cols, out_hw, 1.0f, dw, patch);
        if (dx) {
            /* dcols [patch, HW] = W^T [patch, K] dy_n [K, HW], then scattered back */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, patch, out_hw, l->out_channels, 1.0f,
                        w, patch, dyn, out_hw, 0.0f, cols, out_hw);
            memset(dx + n * in_size, 0, in_size * sizeof(float));
            col2im(l, cols, dx + n * in_size);
        }
    }
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
