/*
 * Finite-difference gradient checks for the unit tests: the analytic gradient of a scalar
 * loss is compared with central differences, both along random directions (all coordinates
 * at once) and coordinate by coordinate on a sample of entries.
 */
#ifndef COLLAPSE_TEST_GRADCHECK_H
#define COLLAPSE_TEST_GRADCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Computes the loss at the current values; if grad is not NULL, also writes its gradient
   with respect to the checked buffer (overwriting). */
typedef double (*loss_fn)(void *ctx, float *grad);

/*
 * Checks d loss / d x for the n floats at x. Returns the worst relative error found; the
 * caller asserts it is below its tolerance. h is the finite-difference step.
 */
static double gradcheck(const char *name, loss_fn f, void *ctx, float *x, size_t n, float h)
{
    float *grad = calloc(n, sizeof(float));
    float *dir = calloc(n, sizeof(float));
    f(ctx, grad);
    double worst = 0.0;
    unsigned state = 12345u;

    /* three random directions */
    for (int trial = 0; trial < 3; trial++) {
        double analytic = 0.0, norm = 0.0;
        for (size_t i = 0; i < n; i++) {
            state = state * 1664525u + 1013904223u;
            dir[i] = ((float)(state >> 8) / 16777216.0f) * 2.0f - 1.0f;
            analytic += (double)grad[i] * dir[i];
            norm += (double)dir[i] * dir[i];
        }
        for (size_t i = 0; i < n; i++)
            x[i] += h * dir[i];
        double plus = f(ctx, NULL);
        for (size_t i = 0; i < n; i++)
            x[i] -= 2.0f * h * dir[i];
        double minus = f(ctx, NULL);
        for (size_t i = 0; i < n; i++)
            x[i] += h * dir[i];
        double numeric = (plus - minus) / (2.0 * h);
        double err = fabs(numeric - analytic) / fmax(fmax(fabs(numeric), fabs(analytic)), 1e-3 * sqrt(norm));
        if (err > worst)
            worst = err;
        printf("  %s direction %d: analytic %.6g numeric %.6g relative error %.2e\n", name, trial, analytic,
               numeric, err);
    }

    /* up to 20 single coordinates spread over the buffer */
    size_t stride = n > 20 ? n / 20 : 1;
    for (size_t i = 0; i < n; i += stride) {
        float saved = x[i];
        x[i] = saved + h;
        double plus = f(ctx, NULL);
        x[i] = saved - h;
        double minus = f(ctx, NULL);
        x[i] = saved;
        double numeric = (plus - minus) / (2.0 * h);
        double scale = fmax(fmax(fabs(numeric), fabs(grad[i])), 1e-2);
        double err = fabs(numeric - grad[i]) / scale;
        if (err > worst) {
            worst = err;
            printf("  %s coordinate %zu: analytic %.6g numeric %.6g relative error %.2e\n", name, i,
                   (double)grad[i], numeric, err);
        }
    }
    printf("%s: worst relative error %.2e over %zu values\n", name, worst, n);
    free(grad);
    free(dir);
    return worst;
}

/* Fills x with uniform values in [lo, hi) from a small deterministic generator. */
static void fill_uniform(float *x, size_t n, float lo, float hi, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * ((float)(seed >> 8) / 16777216.0f);
    }
}

#endif
