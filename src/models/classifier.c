/* The MLP and CNN classifiers (see include/collapse/models.h). */
#include "collapse/models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collapse/common.h"

void col_classifier_create(col_classifier *m, int type, int rows, int cols, const int *channels,
                           int n_conv, const int *hidden, int n_hidden, int n_classes, int max_batch)
{
    char name[16];
    if (n_hidden < 0 || n_hidden > COL_MAX_HIDDEN)
        COL_FATAL("classifier needs 0 to %d hidden layers, got %d", COL_MAX_HIDDEN, n_hidden);
    if (type == COL_CLASSIFIER_CNN && (n_conv < 1 || n_conv > COL_MAX_CONV))
        COL_FATAL("CNN classifier needs 1 to %d convolutions, got %d", COL_MAX_CONV, n_conv);
    memset(m, 0, sizeof *m);
    m->type = type;
    m->rows = rows;
    m->cols = cols;
    m->d_in = rows * cols;
    m->n_classes = n_classes;
    m->n_hidden = n_hidden;
    m->max_batch = max_batch;
    memcpy(m->hidden, hidden, (size_t)n_hidden * sizeof(int));

    /* convolution stack: each 3x3 convolution keeps the size, each pool halves it (floor) */
    int channels_in = 1, h = rows, w = cols;
    size_t scratch_floats = 0;
    if (type == COL_CLASSIFIER_CNN) {
        m->n_conv = n_conv;
        for (int i = 0; i < n_conv; i++) {
            m->channels[i] = channels[i];
            snprintf(name, sizeof name, "conv%d", i);
            m->conv[i] = col_conv2d_make(&m->params, name, channels_in, channels[i], 3, 1, 1, h, w);
            size_t need = col_conv2d_scratch_size(&m->conv[i], max_batch);
            if (need > scratch_floats)
                scratch_floats = need;
            channels_in = channels[i];
            h /= 2;
            w /= 2;
        }
        m->flat_dim = channels_in * h * w;
    } else {
        m->flat_dim = m->d_in;
    }

    for (int i = 0; i < n_hidden; i++) {
        snprintf(name, sizeof name, "fc%d", i);
        m->fc[i] = col_dense_make(&m->params, name, i == 0 ? m->flat_dim : hidden[i - 1], hidden[i]);
    }
    m->out = col_dense_make(&m->params, "out", n_hidden ? hidden[n_hidden - 1] : m->flat_dim, n_classes);
    col_params_alloc(&m->params);

    /* workspace */
    for (int i = 0; i < m->n_conv; i++) {
        const col_conv2d *c = &m->conv[i];
        size_t conv_size = (size_t)max_batch * c->out_channels * c->out_h * c->out_w;
        size_t pool_size = (size_t)max_batch * c->out_channels * (c->out_h / 2) * (c->out_w / 2);
        m->conv_act[i] = col_calloc(conv_size, sizeof(float), "CNN convolution activations");
        m->d_conv[i] = col_calloc(conv_size, sizeof(float), "CNN convolution gradients");
        m->pool_act[i] = col_calloc(pool_size, sizeof(float), "CNN pooling activations");
        m->d_pool[i] = col_calloc(pool_size, sizeof(float), "CNN pooling gradients");
        m->pool_argmax[i] = col_calloc(pool_size, sizeof(int32_t), "CNN pooling indices");
        m->conv_cols[i] = col_calloc(col_conv2d_cols_size(c, max_batch), sizeof(float), "CNN im2col matrices");
    }
    if (scratch_floats)
        m->conv_scratch = col_calloc(scratch_floats, sizeof(float), "CNN GEMM workspace");
    for (int i = 0; i < n_hidden; i++) {
        m->fc_act[i] = col_calloc((size_t)max_batch * hidden[i], sizeof(float), "classifier activations");
        m->d_fc[i] = col_calloc((size_t)max_batch * hidden[i], sizeof(float), "classifier gradients");
    }
    m->logits = col_calloc((size_t)max_batch * n_classes, sizeof(float), "classifier logits");
    m->d_logits = col_calloc((size_t)max_batch * n_classes, sizeof(float), "classifier logit gradients");
}

