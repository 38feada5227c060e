/* Unit tests of the nn layer: gradient checks of each layer and loss, Adam, and the RNG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collapse/nn.h"
#include "gradcheck.h"

#define TOLERANCE 2e-2

/* ---------------------------------------------------------------- dense + ReLU */

typedef struct dense_case {
    col_params p;
    col_dense a, b;
    int batch;
    float *x, *h, *y, *dy, *dh, *dx, *weights; /* weights: the fixed linear read-out of y */
    int check_input;
} dense_case;

/* loss = sum(weights * dense_b(relu(dense_a(x)))) */
static double dense_loss(void *ctx, float *grad)
{
    dense_case *c = ctx;
    col_dense_forward(&c->a, &c->p, c->batch, c->x, c->h);
    col_relu_forward(c->h, (size_t)c->batch * c->a.out);
    col_dense_forward(&c->b, &c->p, c->batch, c->h, c->y);
    double loss = 0.0;
    for (int i = 0; i < c->batch * c->b.out; i++)
        loss += (double)c->weights[i] * c->y[i];
    if (grad) {
        col_params_zero_grad(&c->p);
        memcpy(c->dy, c->weights, sizeof(float) * (size_t)c->batch * c->b.out);
        col_dense_backward(&c->b, &c->p, c->batch, c->h, c->dy, c->dh);
        col_relu_backward(c->h, c->dh, (size_t)c->batch * c->a.out);
        col_dense_backward(&c->a, &c->p, c->batch, c->x, c->dh, c->dx);
        memcpy(grad, c->check_input ? c->dx : c->p.grad,
               sizeof(float) * (c->check_input ? (size_t)c->batch * c->a.in : c->p.n));
    }
    return loss;
}

static void test_dense_relu_gradients(void **state)
{
    (void)state;
    dense_case c = {.batch = 5};
    memset(&c.p, 0, sizeof c.p);
    c.a = col_dense_make(&c.p, "a", 7, 6);
    c.b = col_dense_make(&c.p, "b", 6, 4);
    col_params_alloc(&c.p);
    fill_uniform(c.p.value, c.p.n, -0.5f, 0.5f, 1);
    c.x = calloc(5 * 7, sizeof(float));
    c.h = calloc(5 * 6, sizeof(float));
    c.dh = calloc(5 * 6, sizeof(float));
    c.dx = calloc(5 * 7, sizeof(float));
    c.y = calloc(5 * 4, sizeof(float));
    c.dy = calloc(5 * 4, sizeof(float));
    c.weights = calloc(5 * 4, sizeof(float));
    fill_uniform(c.x, 35, -1.0f, 1.0f, 2);
    fill_uniform(c.weights, 20, -1.0f, 1.0f, 3);

    assert_true(gradcheck("dense+relu parameters", dense_loss, &c, c.p.value, c.p.n, 1e-3f) < TOLERANCE);
    c.check_input = 1;
    assert_true(gradcheck("dense+relu input", dense_loss, &c, c.x, 35, 1e-3f) < TOLERANCE);

    free(c.x); free(c.h); free(c.dh); free(c.dx); free(c.y); free(c.dy); free(c.weights);
    col_params_free(&c.p);
}

static void test_dense_matches_definition(void **state)
{
    (void)state;
    col_params p = {0};
    col_dense l = col_dense_make(&p, "l", 3, 2);
    col_params_alloc(&p);
    float w[6] = {1, 2, 3, 4, 5, 6}, b[2] = {0.5f, -1.0f}, x[3] = {1, -1, 2}, y[2];
    memcpy(p.value + l.weight, w, sizeof w);
    memcpy(p.value + l.bias, b, sizeof b);
    col_dense_forward(&l, &p, 1, x, y);
    /* y = W x + b with W stored [out, in] */
    assert_float_equal(y[0], 1 - 2 + 6 + 0.5f, 1e-6);
    assert_float_equal(y[1], 4 - 5 + 12 - 1.0f, 1e-6);
    col_params_free(&p);
}

/* ---------------------------------------------------------------- conv2d + max-pool */

typedef struct conv_case {
    col_params p;
    col_conv2d conv;
    int batch, check_input;
    float *x, *y, *pooled, *weights, *dpooled, *dy, *dx, *cols, *scratch;
    int32_t *argmax;
} conv_case;

