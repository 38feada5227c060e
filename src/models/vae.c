/* The variational autoencoder (see include/collapse/models.h). */
#include "collapse/models.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collapse/common.h"

static float *workspace(int rows, int width, const char *purpose)
{
    return col_calloc((size_t)rows * width, sizeof(float), purpose);
}

void col_vae_create(col_vae *m, int d_in, const int *hidden, int n_hidden, int latent, int max_batch)
{
    char name[16];
    if (n_hidden < 1 || n_hidden > COL_MAX_HIDDEN)
        COL_FATAL("VAE needs 1 to %d hidden layers, got %d", COL_MAX_HIDDEN, n_hidden);
    memset(m, 0, sizeof *m);
    m->d_in = d_in;
    m->latent = latent;
    m->n_hidden = n_hidden;
    m->max_batch = max_batch;
    memcpy(m->hidden, hidden, (size_t)n_hidden * sizeof(int));

    /* encoder */
    for (int i = 0; i < n_hidden; i++) {
        snprintf(name, sizeof name, "enc%d", i);
        m->enc[i] = col_dense_make(&m->params, name, i == 0 ? d_in : hidden[i - 1], hidden[i]);
    }
    m->mu = col_dense_make(&m->params, "mu", hidden[n_hidden - 1], latent);
    m->logvar = col_dense_make(&m->params, "logvar", hidden[n_hidden - 1], latent);

    /* decoder: the hidden widths in reverse */
    for (int i = 0; i < n_hidden; i++) {
        int in = i == 0 ? latent : hidden[n_hidden - i];
        snprintf(name, sizeof name, "dec%d", i);
        m->dec[i] = col_dense_make(&m->params, name, in, hidden[n_hidden - 1 - i]);
    }
    m->out = col_dense_make(&m->params, "out", hidden[0], d_in);
    col_params_alloc(&m->params);

    for (int i = 0; i < n_hidden; i++) {
        m->enc_act[i] = workspace(max_batch, m->enc[i].out, "VAE encoder activations");
        m->d_enc[i] = workspace(max_batch, m->enc[i].out, "VAE encoder gradients");
        m->dec_act[i] = workspace(max_batch, m->dec[i].out, "VAE decoder activations");
        m->d_dec[i] = workspace(max_batch, m->dec[i].out, "VAE decoder gradients");
    }
    m->mu_out = workspace(max_batch, latent, "VAE mu");
    m->logvar_raw = workspace(max_batch, latent, "VAE logvar");
    m->logvar_out = workspace(max_batch, latent, "VAE clamped logvar");
    m->eps = workspace(max_batch, latent, "VAE noise");
    m->z = workspace(max_batch, latent, "VAE latent");
    m->d_mu = workspace(max_batch, latent, "VAE mu gradient");
    m->d_logvar = workspace(max_batch, latent, "VAE logvar gradient");
    m->d_z = workspace(max_batch, latent, "VAE latent gradient");
    m->xhat = workspace(max_batch, d_in, "VAE reconstruction");
    m->d_xhat = workspace(max_batch, d_in, "VAE reconstruction gradient");
    m->d_head = workspace(max_batch, hidden[n_hidden - 1], "VAE head gradient");
}

void col_vae_destroy(col_vae *m)
{
    for (int i = 0; i < m->n_hidden; i++) {
        free(m->enc_act[i]);
        free(m->d_enc[i]);
        free(m->dec_act[i]);
        free(m->d_dec[i]);
    }
    float *buffers[] = {m->mu_out, m->logvar_raw, m->logvar_out, m->eps, m->z, m->d_mu,
                        m->d_logvar, m->d_z, m->xhat, m->d_xhat, m->d_head};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        free(buffers[i]);
    col_params_free(&m->params);
    memset(m, 0, sizeof *m);
}

static void check_batch(const col_vae *m, int batch)
{
    if (batch < 0 || batch > m->max_batch)
        COL_FATAL("VAE batch of %d samples exceeds its workspace of %d", batch, m->max_batch);
}

