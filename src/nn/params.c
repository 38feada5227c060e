/* Flat parameter buffers, initialization and the Adam optimizer (see include/collapse/nn.h). */
#include "collapse/nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collapse/common.h"

size_t col_params_add(col_params *p, const char *name, int rank, const int *shape, int fan_in)
{
    if (p->n_tensors >= COL_MAX_TENSORS)
        COL_FATAL("too many tensors in one model (at most %d) when adding %s", COL_MAX_TENSORS, name);
    if (p->value)
        COL_FATAL("tensor %s added after the parameter buffers were allocated", name);
    col_tensor *t = &p->tensors[p->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rank = rank;
    t->size = 1;
    for (int i = 0; i < 4; i++) {
        t->shape[i] = i < rank ? shape[i] : 1;
        if (i < rank)
            t->size *= (size_t)shape[i];
    }
    t->offset = p->n;
    t->fan_in = fan_in;
    p->n += t->size;
    return t->offset;
}

void col_params_alloc(col_params *p)
{
    p->value = col_calloc(p->n, sizeof(float), "model parameters");
    p->grad = col_calloc(p->n + COL_GRAD_EXTRA, sizeof(float), "model gradients");
    p->adam_m = col_calloc(p->n, sizeof(float), "Adam first moments");
    p->adam_v = col_calloc(p->n, sizeof(float), "Adam second moments");
    p->adam_step = 0;
}

void col_params_free(col_params *p)
{
    free(p->value);
    free(p->grad);
    free(p->adam_m);
    free(p->adam_v);
    memset(p, 0, sizeof *p);
}

void col_params_zero_grad(col_params *p) { memset(p->grad, 0, (p->n + COL_GRAD_EXTRA) * sizeof(float)); }

void col_params_reset_adam(col_params *p)
{
    memset(p->adam_m, 0, p->n * sizeof(float));
    memset(p->adam_v, 0, p->n * sizeof(float));
    p->adam_step = 0;
}

void col_params_init_uniform(col_params *p, col_rng_key key, int generation, int purpose)
{
    for (int t = 0; t < p->n_tensors; t++) {
        const col_tensor *tensor = &p->tensors[t];
        float bound = 1.0f / sqrtf((float)tensor->fan_in);
        /* one counter index per tensor; blocks run along the tensor */
        col_rng_uniform(key, generation, purpose, 0, (uint32_t)t, -bound, bound,
                        p->value + tensor->offset, (int)tensor->size);
    }
    col_params_reset_adam(p);
}

const col_tensor *col_params_find(const col_params *p, const char *name)
{
    for (int t = 0; t < p->n_tensors; t++)
        if (strcmp(p->tensors[t].name, name) == 0)
            return &p->tensors[t];
    return NULL;
}

void col_adam_step(col_params *p, float learning_rate, float beta1, float beta2, float eps)
{
    p->adam_step++;
    /* bias corrections in double: beta^t underflows gracefully and loses no precision early */
    double correction1 = 1.0 - pow(beta1, (double)p->adam_step);
    double correction2 = 1.0 - pow(beta2, (double)p->adam_step);
    float step_size = (float)(learning_rate / correction1);
    float inv_sqrt_c2 = (float)(1.0 / sqrt(correction2));
    float *restrict w = p->value, *restrict g = p->grad, *restrict m = p->adam_m, *restrict v = p->adam_v;
    for (size_t i = 0; i < p->n; i++) {
        m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        w[i] -= step_size * m[i] / (sqrtf(v[i]) * inv_sqrt_c2 + eps);
    }
}

int col_all_finite(const float *x, size_t n)
{
    /* a float is Inf or NaN exactly when its exponent bits are all ones; testing the bits
       with integer operations lets the loop vectorize */
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        bad |= (uint32_t)((bits & 0x7f800000u) == 0x7f800000u);
    }
    return bad == 0;
}