/* loss = sum(weights * maxpool(conv(x))) */
static double conv_loss(void *ctx, float *grad)
{
    conv_case *c = ctx;
    const col_conv2d *l = &c->conv;
    size_t n_pooled = (size_t)c->batch * l->out_channels * (l->out_h / 2) * (l->out_w / 2);
    col_conv2d_forward(l, &c->p, c->batch, c->x, c->y, c->cols, c->scratch);
    col_maxpool2_forward(c->batch, l->out_channels, l->out_h, l->out_w, c->y, c->pooled, c->argmax);
    double loss = 0.0;
    for (size_t i = 0; i < n_pooled; i++)
        loss += (double)c->weights[i] * c->pooled[i];
    if (grad) {
        col_params_zero_grad(&c->p);
        memcpy(c->dpooled, c->weights, sizeof(float) * n_pooled);
        col_maxpool2_backward(c->batch, l->out_channels, l->out_h, l->out_w, c->dpooled, c->argmax, c->dy);
        col_conv2d_backward(l, &c->p, c->batch, c->dy, c->dx, c->cols, c->scratch);
        size_t n_in = (size_t)c->batch * l->in_channels * l->in_h * l->in_w;
        memcpy(grad, c->check_input ? c->dx : c->p.grad, sizeof(float) * (c->check_input ? n_in : c->p.n));
    }
    return loss;
}

static void test_conv_pool_gradients(void **state)
{
    (void)state;
    conv_case c = {.batch = 2};
    c.conv = col_conv2d_make(&c.p, "conv", 2, 3, 3, 1, 1, 6, 5);
    col_params_alloc(&c.p);
    fill_uniform(c.p.value, c.p.n, -0.5f, 0.5f, 4);
    size_t n_in = 2 * 2 * 6 * 5, n_out = 2 * 3 * 6 * 5, n_pooled = 2 * 3 * 3 * 2;
    c.x = calloc(n_in, sizeof(float));
    c.dx = calloc(n_in, sizeof(float));
    c.y = calloc(n_out, sizeof(float));
    c.dy = calloc(n_out, sizeof(float));
    c.pooled = calloc(n_pooled, sizeof(float));
    c.dpooled = calloc(n_pooled, sizeof(float));
    c.weights = calloc(n_pooled, sizeof(float));
    c.argmax = calloc(n_pooled, sizeof(int32_t));
    c.cols = calloc(col_conv2d_cols_size(&c.conv, 2), sizeof(float));
    c.scratch = calloc(col_conv2d_scratch_size(&c.conv, 2), sizeof(float));
    fill_uniform(c.x, n_in, -1.0f, 1.0f, 5);
    fill_uniform(c.weights, n_pooled, -1.0f, 1.0f, 6);
    assert_int_equal(c.conv.out_h, 6);
    assert_int_equal(c.conv.out_w, 5);

    /* a small step keeps each window's maximum where it is */
    assert_true(gradcheck("conv2d+maxpool parameters", conv_loss, &c, c.p.value, c.p.n, 1e-3f) < TOLERANCE);
    c.check_input = 1;
    assert_true(gradcheck("conv2d+maxpool input", conv_loss, &c, c.x, n_in, 1e-3f) < TOLERANCE);

    free(c.x); free(c.dx); free(c.y); free(c.dy); free(c.pooled); free(c.dpooled); free(c.weights);
    free(c.argmax); free(c.cols); free(c.scratch);
    col_params_free(&c.p);
}

static void test_conv_matches_direct_sum(void **state)
{
    (void)state;
    col_params p = {0};
    col_conv2d l = col_conv2d_make(&p, "c", 2, 2, 3, 1, 1, 4, 4);
    col_params_alloc(&p);
    fill_uniform(p.value, p.n, -1.0f, 1.0f, 7);
    float x[2 * 16], y[2 * 16], cols[2 * 9 * 16], scratch[2 * 16];
    fill_uniform(x, 32, -1.0f, 1.0f, 8);
    col_conv2d_forward(&l, &p, 1, x, y, cols, scratch);
    const float *w = p.value + l.weight, *b = p.value + l.bias;
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                double sum = b[k];
                for (int c = 0; c < 2; c++)
                    for (int di = 0; di < 3; di++)
                        for (int dj = 0; dj < 3; dj++) {
                            int ii = i + di - 1, jj = j + dj - 1;
                            if (ii >= 0 && ii < 4 && jj >= 0 && jj < 4)
                                sum += (double)w[((k * 2 + c) * 3 + di) * 3 + dj] * x[c * 16 + ii * 4 + jj];
                        }
                assert_float_equal(y[k * 16 + i * 4 + j], sum, 1e-5);
            }
    col_params_free(&p);
}

static void test_maxpool_floor_size(void **state)
{
    (void)state;
    /* 7x7 pools to 3x3: the last row and column are dropped, as in PyTorch */
    float x[49], y[9];
    int32_t arg[9];
    for (int i = 0; i < 49; i++)
        x[i] = (float)i;
    col_maxpool2_forward(1, 1, 7, 7, x, y, arg);
    assert_float_equal(y[0], 8.0f, 0);
    assert_float_equal(y[8], 5 * 7 + 5, 0);
    assert_int_equal(arg[8], 40);
}

