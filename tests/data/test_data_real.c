/*
 * The real data sets: MNIST from COLLAPSE_MNIST_DIR, the EMNIST files in COLLAPSE_EMNIST_DIR
 * (ByMerge test split as a training pool, MNIST-split test files), and Debian's Fashion-MNIST
 * in COLLAPSE_FASHION_DIR. A missing file fails the test with its path; nothing is skipped.
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

#include "collapse/data.h"
#include "data_test_util.h"

#define IMAGE_BYTES (28 * 28)
#define BYMERGE_POOL 116323

static int setup(void **state)
{
    *state = temp_dir_create();
    return 0;
}

static int teardown(void **state)
{
    temp_dir_remove(*state);
    return 0;
}

static void require_in(const char *dir, const char *name, const char *what)
{
    char path[COL_PATH_MAX];
    require_file(path_in(dir, name, path), what);
}

static void load_or_fail(const col_data_spec *spec, col_image_set *train, col_image_set *test,
                         col_data_info *info)
{
    col_error err = {""};
    if (col_data_load(spec, train, test, info, &err) != 0)
        fail_msg("loading %s failed: %s", spec->kind, err.msg);
}

static void count_classes(const col_image_set *set, int *counts)
{
    memset(counts, 0, COL_MAX_CLASSES * sizeof *counts);
    for (int i = 0; i < set->n; i++)
        counts[set->labels[i]]++;
}

/* Mean image of the images of one class, in pixel units. */
static void mean_image(const col_image_set *set, int label, double *mean)
{
    memset(mean, 0, IMAGE_BYTES * sizeof *mean);
    int n = 0;
    for (int i = 0; i < set->n; i++) {
        if (set->labels[i] != label)
            continue;
        for (int p = 0; p < IMAGE_BYTES; p++)
            mean[p] += set->pixels[(size_t)i * IMAGE_BYTES + p];
        n++;
    }
    assert_true(n > 0);
    for (int p = 0; p < IMAGE_BYTES; p++)
        mean[p] /= n;
}

/* Pearson correlation of two images; transpose_b reads b with rows and columns swapped. */
static double correlation(const double *a, const double *b, int transpose_b)
{
    double ma = 0, mb = 0;
    for (int p = 0; p < IMAGE_BYTES; p++) {
        ma += a[p];
        mb += b[p];
    }
    ma /= IMAGE_BYTES;
    mb /= IMAGE_BYTES;
    double sab = 0, saa = 0, sbb = 0;
    for (int r = 0; r < 28; r++)
        for (int c = 0; c < 28; c++) {
            double x = a[r * 28 + c] - ma;
            double y = (transpose_b ? b[c * 28 + r] : b[r * 28 + c]) - mb;
            sab += x * y;
            saa += x * x;
            sbb += y * y;
        }
    return sab / sqrt(saa * sbb);
}

static void mnist_loads_with_checksums(void **state)
{
    (void)state;
    const char *names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    for (int i = 0; i < 4; i++)
        require_in(COLLAPSE_MNIST_DIR, names[i], "MNIST file");

    col_data_spec spec;
    col_data_spec_init(&spec);
    snprintf(spec.kind, sizeof spec.kind, "mnist");
    snprintf(spec.dir, sizeof spec.dir, "%s", COLLAPSE_MNIST_DIR);
    col_image_set train, test;
    col_data_info info;
    load_or_fail(&spec, &train, &test, &info);

    assert_int_equal(train.n, 60000);
    assert_int_equal(test.n, 10000);
    assert_int_equal(info.n_classes, 10);
    assert_int_equal(info.transposed_on_disk, 0);
    assert_string_equal(info.class_names[7], "7");
    assert_string_equal(info.checksums[0], "md5:6bbc9ace898e44ae57da46a324031adb");
    assert_string_equal(info.checksums[1], "md5:a25bea736e30d166cdddb491f175f624");
    assert_string_equal(info.checksums[2], "md5:2646ac647ad5339dbf082846283269ea");
    assert_string_equal(info.checksums[3], "md5:27ae3e4e09519cfbb04c329615203637");

    /* well-known facts of MNIST: the first labels and the class sizes of the training set */
    assert_int_equal(train.labels[0], 5);
    assert_int_equal(test.labels[0], 7);
    const int train_counts[10] = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
    int counts[COL_MAX_CLASSES];
    count_classes(&train, counts);
    for (int c = 0; c < 10; c++)
        assert_int_equal(counts[c], train_counts[c]);

    double mean, std;
    col_pixel_stats(&train, &mean, &std);
    print_message("MNIST train pixel mean %.6f std %.6f\n", mean, std);
    assert_float_equal(mean, 0.1307, 5e-5);
    assert_float_equal(std, 0.3081, 5e-5);
    col_image_set_free(&train);
    col_image_set_free(&test);
}

