/*
 * Pixel statistics and normalization of byte images to the float inputs the models train on.
 */
#include "collapse/data.h"

#include <math.h>
#include <string.h>

/*
 * A 256-bin histogram makes the sums exact; mean and variance then come from the histogram
 * in double. The standard deviation is the population one (divided by the pixel count), as
 * torch.Tensor.std(unbiased=False) computes it; the 0.3081 used for MNIST does not depend on
 * the difference at 47 million pixels.
 */
void col_pixel_stats(const col_image_set *set, double *mean, double *std)
{
    uint64_t histogram[256];
    memset(histogram, 0, sizeof histogram);
    size_t n_pixels = (size_t)set->n * (size_t)set->rows * (size_t)set->cols;
    for (size_t i = 0; i < n_pixels; i++)
        histogram[set->pixels[i]]++;

    if (n_pixels == 0) {
        *mean = 0.0;
        *std = 0.0;
        return;
    }

    double sum = 0.0;
    for (int v = 0; v < 256; v++)
        sum += (double)histogram[v] * (v / 255.0);
    double m = sum / (double)n_pixels;

    double squares = 0.0;
    for (int v = 0; v < 256; v++) {
        double d = v / 255.0 - m;
        squares += (double)histogram[v] * d * d;
    }
    *mean = m;
    *std = sqrt(squares / (double)n_pixels);
}

void col_normalize(const col_image_set *set, float mean, float std, float *out)
{
    if (!(std > 0.0f) || !isfinite(std) || !isfinite(mean))
        COL_FATAL("col_normalize: mean %g and std %g must be finite, std > 0", (double)mean,
                  (double)std);

    /* one table entry per byte value, computed in double and rounded once */
    float table[256];
    for (int v = 0; v < 256; v++)
        table[v] = (float)((v / 255.0 - (double)mean) / (double)std);

    size_t n_pixels = (size_t)set->n * (size_t)set->rows * (size_t)set->cols;
    for (size_t i = 0; i < n_pixels; i++)
        out[i] = table[set->pixels[i]];
}