/* ---------------------------------------------------------------- losses */

typedef struct vae_loss_case {
    int batch, d, latent, checked; /* gradient checked: 0 xhat, 1 mu, 2 logvar */
    float *x, *xhat, *mu, *logvar, *d_xhat, *d_mu, *d_logvar;
} vae_loss_case;

static double vae_loss_fn(void *ctx, float *grad)
{
    vae_loss_case *c = ctx;
    double recon, kl;
    double loss = col_vae_loss(c->batch, c->d, c->latent, c->x, c->xhat, c->mu, c->logvar, c->d_xhat, c->d_mu,
                               c->d_logvar, &recon, &kl);
    if (grad) {
        float *src = c->d_logvar;
        if (c->checked == 0)
            src = c->d_xhat;
        else if (c->checked == 1)
            src = c->d_mu;
        size_t n = (size_t)c->batch * (c->checked == 0 ? c->d : c->latent);
        memcpy(grad, src, n * sizeof(float));
    }
    return loss;
}

static void test_vae_loss_gradients(void **state)
{
    (void)state;
    float x[12], xhat[12], mu[6], logvar[6], dxh[12], dmu[6], dlv[6];
    vae_loss_case c = {3, 4, 2, 0, x, xhat, mu, logvar, dxh, dmu, dlv};
    fill_uniform(x, 12, -1, 1, 9);
    fill_uniform(xhat, 12, -1, 1, 10);
    fill_uniform(mu, 6, -1, 1, 11);
    fill_uniform(logvar, 6, -1, 1, 12);
    assert_true(gradcheck("VAE loss d/dxhat", vae_loss_fn, &c, xhat, 12, 1e-2f) < TOLERANCE);
    c.checked = 1;
    assert_true(gradcheck("VAE loss d/dmu", vae_loss_fn, &c, mu, 6, 1e-2f) < TOLERANCE);
    c.checked = 2;
    assert_true(gradcheck("VAE loss d/dlogvar", vae_loss_fn, &c, logvar, 6, 1e-2f) < TOLERANCE);

    /* the closed-form KL of N(mu, exp(logvar)) against N(0, 1) */
    double recon, kl;
    float one_mu = 1.0f, one_lv = 0.0f, zero = 0.0f, d1, d2, d3;
    col_vae_loss(1, 1, 1, &zero, &zero, &one_mu, &one_lv, &d1, &d2, &d3, &recon, &kl);
    assert_float_equal(kl, 0.5, 1e-7);
    assert_float_equal(recon, 0.0, 0);
}

typedef struct xent_case {
    int batch, classes;
    float *logits, *d;
    int32_t *labels;
} xent_case;

static double xent_fn(void *ctx, float *grad)
{
    xent_case *c = ctx;
    double loss = col_softmax_xent(c->batch, c->classes, c->logits, c->labels, 1.0f, c->d, NULL);
    if (grad)
        memcpy(grad, c->d, sizeof(float) * (size_t)c->batch * c->classes);
    return loss;
}

static void test_softmax_xent(void **state)
{
    (void)state;
    float logits[20], d[20];
    int32_t labels[4] = {0, 3, 4, 1};
    xent_case c = {4, 5, logits, d, labels};
    fill_uniform(logits, 20, -3, 3, 13);
    assert_true(gradcheck("softmax cross-entropy", xent_fn, &c, logits, 20, 1e-2f) < TOLERANCE);

    /* uniform logits: loss ln(C) per sample; huge logits stay finite */
    float flat[3] = {0, 0, 0}, huge[3] = {1000.0f, -1000.0f, 0.0f};
    int32_t label = 1;
    int correct = -1;
    assert_float_equal(col_softmax_xent(1, 3, flat, &label, 1.0f, NULL, NULL), log(3.0), 1e-6);
    double loss = col_softmax_xent(1, 3, huge, &label, 1.0f, NULL, &correct);
    assert_float_equal(loss, 2000.0, 1e-3);
    assert_int_equal(correct, 0);
}

/* ---------------------------------------------------------------- Adam */