static void emnist_bymerge_pool_with_holdout(void **state)
{
    (void)state;
    require_in(COLLAPSE_EMNIST_DIR, "emnist-bymerge-test-images-idx3-ubyte.gz", "EMNIST file");
    require_in(COLLAPSE_EMNIST_DIR, "emnist-bymerge-test-labels-idx1-ubyte.gz", "EMNIST file");
    require_in(COLLAPSE_EMNIST_DIR, "emnist-bymerge-mapping.txt", "EMNIST mapping");

    col_data_spec spec;
    col_data_spec_init(&spec);
    snprintf(spec.kind, sizeof spec.kind, "emnist");
    snprintf(spec.split, sizeof spec.split, "bymerge");
    snprintf(spec.dir, sizeof spec.dir, "%s", COLLAPSE_EMNIST_DIR);
    snprintf(spec.train_images, sizeof spec.train_images, "emnist-bymerge-test-images-idx3-ubyte.gz");
    snprintf(spec.train_labels, sizeof spec.train_labels, "emnist-bymerge-test-labels-idx1-ubyte.gz");
    snprintf(spec.mapping, sizeof spec.mapping, "emnist-balanced-mapping.txt");

    /* without holdout the default test files are the training files */
    col_image_set train, test;
    col_data_info info;
    col_error err = {""};
    assert_int_equal(col_data_load(&spec, &train, &test, &info, &err), -1);
    expect_error(&err, "the test images are the training images");

    spec.holdout = 16323;
    load_or_fail(&spec, &train, &test, &info);
    assert_int_equal(train.n + test.n, BYMERGE_POOL);
    assert_int_equal(train.n, 100000);
    assert_int_equal(test.n, 16323);
    assert_int_equal(info.n_classes, 47);
    assert_int_equal(train.n_classes, 47);
    assert_int_equal(info.transposed_on_disk, 1);
    assert_string_equal(info.class_names[10], "A");
    assert_string_equal(info.class_names[36], "a");
    assert_string_equal(info.class_names[46], "t");
    assert_string_equal(info.checksums[0],
                        "sha256:5e5815ec1b522089134435f7c55e75a00960b58414793593ffff23efc0821683");
    assert_string_equal(info.checksums[1],
                        "sha256:8bda1516255683ba9071e141947ca0c91a911176065cdd6259b0b4d8dc5b5f35");
    assert_string_equal(info.test_images, "");

    /* every class occurs, 415 to 6,400 times in the pool */
    int counts[COL_MAX_CLASSES], test_counts[COL_MAX_CLASSES];
    count_classes(&train, counts);
    count_classes(&test, test_counts);
    int smallest = BYMERGE_POOL, largest = 0;
    for (int c = 0; c < 47; c++) {
        int total = counts[c] + test_counts[c];
        smallest = total < smallest ? total : smallest;
        largest = total > largest ? total : largest;
    }
    assert_int_equal(smallest, 415);
    assert_int_equal(largest, 6400);
    col_image_set_free(&train);
    col_image_set_free(&test);

    /* the class-balanced subset: 415 per class, the mapping found next to the files */
    spec.mapping[0] = '\0';
    spec.balance_per_class = 415;
    spec.holdout = 1505;
    load_or_fail(&spec, &train, &test, &info);
    assert_int_equal(train.n, 18000);
    assert_int_equal(test.n, 1505);
    count_classes(&train, counts);
    count_classes(&test, test_counts);
    for (int c = 0; c < 47; c++)
        assert_int_equal(counts[c] + test_counts[c], 415);
    assert_string_equal(info.class_names[10], "A");
    col_image_set_free(&train);
    col_image_set_free(&test);

    spec.balance_per_class = 416;
    assert_int_equal(col_data_load(&spec, &train, &test, &info, &err), -1);
    expect_error(&err, "has only 415 images");
}

