/*
 * NaN detection in data-parallel training, on 2 ranks: one poisoned sample makes every rank
 * stop at the same batch with a message naming generation, model, epoch and batch, and no
 * rank applies the poisoned step to its weights.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/pipeline/internal.h"
#include "collapse/log.h"

static col_dist dist;

static col_member small_member(void)
{
    col_member m;
    memset(&m, 0, sizeof m);
    m.seed = 3;
    snprintf(m.name, sizeof m.name, "poison-s3");
    snprintf(m.data.name, sizeof m.data.name, "poison");
    m.batch_size = 32;
    m.vae = (col_vae_config){.n_hidden = 1, .hidden = {16}, .latent = 4, .epochs = 2, .learning_rate = 1e-3};
    m.classifier = (col_classifier_config){.type = COL_CLASSIFIER_MLP, .n_hidden = 1, .hidden = {16}, .epochs = 2,
                                           .learning_rate = 1e-3};
    return m;
}

/* Runs one phase on 100 samples of 4x4 pixels with sample `poisoned` set to NaN (-1: none). */
static int run_phase(int classifier, int poisoned, col_error *err, int *finite_after)
{
    float x[100 * 16];
    int32_t y[100];
    for (int i = 0; i < 100 * 16; i++)
        x[i] = (float)((i * 37) % 11) / 11.0f - 0.5f;
    for (int i = 0; i < 100; i++)
        y[i] = i % 3;
    if (poisoned >= 0)
        x[poisoned * 16 + 5] = NAN;
    col_member m = small_member();
    member_run r;
    train_only_setup(&r, &m, &dist, x, y, 100, 4, 4, 3);
    int done = 0;
    int rc = classifier ? train_classifier(&r, 0, 0, &done, err) : train_vae(&r, 0, 0, &done, err);
    const col_params *p = classifier ? &r.cls.params : &r.vae.params;
    *finite_after = col_all_finite(p->value, p->n) && col_all_finite(p->adam_m, p->n);
    train_only_teardown(&r);
    return rc;
}

static void test_clean_training_passes(void **state)
{
    (void)state;
    col_error err;
    int finite;
    assert_int_equal(run_phase(0, -1, &err, &finite), 0);
    assert_true(finite);
    assert_int_equal(run_phase(1, -1, &err, &finite), 0);
    assert_true(finite);
}

static void test_nan_stops_every_rank(void **state)
{
    (void)state;
    for (int model = 0; model < 2; model++) {
        col_error err = {{0}};
        int finite = 0;
        int rc = run_phase(model, 57, &err, &finite);
        /* every rank stops, whichever rank's shard held the sample */
        assert_int_equal(rc, -1);
        assert_true(finite);
        assert_non_null(strstr(err.msg, "member poison-s3, generation 0"));
        assert_non_null(strstr(err.msg, model ? "classifier epoch 1, batch" : "VAE epoch 1, batch"));
        assert_non_null(strstr(err.msg, "NaN or Inf"));
        /* all ranks name the same batch */
        char *batch = strstr(err.msg, "batch ");
        int number = batch ? atoi(batch + 6) : -1, low = number, high = number;
        MPI_Allreduce(MPI_IN_PLACE, &low, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        MPI_Allreduce(MPI_IN_PLACE, &high, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        assert_true(number >= 1);
        assert_int_equal(low, high);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    char msg[256];
    if (col_dist_init(&dist, 0, msg, sizeof msg))
        return 1;
    col_log_enable(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_training_passes),
        cmocka_unit_test(test_nan_stops_every_rank),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    col_dist_finalize(&dist);
    MPI_Finalize();
    return failed ? 1 : 0;
}
