/* Dense layers and ReLU on whole minibatches with cblas_sgemm (see include/collapse/nn.h). */
#include "collapse/nn.h"

#include <stdio.h>
#include <string.h>

#include <cblas.h> /* cblas_sgemm */

col_dense col_dense_make(col_params *p, const char *name, int in, int out)
{
    char tensor_name[32];
    col_dense l = {.in = in, .out = out};
    snprintf(tensor_name, sizeof tensor_name, "%s.weight", name);
    l.weight = col_params_add(p, tensor_name, 2, (int[]){out, in}, in);
    snprintf(tensor_name, sizeof tensor_name, "%s.bias", name);
    l.bias = col_params_add(p, tensor_name, 1, (int[]){out}, in);
    return l;
}

void col_dense_forward(const col_dense *l, const col_params *p, int batch, const float *x, float *y)
{
    if (batch == 0)
        return;
    const float *b = p->value + l->bias;
    /* start from the bias so sgemm adds x W^T onto it with beta = 1 */
    for (int i = 0; i < batch; i++)
        memcpy(y + (size_t)i * l->out, b, (size_t)l->out * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, l->out, l->in, 1.0f, x, l->in,
                p->value + l->weight, l->in, 1.0f, y, l->out);
}

void col_dense_backward(const col_dense *l, col_params *p, int batch, const float *x,
                        const float *dy, float *dx)
{
    if (batch == 0)
        return;
    float *db = p->grad + l->bias;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l->out, l->in, batch, 1.0f, dy, l->out, x,
                l->in, 1.0f, p->grad + l->weight, l->in);
    for (int i = 0; i < batch; i++) {
        const float *row = dy + (size_t)i * l->out;
        for (int j = 0; j < l->out; j++)
            db[j] += row[j];
    }
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, l->in, l->out, 1.0f, dy,
                    l->out, p->value + l->weight, l->in, 0.0f, dx, l->in);
}

void col_relu_forward(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void col_relu_backward(const float *y, float *dy, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