static void emnist_upright_like_mnist(void **state)
{
    /* the EMNIST digits, transposed on load, must line up with MNIST digits */
    char zip[COL_PATH_MAX];
    const char *files[3] = {"emnist-mnist-test-images-idx3-ubyte.gz",
                            "emnist-mnist-test-labels-idx1-ubyte.gz", "emnist-mnist-mapping.txt"};
    uint8_t *bytes[3];
    size_t n[3];
    for (int i = 0; i < 3; i++) {
        char path[COL_PATH_MAX];
        require_file(path_in(COLLAPSE_EMNIST_DIR, files[i], path), "EMNIST file");
        bytes[i] = read_bytes(path, &n[i]);
    }
    require_in(COLLAPSE_MNIST_DIR, "t10k-images-idx3-ubyte", "MNIST file");

    /* NIST's layout: the files as members of gzip.zip under gzip/ */
    zip_entry entries[3];
    char names[3][96];
    for (int i = 0; i < 3; i++) {
        snprintf(names[i], sizeof names[i], "gzip/%s", files[i]);
        entries[i] = (zip_entry){names[i], bytes[i], n[i], 1};
    }
    write_zip(path_in(*state, "gzip.zip", zip), entries, 3);

    col_data_spec spec;
    col_data_spec_init(&spec);
    snprintf(spec.kind, sizeof spec.kind, "emnist");
    snprintf(spec.split, sizeof spec.split, "mnist");
    snprintf(spec.dir, sizeof spec.dir, "%s", zip);
    snprintf(spec.train_images, sizeof spec.train_images, "gzip/%s", files[0]);
    snprintf(spec.train_labels, sizeof spec.train_labels, "gzip/%s", files[1]);
    spec.holdout = 2000;
    col_image_set emnist, emnist_test, mnist, mnist_test;
    col_data_info info;
    load_or_fail(&spec, &emnist, &emnist_test, &info);
    assert_int_equal(emnist.n, 8000);
    assert_int_equal(emnist_test.n, 2000);
    assert_string_equal(info.checksums[0],
                        "sha256:b25640fa9e356c618132f5df347c95ef5bae6d9c2596be1de40f7e0ae1c3eac6");
    assert_string_equal(info.class_names[3], "3");

    col_data_spec_init(&spec);
    snprintf(spec.kind, sizeof spec.kind, "mnist");
    snprintf(spec.dir, sizeof spec.dir, "%s", COLLAPSE_MNIST_DIR);
    load_or_fail(&spec, &mnist, &mnist_test, &info);

    /* digit 1, a vertical stroke, turns into a horizontal one if the orientation is wrong */
    double *a = calloc(IMAGE_BYTES, sizeof *a), *b = calloc(IMAGE_BYTES, sizeof *b);
    for (int digit = 0; digit < 10; digit++) {
        mean_image(&emnist, digit, a);
        mean_image(&mnist_test, digit, b);
        double upright = correlation(a, b, 0), transposed = correlation(a, b, 1);
        print_message("digit %d: mean-image correlation with MNIST %.3f, transposed %.3f\n",
                      digit, upright, transposed);
        assert_true(upright > 0.4);
        assert_true(upright > transposed);
        if (digit == 1)
            assert_true(upright > transposed + 0.3);
    }

    free(a);
    free(b);
    for (int i = 0; i < 3; i++)
        free(bytes[i]);
    col_image_set_free(&emnist);
    col_image_set_free(&emnist_test);
    col_image_set_free(&mnist);
    col_image_set_free(&mnist_test);
}

static void fashion_mnist_loads(void **state)
{
    (void)state;
    const char *names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (int i = 0; i < 4; i++)
        require_in(COLLAPSE_FASHION_DIR, names[i], "Fashion-MNIST file");

    col_data_spec spec;
    col_data_spec_init(&spec);
    snprintf(spec.kind, sizeof spec.kind, "fashion-mnist");
    snprintf(spec.dir, sizeof spec.dir, "%s", COLLAPSE_FASHION_DIR);
    col_image_set train, test;
    col_data_info info;
    load_or_fail(&spec, &train, &test, &info);

    assert_int_equal(train.n, 60000);
    assert_int_equal(test.n, 10000);
    assert_int_equal(info.n_classes, 10);
    assert_string_equal(info.class_names[0], "T-shirt/top");
    assert_string_equal(info.class_names[9], "Ankle boot");

    /* the published .gz bytes, or (Debian's re-packed files) the published uncompressed data */
    const char *gz_md5[4] = {"8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                             "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"};
    const char *raw_md5[4] = {"f4a8712d7a061bf5bd6d2ca38dc4d50a", "9018921c3c673c538a1fc5bad174d6f9",
                              "8181f5470baa50b63fa0f6fddb340f0a", "15d484375f8d13e6eb1aabb0c3f46965"};
    for (int i = 0; i < 4; i++) {
        char file_digest[80], content_digest[80];
        snprintf(file_digest, sizeof file_digest, "md5:%s", gz_md5[i]);
        snprintf(content_digest, sizeof content_digest, "md5-decompressed:%s", raw_md5[i]);
        print_message("%s: %s\n", names[i], info.checksums[i]);
        if (strcmp(info.checksums[i], file_digest) != 0 &&
            strcmp(info.checksums[i], content_digest) != 0)
            fail_msg("%s: checksum \"%s\" is neither %s nor %s", names[i], info.checksums[i],
                     file_digest, content_digest);
    }

    /* Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class */
    int counts[COL_MAX_CLASSES];
    count_classes(&train, counts);
    for (int c = 0; c < 10; c++)
        assert_int_equal(counts[c], 6000);
    count_classes(&test, counts);
    for (int c = 0; c < 10; c++)
        assert_int_equal(counts[c], 1000);
    col_image_set_free(&train);
    col_image_set_free(&test);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mnist_loads_with_checksums),
        cmocka_unit_test(emnist_bymerge_pool_with_holdout),
        cmocka_unit_test_setup_teardown(emnist_upright_like_mnist, setup, teardown),
        cmocka_unit_test(fashion_mnist_loads),
    };
    return cmocka_run_group_tests_name("data_real", tests, NULL, NULL);
}