void col_classifier_destroy(col_classifier *m)
{
    for (int i = 0; i < m->n_conv; i++) {
        free(m->conv_act[i]);
        free(m->d_conv[i]);
        free(m->pool_act[i]);
        free(m->d_pool[i]);
        free(m->pool_argmax[i]);
        free(m->conv_cols[i]);
    }
    free(m->conv_scratch);
    for (int i = 0; i < m->n_hidden; i++) {
        free(m->fc_act[i]);
        free(m->d_fc[i]);
    }
    free(m->logits);
    free(m->d_logits);
    col_params_free(&m->params);
    memset(m, 0, sizeof *m);
}

const float *col_classifier_forward(col_classifier *m, int batch, const float *x)
{
    if (batch < 0 || batch > m->max_batch)
        COL_FATAL("classifier batch of %d samples exceeds its workspace of %d", batch, m->max_batch);
    if (batch == 0)
        return m->logits;
    const float *h = x;
    for (int i = 0; i < m->n_conv; i++) {
        const col_conv2d *c = &m->conv[i];
        col_conv2d_forward(c, &m->params, batch, h, m->conv_act[i], m->conv_cols[i], m->conv_scratch);
        col_relu_forward(m->conv_act[i], (size_t)batch * c->out_channels * c->out_h * c->out_w);
        col_maxpool2_forward(batch, c->out_channels, c->out_h, c->out_w, m->conv_act[i],
                             m->pool_act[i], m->pool_argmax[i]);
        h = m->pool_act[i];
    }
    for (int i = 0; i < m->n_hidden; i++) {
        col_dense_forward(&m->fc[i], &m->params, batch, h, m->fc_act[i]);
        col_relu_forward(m->fc_act[i], (size_t)batch * m->hidden[i]);
        h = m->fc_act[i];
    }
    col_dense_forward(&m->out, &m->params, batch, h, m->logits);
    return m->logits;
}

const float *col_classifier_features(const col_classifier *m, int *width)
{
    if (m->n_hidden > 0) {
        *width = m->hidden[m->n_hidden - 1];
        return m->fc_act[m->n_hidden - 1];
    }
    *width = m->flat_dim;
    return m->n_conv ? m->pool_act[m->n_conv - 1] : NULL;
}

double col_classifier_train_batch(col_classifier *m, int batch, const float *x,
                                  const int32_t *labels, float scale, int *n_correct)
{
    *n_correct = 0;
    if (batch == 0)
        return 0.0;
    col_classifier_forward(m, batch, x);
    double loss = col_softmax_xent(batch, m->n_classes, m->logits, labels, scale, m->d_logits, n_correct);

    /* dense layers, top down */
    const float *flat = m->n_conv ? m->pool_act[m->n_conv - 1] : x;
    float *d_flat = m->n_conv ? m->d_pool[m->n_conv - 1] : NULL;
    int n = m->n_hidden;
    const float *top = n ? m->fc_act[n - 1] : flat;
    col_dense_backward(&m->out, &m->params, batch, top, m->d_logits, n ? m->d_fc[n - 1] : d_flat);
    for (int i = n - 1; i >= 0; i--) {
        col_relu_backward(m->fc_act[i], m->d_fc[i], (size_t)batch * m->hidden[i]);
        const float *input = i == 0 ? flat : m->fc_act[i - 1];
        float *d_input = i == 0 ? d_flat : m->d_fc[i - 1];
        col_dense_backward(&m->fc[i], &m->params, batch, input, m->d_fc[i], d_input);
    }

    /* convolution stack, top down; the first layer needs no input gradient */
    for (int i = m->n_conv - 1; i >= 0; i--) {
        const col_conv2d *c = &m->conv[i];
        col_maxpool2_backward(batch, c->out_channels, c->out_h, c->out_w, m->d_pool[i],
                              m->pool_argmax[i], m->d_conv[i]);
        col_relu_backward(m->conv_act[i], m->d_conv[i], (size_t)batch * c->out_channels * c->out_h * c->out_w);
        float *d_input = i == 0 ? NULL : m->d_pool[i - 1];
        col_conv2d_backward(c, &m->params, batch, m->d_conv[i], d_input, m->conv_cols[i], m->conv_scratch);
    }
    return loss;
}
