/* Unit tests of the models: whole-model gradient checks and the logvar clamp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collapse/models.h"
#include "gradcheck.h"

#define TOLERANCE 3e-2

typedef struct vae_case {
    col_vae m;
    int batch;
    float *x, *eps;
} vae_case;

static double vae_fn(void *ctx, float *grad)
{
    vae_case *c = ctx;
    double recon, kl;
    col_params_zero_grad(&c->m.params);
    double loss = col_vae_train_batch(&c->m, c->batch, c->x, c->eps, &recon, &kl);
    if (grad)
        memcpy(grad, c->m.params.grad, sizeof(float) * c->m.params.n);
    return loss;
}

static void test_vae_gradients(void **state)
{
    (void)state;
    vae_case c = {.batch = 4};
    col_vae_create(&c.m, 12, (int[]){8, 6}, 2, 3, 4);
    col_params_init_uniform(&c.m.params, col_rng_make_key(1, "t"), 0, COL_RNG_TEST);
    c.x = calloc(4 * 12, sizeof(float));
    c.eps = calloc(4 * 3, sizeof(float));
    fill_uniform(c.x, 48, -1, 1, 1);
    fill_uniform(c.eps, 12, -1.5f, 1.5f, 2);
    assert_int_equal(c.m.params.n_tensors, 14);
    assert_true(gradcheck("whole VAE", vae_fn, &c, c.m.params.value, c.m.params.n, 1e-3f) < TOLERANCE);
    free(c.x);
    free(c.eps);
    col_vae_destroy(&c.m);
}

static void test_vae_logvar_clamp(void **state)
{
    (void)state;
    /* a huge logvar bias must not overflow exp(): the clamp keeps the loss finite and passes
       no gradient to the clamped head */
    col_vae m;
    col_vae_create(&m, 4, (int[]){3}, 1, 2, 2);
    col_params_init_uniform(&m.params, col_rng_make_key(2, "t"), 0, COL_RNG_TEST);
    float *bias = m.params.value + m.logvar.bias;
    bias[0] = bias[1] = 500.0f;
    float x[8] = {0.1f, 0.2f, 0.3f, 0.4f, -0.1f, -0.2f, -0.3f, -0.4f}, eps[4] = {0.5f, -0.5f, 0.1f, 0.2f};
    double recon, kl;
    col_params_zero_grad(&m.params);
    double loss = col_vae_train_batch(&m, 2, x, eps, &recon, &kl);
    assert_true(isfinite(loss));
    assert_true(col_all_finite(m.params.grad, m.params.n));
    const float *g = m.params.grad + m.logvar.bias;
    assert_float_equal(g[0], 0.0f, 0);
    assert_float_equal(g[1], 0.0f, 0);
    col_vae_destroy(&m);
}

typedef struct classifier_case {
    col_classifier m;
    int batch;
    float *x;
    int32_t *labels;
} classifier_case;

static double classifier_fn(void *ctx, float *grad)
{
    classifier_case *c = ctx;
    int correct;
    col_params_zero_grad(&c->m.params);
    double loss = col_classifier_train_batch(&c->m, c->batch, c->x, c->labels, 1.0f / c->batch, &correct);
    if (grad)
        memcpy(grad, c->m.params.grad, sizeof(float) * c->m.params.n);
    return loss / c->batch;
}

static void test_mlp_gradients(void **state)
{
    (void)state;
    classifier_case c = {.batch = 5};
    col_classifier_create(&c.m, COL_CLASSIFIER_MLP, 4, 4, NULL, 0, (int[]){10, 8}, 2, 3, 5);
    col_params_init_uniform(&c.m.params, col_rng_make_key(3, "t"), 0, COL_RNG_TEST);
    c.x = calloc(5 * 16, sizeof(float));
    c.labels = (int32_t[]){0, 2, 1, 1, 0};
    fill_uniform(c.x, 80, -1, 1, 3);
    assert_true(gradcheck("MLP classifier", classifier_fn, &c, c.m.params.value, c.m.params.n, 1e-3f) < TOLERANCE);
    free(c.x);
    col_classifier_destroy(&c.m);
}

static void test_cnn_gradients(void **state)
{
    (void)state;
    classifier_case c = {.batch = 3};
    col_classifier_create(&c.m, COL_CLASSIFIER_CNN, 8, 8, (int[]){3, 4}, 2, (int[]){6}, 1, 4, 3);
    col_params_init_uniform(&c.m.params, col_rng_make_key(4, "t"), 0, COL_RNG_TEST);
    assert_int_equal(c.m.flat_dim, 4 * 2 * 2);
    c.x = calloc(3 * 64, sizeof(float));
    c.labels = (int32_t[]){3, 0, 1};
    fill_uniform(c.x, 192, -1, 1, 4);
    assert_true(gradcheck("CNN classifier", classifier_fn, &c, c.m.params.value, c.m.params.n, 2e-4f) < TOLERANCE);
    free(c.x);
    col_classifier_destroy(&c.m);
}

static void test_emnist_cnn_shapes(void **state)
{
    (void)state;
    /* three convolutions with 2x2 pooling take 28x28 to 3x3 (floor), so 128 * 9 features */
    col_classifier m;
    col_classifier_create(&m, COL_CLASSIFIER_CNN, 28, 28, (int[]){32, 64, 128}, 3, (int[]){256, 128}, 2, 47, 2);
    assert_int_equal(m.flat_dim, 1152);
    const col_tensor *t = col_params_find(&m.params, "conv1.weight");
    assert_non_null(t);
    assert_int_equal(t->shape[0], 64);
    assert_int_equal(t->shape[1], 32);
    assert_int_equal(t->shape[2], 3);
    assert_non_null(col_params_find(&m.params, "out.bias"));
    col_classifier_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vae_gradients),
        cmocka_unit_test(test_vae_logvar_clamp),
        cmocka_unit_test(test_mlp_gradients),
        cmocka_unit_test(test_cnn_gradients),
        cmocka_unit_test(test_emnist_cnn_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
