/* VAE loss and softmax cross-entropy with their gradients (see include/collapse/nn.h). */
#include "collapse/nn.h"

#include <math.h>

double col_vae_loss(int batch, int d, int latent, const float *x, const float *xhat,
                    const float *mu, const float *logvar, float *d_xhat, float *d_mu,
                    float *d_logvar, double *recon, double *kl)
{
    double recon_sum = 0.0, kl_sum = 0.0;
    size_t n_pixels = (size_t)batch * d;
    for (size_t i = 0; i < n_pixels; i++) {
        float diff = xhat[i] - x[i];
        recon_sum += (double)diff * diff;
        d_xhat[i] = 2.0f * diff;
    }
    size_t n_latent = (size_t)batch * latent;
    for (size_t i = 0; i < n_latent; i++) {
        float var = expf(logvar[i]);
        kl_sum += -0.5 * (1.0 + logvar[i] - (double)mu[i] * mu[i] - var);
        d_mu[i] = mu[i];
        d_logvar[i] = 0.5f * (var - 1.0f);
    }
    *recon = recon_sum;
    *kl = kl_sum;
    return recon_sum + kl_sum;
}

double col_softmax_xent(int batch, int n_classes, const float *logits, const int32_t *labels,
                        float scale, float *d_logits, int *n_correct)
{
    double loss = 0.0;
    int correct = 0;
    for (int i = 0; i < batch; i++) {
        const float *z = logits + (size_t)i * n_classes;
        int best = 0;
        float max = z[0];
        for (int c = 1; c < n_classes; c++)
            if (z[c] > max) {
                max = z[c];
                best = c;
            }
        /* log-sum-exp shifted by the maximum, so every exp() argument is <= 0 */
        double sum = 0.0;
        for (int c = 0; c < n_classes; c++)
            sum += exp((double)(z[c] - max));
        double log_sum = log(sum);
        int label = labels[i];
        loss += log_sum - (double)(z[label] - max);
        correct += best == label;
        if (d_logits) {
            float *dz = d_logits + (size_t)i * n_classes;
            for (int c = 0; c < n_classes; c++)
                dz[c] = scale * (float)exp((double)(z[c] - max) - log_sum);
            dz[label] -= scale;
        }
    }
    if (n_correct)
        *n_correct = correct;
    return loss;
}