/* Encoder forward: fills enc_act, mu_out, logvar_raw and the clamped logvar_out. */
static void encode(col_vae *m, int batch, const float *x)
{
    const float *h = x;
    for (int i = 0; i < m->n_hidden; i++) {
        col_dense_forward(&m->enc[i], &m->params, batch, h, m->enc_act[i]);
        col_relu_forward(m->enc_act[i], (size_t)batch * m->enc[i].out);
        h = m->enc_act[i];
    }
    col_dense_forward(&m->mu, &m->params, batch, h, m->mu_out);
    col_dense_forward(&m->logvar, &m->params, batch, h, m->logvar_raw);
    size_t n = (size_t)batch * m->latent;
    for (size_t i = 0; i < n; i++)
        m->logvar_out[i] = fminf(fmaxf(m->logvar_raw[i], COL_LOGVAR_MIN), COL_LOGVAR_MAX);
}

/* Decoder forward from z: fills dec_act and writes the output to x. */
static void decode(col_vae *m, int batch, const float *z, float *x)
{
    const float *h = z;
    for (int i = 0; i < m->n_hidden; i++) {
        col_dense_forward(&m->dec[i], &m->params, batch, h, m->dec_act[i]);
        col_relu_forward(m->dec_act[i], (size_t)batch * m->dec[i].out);
        h = m->dec_act[i];
    }
    col_dense_forward(&m->out, &m->params, batch, h, x);
}

double col_vae_train_batch(col_vae *m, int batch, const float *x, const float *eps, double *recon,
                           double *kl)
{
    check_batch(m, batch);
    *recon = *kl = 0.0;
    if (batch == 0)
        return 0.0;
    int n = m->n_hidden, latent = m->latent;
    size_t n_latent = (size_t)batch * latent;

    /* forward: encode, reparameterize, decode */
    encode(m, batch, x);
    for (size_t i = 0; i < n_latent; i++)
        m->z[i] = m->mu_out[i] + eps[i] * expf(0.5f * m->logvar_out[i]);
    decode(m, batch, m->z, m->xhat);
    double loss = col_vae_loss(batch, m->d_in, latent, x, m->xhat, m->mu_out, m->logvar_out,
                               m->d_xhat, m->d_mu, m->d_logvar, recon, kl);

    /* backward through the decoder to z */
    col_dense_backward(&m->out, &m->params, batch, m->dec_act[n - 1], m->d_xhat, m->d_dec[n - 1]);
    for (int i = n - 1; i >= 0; i--) {
        col_relu_backward(m->dec_act[i], m->d_dec[i], (size_t)batch * m->dec[i].out);
        const float *input = i == 0 ? m->z : m->dec_act[i - 1];
        float *d_input = i == 0 ? m->d_z : m->d_dec[i - 1];
        col_dense_backward(&m->dec[i], &m->params, batch, input, m->d_dec[i], d_input);
    }

    /* through the reparameterization; the clamp passes no gradient where it is active */
    for (size_t i = 0; i < n_latent; i++) {
        float sigma = expf(0.5f * m->logvar_out[i]);
        m->d_mu[i] += m->d_z[i];
        m->d_logvar[i] += m->d_z[i] * eps[i] * 0.5f * sigma;
        if (m->logvar_raw[i] < COL_LOGVAR_MIN || m->logvar_raw[i] > COL_LOGVAR_MAX)
            m->d_logvar[i] = 0.0f;
    }

    /* both heads feed the last encoder layer: sum their input gradients */
    float *h = m->enc_act[n - 1], *d_h = m->d_enc[n - 1];
    col_dense_backward(&m->mu, &m->params, batch, h, m->d_mu, d_h);
    col_dense_backward(&m->logvar, &m->params, batch, h, m->d_logvar, m->d_head);
    size_t n_h = (size_t)batch * m->enc[n - 1].out;
    for (size_t i = 0; i < n_h; i++)
        d_h[i] += m->d_head[i];

    for (int i = n - 1; i >= 0; i--) {
        col_relu_backward(m->enc_act[i], m->d_enc[i], (size_t)batch * m->enc[i].out);
        const float *input = i == 0 ? x : m->enc_act[i - 1];
        float *d_input = i == 0 ? NULL : m->d_enc[i - 1];
        col_dense_backward(&m->enc[i], &m->params, batch, input, m->d_enc[i], d_input);
    }
    return loss;
}

void col_vae_encode(col_vae *m, int batch, const float *x, float *mu)
{
    check_batch(m, batch);
    if (batch == 0)
        return;
    encode(m, batch, x);
    memcpy(mu, m->mu_out, (size_t)batch * m->latent * sizeof(float));
}

void col_vae_decode(col_vae *m, int batch, const float *z, float *x)
{
    check_batch(m, batch);
    if (batch == 0)
        return;
    decode(m, batch, z, x);
}