static void test_adam_matches_hand_computation(void **state)
{
    (void)state;
    col_params p = {0};
    col_params_add(&p, "w", 1, (int[]){1}, 1);
    col_params_alloc(&p);
    p.value[0] = 1.0f;

    /* step 1: m = 0.05, v = 0.00025, corrected 0.5 and 0.25: w = 1 - 0.1 * 0.5 / 0.5 = 0.9 */
    p.grad[0] = 0.5f;
    col_adam_step(&p, 0.1f, 0.9f, 0.999f, 1e-8f);
    assert_float_equal(p.value[0], 0.9f, 1e-6);
    assert_float_equal(p.adam_m[0], 0.05f, 1e-7);
    assert_float_equal(p.adam_v[0], 0.00025f, 1e-8);

    /* step 2 with gradient -1 */
    p.grad[0] = -1.0f;
    col_adam_step(&p, 0.1f, 0.9f, 0.999f, 1e-8f);
    double m = 0.9 * 0.05 - 0.1, v = 0.999 * 0.00025 + 0.001;
    double expected = 0.9 - 0.1 * (m / (1 - 0.81)) / (sqrt(v / (1 - 0.999 * 0.999)) + 1e-8);
    assert_float_equal(p.value[0], expected, 1e-6);
    assert_float_equal(p.value[0], 0.936610, 1e-5);
    assert_int_equal(p.adam_step, 2);
    col_params_free(&p);
}

static void test_init_bounds(void **state)
{
    (void)state;
    col_params p = {0};
    col_dense l = col_dense_make(&p, "l", 100, 50);
    col_params_alloc(&p);
    col_params_init_uniform(&p, col_rng_make_key(1, "test"), 0, COL_RNG_TEST);
    float bound = 0.1f; /* 1 / sqrt(100) */
    float lo = 1, hi = -1;
    for (size_t i = 0; i < p.n; i++) {
        lo = fminf(lo, p.value[i]);
        hi = fmaxf(hi, p.value[i]);
    }
    assert_true(lo >= -bound && hi <= bound);
    assert_true(lo < -0.09f && hi > 0.09f); /* the whole range is used */
    (void)l;
    col_params_free(&p);
}

static void test_all_finite(void **state)
{
    (void)state;
    float x[4] = {1, 2, 3, 4};
    assert_true(col_all_finite(x, 4));
    x[2] = NAN;
    assert_false(col_all_finite(x, 4));
    x[2] = INFINITY;
    assert_false(col_all_finite(x, 4));
}

/* ---------------------------------------------------------------- RNG */

static void test_rng_permutation_and_determinism(void **state)
{
    (void)state;
    col_rng_key key = col_rng_make_key(42, "mnist");
    int32_t perm[1000], again[1000];
    int seen[1000] = {0};
    col_rng_permutation(key, 3, COL_RNG_SHUFFLE_VAE, 7, 1000, perm);
    col_rng_permutation(key, 3, COL_RNG_SHUFFLE_VAE, 7, 1000, again);
    for (int i = 0; i < 1000; i++) {
        assert_true(perm[i] >= 0 && perm[i] < 1000);
        seen[perm[i]]++;
        assert_int_equal(perm[i], again[i]);
    }
    for (int i = 0; i < 1000; i++)
        assert_int_equal(seen[i], 1);
    /* another epoch gives another order */
    col_rng_permutation(key, 3, COL_RNG_SHUFFLE_VAE, 8, 1000, again);
    assert_true(memcmp(perm, again, sizeof perm) != 0);
}

static void test_rng_normal_moments(void **state)
{
    (void)state;
    col_rng_key key = col_rng_make_key(7, "mnist");
    double sum = 0, sum2 = 0;
    float z[20];
    for (int i = 0; i < 5000; i++) {
        col_rng_normal(key, 0, COL_RNG_LATENT, 0, (uint32_t)i, z, 20);
        for (int j = 0; j < 20; j++) {
            sum += z[j];
            sum2 += (double)z[j] * z[j];
        }
    }
    double n = 100000, mean = sum / n, var = sum2 / n - mean * mean;
    assert_true(fabs(mean) < 0.02);
    assert_true(fabs(var - 1.0) < 0.02);
    /* different data set names give different keys */
    col_rng_key other = col_rng_make_key(7, "fashion");
    assert_true(other.k[1] != key.k[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_matches_definition),
        cmocka_unit_test(test_dense_relu_gradients),
        cmocka_unit_test(test_conv_matches_direct_sum),
        cmocka_unit_test(test_conv_pool_gradients),
        cmocka_unit_test(test_maxpool_floor_size),
        cmocka_unit_test(test_vae_loss_gradients),
        cmocka_unit_test(test_softmax_xent),
        cmocka_unit_test(test_adam_matches_hand_computation),
        cmocka_unit_test(test_init_bounds),
        cmocka_unit_test(test_all_finite),
        cmocka_unit_test(test_rng_permutation_and_determinism),
        cmocka_unit_test(test_rng_normal_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
