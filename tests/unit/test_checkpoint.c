/* Unit tests of HDF5 checkpoints: round trip, validation of damaged files, in-progress state. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <hdf5.h>

#include "collapse/checkpoint.h"
#include "collapse/models.h"

typedef struct fixture {
    char dir[64], path[128];
    col_vae vae;
    col_classifier cls;
    float images[5 * 16];
    int32_t labels[5];
    col_metrics metrics;
    double epochs[3], eval[2];
    char names[3][32];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/collapse-ckpt-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/gen-001.h5", f->dir);
    col_vae_create(&f->vae, 16, (int[]){8}, 1, 2, 4);
    col_classifier_create(&f->cls, COL_CLASSIFIER_MLP, 4, 4, NULL, 0, (int[]){6}, 1, 3, 4);
    col_params_init_uniform(&f->vae.params, col_rng_make_key(1, "t"), 0, COL_RNG_TEST);
    col_params_init_uniform(&f->cls.params, col_rng_make_key(2, "t"), 0, COL_RNG_TEST);
    for (size_t i = 0; i < f->vae.params.n; i++) {
        f->vae.params.adam_m[i] = 0.001f * (float)i;
        f->vae.params.adam_v[i] = 0.002f * (float)i;
    }
    f->vae.params.adam_step = 17;
    for (int i = 0; i < 80; i++)
        f->images[i] = (float)i / 80.0f - 0.5f;
    for (int i = 0; i < 5; i++)
        f->labels[i] = i % 3;
    f->metrics = (col_metrics){.vae_epochs = 3, .classifier_epochs = 3, .vae_loss = f->epochs, .vae_recon = f->epochs,
                               .vae_kl = f->epochs, .classifier_loss = f->epochs,
                               .classifier_train_accuracy = f->epochs, .n_eval = 2, .eval_loss = f->eval,
                               .eval_accuracy = f->eval, .test_accuracy = 0.5, .n_classes = 3};
    strcpy(f->names[0], "a");
    strcpy(f->names[1], "b");
    strcpy(f->names[2], "c");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    col_vae_destroy(&f->vae);
    col_classifier_destroy(&f->cls);
    free(f);
    return 0;
}

static int write_fixture(fixture *f, const char *path)
{
    col_checkpoint c = {.member = "m-s1", .dataset = "m", .config_text = "generations = 2;\n",
                        .data_fingerprint = "sha256:abc", .settings = "seed = 1\n", .seed = 1,
                        .generation = 1, .n_ranks = 2, .n_classes = 3, .rng_key = {1, 2},
                        .data_mean = 0.1, .data_std = 0.3, .class_names = (const char(*)[32])f->names,
                        .vae = &f->vae.params, .classifier = &f->cls.params, .n_generated = 5, .rows = 4,
                        .cols = 4, .images = f->images, .labels = f->labels, .metrics = &f->metrics};
    col_error err;
    int rc = col_checkpoint_write(path, &c, &err);
    if (rc)
        printf("write failed: %s\n", err.msg);
    return rc;
}

static void test_checkpoint_round_trip(void **state)
{
    fixture *f = *state;
    assert_int_equal(write_fixture(f, f->path), 0);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
    assert_int_equal(access(tmp, F_OK), -1); /* no temporary left behind */

    col_checkpoint_info info;
    col_error err;
    assert_int_equal(col_checkpoint_validate(f->path, &info, &err), 0);
    assert_int_equal(info.generation, 1);
    assert_int_equal(info.n_generated, 5);
    assert_int_equal(info.rows, 4);
    assert_string_equal(info.member, "m-s1");
    assert_string_equal(info.fingerprint, "sha256:abc");
    assert_string_equal(info.settings, "seed = 1\n");
    assert_string_equal(info.config_text, "generations = 2;\n");
    col_checkpoint_info_free(&info);

    /* parameters and Adam state come back exactly */
    col_vae copy;
    col_vae_create(&copy, 16, (int[]){8}, 1, 2, 4);
    assert_int_equal(col_checkpoint_read_params(f->path, "vae", &copy.params, 1, &err), 0);
    assert_memory_equal(copy.params.value, f->vae.params.value, sizeof(float) * copy.params.n);
    assert_memory_equal(copy.params.adam_m, f->vae.params.adam_m, sizeof(float) * copy.params.n);
    assert_memory_equal(copy.params.adam_v, f->vae.params.adam_v, sizeof(float) * copy.params.n);
    assert_int_equal(copy.params.adam_step, 17);
    col_vae_destroy(&copy);

    float images[80];
    int32_t labels[5];
    assert_int_equal(col_checkpoint_read_generated(f->path, images, labels, 5, 16, &err), 0);
    assert_memory_equal(images, f->images, sizeof images);
    assert_memory_equal(labels, f->labels, sizeof labels);

    /* a model of another shape does not load */
    col_vae other;
    col_vae_create(&other, 16, (int[]){9}, 1, 2, 4);
    assert_int_equal(col_checkpoint_read_params(f->path, "vae", &other.params, 1, &err), -1);
    assert_non_null(strstr(err.msg, "does not match the configured model"));
    col_vae_destroy(&other);
    /* a wrong sample count does not load */
    assert_int_equal(col_checkpoint_read_generated(f->path, images, labels, 4, 16, &err), -1);
}

static void test_checkpoint_rejects_damage(void **state)
{
    fixture *f = *state;
    col_checkpoint_info info;
    col_error err;
    assert_int_equal(write_fixture(f, f->path), 0);

    /* truncated to half its size */
    char cut[160], cmd[800];
    snprintf(cut, sizeof cut, "%s/cut.h5", f->dir);
    snprintf(cmd, sizeof cmd, "head -c $(( $(stat -c %%s %s) / 2 )) %s > %s", f->path, f->path, cut);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(col_checkpoint_validate(cut, &info, &err), -1);
    printf("truncated: %s\n", err.msg);

    /* not HDF5 at all */
    snprintf(cmd, sizeof cmd, "echo '<html>not found</html>' > %s", cut);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(col_checkpoint_validate(cut, &info, &err), -1);
    assert_non_null(strstr(err.msg, "is not an HDF5 file"));

    /* missing data set */
    snprintf(cmd, sizeof cmd, "cp %s %s", f->path, cut);
    assert_int_equal(system(cmd), 0);
    hid_t file = H5Fopen(cut, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_true(H5Ldelete(file, "/generated/labels", H5P_DEFAULT) >= 0);
    H5Fclose(file);
    assert_int_equal(col_checkpoint_validate(cut, &info, &err), -1);
    assert_non_null(strstr(err.msg, "/generated/labels is missing"));

    /* NaN weights */
    f->vae.params.value[3] = NAN;
    assert_int_equal(write_fixture(f, cut), 0);
    assert_int_equal(col_checkpoint_validate(cut, &info, &err), -1);
    assert_non_null(strstr(err.msg, "/vae/params/enc0.weight contains NaN or Inf"));
    col_vae copy;
    col_vae_create(&copy, 16, (int[]){8}, 1, 2, 4);
    assert_int_equal(col_checkpoint_read_params(cut, "vae", &copy.params, 1, &err), -1);
    assert_non_null(strstr(err.msg, "NaN or Inf"));
    col_vae_destroy(&copy);

    /* missing file */
    assert_int_equal(col_checkpoint_validate("/nonexistent/gen-000.h5", &info, &err), -1);
    assert_non_null(strstr(err.msg, "cannot read"));
}

static void test_progress_round_trip(void **state)
{
    fixture *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/progress.h5", f->dir);
    double loss[3] = {3, 2, 0}, cls[3] = {0};
    col_metrics m = {.vae_epochs = 3, .classifier_epochs = 3, .vae_loss = loss, .vae_recon = loss,
                     .vae_kl = loss, .classifier_loss = cls, .classifier_train_accuracy = cls};
    col_progress p = {.generation = 4, .phase = 0, .epochs_done = 2, .settings = "s", .data_fingerprint = "fp",
                      .vae = &f->vae.params, .classifier = NULL, .metrics = &m};
    col_error err;
    assert_int_equal(col_progress_write(path, &p, &err), 0);

    col_vae copy;
    col_vae_create(&copy, 16, (int[]){8}, 1, 2, 4);
    double loss2[3] = {0}, cls2[3] = {0};
    col_metrics m2 = {.vae_epochs = 3, .classifier_epochs = 3, .vae_loss = loss2, .vae_recon = loss2,
                      .vae_kl = loss2, .classifier_loss = cls2, .classifier_train_accuracy = cls2};
    col_progress q = {.settings = "s", .data_fingerprint = "fp", .vae = &copy.params, .classifier = &f->cls.params,
                      .metrics = &m2};
    assert_int_equal(col_progress_read(path, &q, &err), 0);
    assert_int_equal(q.generation, 4);
    assert_int_equal(q.epochs_done, 2);
    assert_float_equal(loss2[1], 2.0, 0);
    assert_memory_equal(copy.params.value, f->vae.params.value, sizeof(float) * copy.params.n);

    /* other settings are refused */
    q.settings = "other";
    assert_int_equal(col_progress_read(path, &q, &err), -1);
    assert_non_null(strstr(err.msg, "different member settings"));
    col_vae_destroy(&copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_checkpoint_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_rejects_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
