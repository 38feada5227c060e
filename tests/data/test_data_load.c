/*
 * Data set loading on small hand-made files: path resolution, validation, the EMNIST
 * orientation and label rules, balance_per_class / holdout / max_train, class names, and
 * pixel statistics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "collapse/data.h"
#include "data_test_util.h"

#define SIDE 28
#define IMAGE_BYTES (SIDE * SIDE)

/* Pixels whose first byte tags the image with its index in the file, to follow reordering. */
static uint8_t *tagged_pixels(int n)
{
    uint8_t *pixels = calloc((size_t)n, IMAGE_BYTES);
    for (int i = 0; i < n; i++) {
        pixels[(size_t)i * IMAGE_BYTES] = (uint8_t)i;
        pixels[(size_t)i * IMAGE_BYTES + 1] = (uint8_t)(100 + i % 100);
    }
    return pixels;
}

/* Writes an image file and a label file of n items under dir; gzip if gz is 1. */
static void write_set(const char *dir, const char *images_name, const char *labels_name,
                      const uint8_t *pixels, const uint8_t *labels, int n, int gz)
{
    char path[COL_PATH_MAX];
    const uint32_t image_dims[3] = {(uint32_t)n, SIDE, SIDE};
    const uint32_t label_dims[1] = {(uint32_t)n};
    size_t n_bytes;
    uint8_t *bytes = idx_bytes(3, image_dims, pixels, (size_t)n * IMAGE_BYTES, &n_bytes);
    if (gz)
        write_gzip(path_in(dir, images_name, path), bytes, n_bytes);
    else
        write_bytes(path_in(dir, images_name, path), bytes, n_bytes);
    free(bytes);
    bytes = idx_bytes(1, label_dims, labels, (size_t)n, &n_bytes);
    if (gz)
        write_gzip(path_in(dir, labels_name, path), bytes, n_bytes);
    else
        write_bytes(path_in(dir, labels_name, path), bytes, n_bytes);
    free(bytes);
}

/* A spec of kind "idx" with explicit train and test files under dir. */
static void idx_spec(col_data_spec *spec, const char *dir)
{
    col_data_spec_init(spec);
    snprintf(spec->name, sizeof spec->name, "small");
    snprintf(spec->kind, sizeof spec->kind, "idx");
    snprintf(spec->dir, sizeof spec->dir, "%s", dir);
    snprintf(spec->train_images, sizeof spec->train_images, "train-images");
    snprintf(spec->train_labels, sizeof spec->train_labels, "train-labels");
    snprintf(spec->test_images, sizeof spec->test_images, "test-images");
    snprintf(spec->test_labels, sizeof spec->test_labels, "test-labels");
}

/* Loads a spec that must fail, and checks the message. */
static void expect_load_error(const col_data_spec *spec, const char *fragment)
{
    col_image_set train, test;
    col_data_info info;
    col_error err = {""};
    assert_int_equal(col_data_load(spec, &train, &test, &info, &err), -1);
    assert_null(train.pixels);
    assert_null(test.pixels);
    expect_error(&err, fragment);
}

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

/* ---------------------------------------------------------------- kind idx and validation */

static void idx_kind_loads_explicit_files(void **state)
{
    const uint8_t train_labels[6] = {0, 1, 2, 0, 1, 4};
    const uint8_t test_labels[2] = {3, 1};
    uint8_t *pixels = tagged_pixels(6);
    write_set(*state, "train-images", "train-labels", pixels, train_labels, 6, 0);
    write_set(*state, "test-images", "test-labels", pixels, test_labels, 2, 1);

    col_data_spec spec;
    idx_spec(&spec, *state);
    col_image_set train, test;
    col_data_info info;
    col_error err = {""};
    assert_int_equal(col_data_load(&spec, &train, &test, &info, &err), 0);

    assert_int_equal(train.n, 6);
    assert_int_equal(train.rows, SIDE);
    assert_int_equal(train.cols, SIDE);
    assert_int_equal(test.n, 2);
    assert_int_equal(info.n_classes, 5); /* the largest label, 4, plus one */
    assert_int_equal(train.n_classes, 5);
    assert_int_equal(test.n_classes, 5);
    assert_int_equal(info.label_offset, 0);
    assert_int_equal(info.transposed_on_disk, 0);
    assert_memory_equal(train.pixels, pixels, 6 * IMAGE_BYTES);
    for (int i = 0; i < 6; i++)
        assert_int_equal(train.labels[i], train_labels[i]);
    assert_int_equal(test.labels[0], 3);
    assert_string_equal(info.class_names[0], "0");
    assert_string_equal(info.class_names[4], "4");

    char expected[COL_PATH_MAX];
    assert_string_equal(info.train_images, path_in(*state, "train-images", expected));
    assert_string_equal(info.test_labels, path_in(*state, "test-labels", expected));
    assert_string_equal(info.checksums[0], ""); /* not a published file */

    col_image_set_free(&train);
    col_image_set_free(&test);
    assert_null(train.pixels);

    /* an explicit n_classes above the largest label is kept */
    spec.n_classes = 12;
    assert_int_equal(col_data_load(&spec, &train, &test, &info, &err), 0);
    assert_int_equal(info.n_classes, 12);
    assert_int_equal(train.n_classes, 12);
    col_image_set_free(&train);
    col_image_set_free(&test);
    free(pixels);
}

static void relative_names_without_dir(void **state)
{
    const uint8_t labels[2] = {0, 1};
    uint8_t *pixels = tagged_pixels(2);
    write_set(*state, "train-images", "train-labels", pixels, labels, 2, 0);
    write_set(*state, "test-images", "test-labels", pixels, labels, 2, 0);

    char cwd[COL_PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(*state), 0);

    col_data_spec spec;
    idx_spec(&spec, "");
    col_image_set train, test;
    col_data_info info;
    col_error err = {""};
    int rc = col_data_load(&spec, &train, &test, &info, &err);
    assert_int_equal(chdir(cwd), 0);
    if (rc != 0)
        fail_msg("load relative to the current folder failed: %s", err.msg);
    assert_string_equal(info.train_images, "train-images");
    assert_int_equal(train.n, 2);
    col_image_set_free(&train);
    col_image_set_free(&test);
    free(pixels);
}

static void image_size_not_28_fails(void **state)
{
    char path[COL_PATH_MAX];
    const uint32_t dims[3] = {2, 32, 32};
    uint8_t pixels[2 * 32 * 32] = {0};
    const uint32_t label_dims[1] = {2};
    const uint8_t labels[2] = {0, 1};
    write_idx(path_in(*state, "train-images", path), 3, dims, pixels, sizeof pixels);
    write_idx(path_in(*state, "train-labels", path), 1, label_dims, labels, sizeof labels);

    col_data_spec spec;
    idx_spec(&spec, *state);
    expect_load_error(&spec, "images of 32 x 32 pixels, but the models take 28 x 28");
    expect_load_error(&spec, "train-images");
}

static void label_out_of_range_fails(void **state)
{
    const uint8_t labels[4] = {0, 1, 5, 2};
    uint8_t *pixels = tagged_pixels(4);
    write_set(*state, "train-images", "train-labels", pixels, labels, 4, 0);
    write_set(*state, "test-images", "test-labels", pixels, labels, 4, 0);

    col_data_spec spec;
    idx_spec(&spec, *state);
    spec.n_classes = 3;
    expect_load_error(&spec, "train-labels: label 5 at index 2 is outside 0..2");
    free(pixels);
}

static void too_many_classes_fails(void **state)
{
    const uint8_t labels[2] = {0, 200};
    uint8_t *pixels = tagged_pixels(2);
    write_set(*state, "train-images", "train-labels", pixels, labels, 2, 0);
    write_set(*state, "test-images", "test-labels", pixels, labels, 2, 0);

    col_data_spec spec;
    idx_spec(&spec, *state);
    expect_load_error(&spec, "holds label 200");
    spec.n_classes = COL_MAX_CLASSES + 1;
    expect_load_error(&spec, "n_classes = 65 is outside 1..64");
    free(pixels);
}

static void count_mismatch_fails(void **state)
{
    char path[COL_PATH_MAX];
    uint8_t *pixels = tagged_pixels(5);
    const uint8_t labels[4] = {0, 1, 0, 1};
    const uint32_t image_dims[3] = {5, SIDE, SIDE};
    const uint32_t label_dims[1] = {4};
    write_idx(path_in(*state, "train-images", path), 3, image_dims, pixels, 5 * IMAGE_BYTES);
    write_idx(path_in(*state, "train-labels", path), 1, label_dims, labels, sizeof labels);

    col_data_spec spec;
    idx_spec(&spec, *state);
    expect_load_error(&spec, "holds 5 images but");
    expect_load_error(&spec, "holds 4 labels");
    free(pixels);
}

static void labels_given_as_images_fails(void **state)
{
    const uint8_t labels[2] = {0, 1};
    uint8_t *pixels = tagged_pixels(2);
    write_set(*state, "train-images", "train-labels", pixels, labels, 2, 0);

    col_data_spec spec;
    idx_spec(&spec, *state);
    snprintf(spec.train_images, sizeof spec.train_images, "train-labels");
    expect_load_error(&spec, "should hold training images (IDX magic 0x00000803), but it holds 2 labels");
    free(pixels);
}

static void spec_errors_are_named(void **state)
{
    col_data_spec spec;
    idx_spec(&spec, *state);
    snprintf(spec.kind, sizeof spec.kind, "cifar");
    expect_load_error(&spec, "unknown data set kind \"cifar\"");

    col_data_spec_init(&spec);
    snprintf(spec.kind, sizeof spec.kind, "emnist");
    snprintf(spec.split, sizeof spec.split, "everything");
    expect_load_error(&spec, "unknown EMNIST split \"everything\"");

    col_data_spec_init(&spec);
    snprintf(spec.kind, sizeof spec.kind, "mnist");
    spec.n_classes = 5;
    expect_load_error(&spec, "mnist has 10 classes");

    idx_spec(&spec, *state);
    spec.holdout = -1;
    expect_load_error(&spec, "must not be negative");

    col_data_spec_init(&spec);
    snprintf(spec.kind, sizeof spec.kind, "idx");
    snprintf(spec.dir, sizeof spec.dir, "%s", (const char *)*state);
    expect_load_error(&spec, "kind idx needs explicit files");

    snprintf(spec.dir, sizeof spec.dir, "%s/no-such-folder", (const char *)*state);
    expect_load_error(&spec, "no-such-folder does not exist");
}

static void missing_default_files_fail(void **state)
{
    col_data_spec spec;
    col_data_spec_init(&spec);
    snprintf(spec.name, sizeof spec.name, "digits");
    snprintf(spec.kind, sizeof spec.kind, "mnist");
    snprintf(spec.dir, sizeof spec.dir, "%s", (const char *)*state);
    expect_load_error(&spec, "data set digits (mnist): training images not found: tried");
    expect_load_error(&spec, "train-images-idx3-ubyte.gz");
}

/* ---------------------------------------------------------------- EMNIST rules */

/* Writes EMNIST-style files of a split: one lit pixel per image at (row 2, col 5) on disk. */
static void write_emnist(const char *dir, const char *split, const uint8_t *labels, int n)
{
    uint8_t *pixels = calloc((size_t)n, IMAGE_BYTES);
    for (int i = 0; i < n; i++)
        pixels[(size_t)i * IMAGE_BYTES + 2 * SIDE + 5] = 255;
    char images[128], labels_name[128];
    snprintf(images, sizeof images, "emnist-%s-train-images-idx3-ubyte.gz", split);
    snprintf(labels_name, sizeof labels_name, "emnist-%s-train-labels-idx1-ubyte.gz", split);
    write_set(dir, images, labels_name, pixels, labels, n, 1);
    snprintf(images, sizeof images, "emnist-%s-test-images-idx3-ubyte.gz", split);
    snprintf(labels_name, sizeof labels_name, "emnist-%s-test-labels-idx1-ubyte.gz", split);
    write_set(dir, images, labels_name, pixels, labels, n, 1);
    free(pixels);
}

static void emnist_spec(col_data_spec *spec, const char *dir, const char *split)
{
    col_data_spec_init(spec);
    snprintf(spec->kind, sizeof spec->kind, "emnist");
    snprintf(spec->split, sizeof spec->split, "%s", split);
    snprintf(spec->dir, sizeof spec->dir, "%s", dir);
}

static void emnist_transposed_on_load(void **state)
{
    const uint8_t labels[2] = {1, 26};
    write_emnist(*state, "letters", labels, 2);

    col_data_spec spec;
    emnist_spec(&spec, *state, "letters");
    col_image_set train, test;
    col_data_info info;
    col_error err = {""};
    assert_int_equal(col_data_load(&spec, &train, &test, &info, &err), 0);
    assert_int_equal(info.transposed_on_disk, 1);

    /* the pixel at (row 2, col 5) on disk is at (row 5, col 2) in memory, and nothing else is lit */
    for (int i = 0; i < train.n; i++) {
        const uint8_t *image = train.pixels + (size_t)i * IMAGE_BYTES;
        assert_int_equal(image[5 * SIDE + 2], 255);
        assert_int_equal(image[2 * SIDE + 5], 0);
        int lit = 0;
        for (int p = 0; p < IMAGE_BYTES; p++)
            lit += image[p] != 0;
        assert_int_equal(lit, 1);
    }
    assert_int_equal(test.pixels[5 * SIDE + 2], 255);
    col_image_set_free(&train);
    col_image_set_free(&test);

    /* transposed = 0 forces the on-disk orientation */
    spec.transposed = 0;
    assert_int_equal(col_data_load(&spec, &train, &test, &info, &err), 0);
    assert_int_equal(info.transposed_on_disk, 0);
    assert_int_equal(train.pixels[2 * SIDE + 5], 255);
    assert_int_equal(train.pixels[5 * SIDE + 2], 0);
    col_image_set_free(&train);
    col_image_set_free(&test);
}

static void letters_labels_shift_to_zero(void **state)
{
    uint8_t labels[26];
    for (int i = 0; i < 26; i++)
        labels[i] = (uint8_t)(26 - i); /* 26, 25, ..., 1 */
    write_emnist(*state, "letters", labels, 26);

    col_data_spec spec;
    emnist_spec(&spec, *state, "letters");
    col_image_set train, test;
    col_data_info info;
    col_error err = {""};
    assert_int_equal(col_data_load(&spec, &train, &test, &info, &err), 0);
    assert_int_equal(info.n_classes, 26);
    assert_int_equal(info.label_offset, 1);
    assert_int_equal(train.n_classes, 26);
    for (int i = 0; i < 26; i++)
        assert_int_equal(train.labels[i], 25 - i);
    /* no mapping file next to the data: the names NIST's letters mapping gives */
    assert_string_equal(info.class_names[0], "A/a");
    assert_string_equal(info.class_names[25], "Z/z");
    col_image_set_free(&train);
    col_image_set_free(&test);
}

static void letters_label_out_of_range_fails(void **state)
{
    const uint8_t labels[3] = {1, 27, 2};
    write_emnist(*state, "letters", labels, 3);
    col_data_spec spec;
    emnist_spec(&spec, *state, "letters");
    expect_load_error(&spec, "label 27 at index 1 is outside 1..26");
    expect_load_error(&spec, "EMNIST letters");

    const uint8_t zero[2] = {1, 0};
    write_emnist(*state, "letters", zero, 2);
    expect_load_error(&spec, "label 0 at index 1 is outside 1..26");
}

static void emnist_mapping_names_classes(void **state)
{
    const uint8_t labels[3] = {0, 10, 46};
    write_emnist(*state, "balanced", labels, 3);

    col_data_spec spec;
    emnist_spec(&spec, *state, "balanced");
    col_image_set train, test;
    col_data_info info;
    col_error err = {""};

    /* without a mapping file: the built-in table */
    assert_int_equal(col_data_load(&spec, &train, &test, &info, &err), 0);
    assert_int_equal(info.n_classes, 47);
    assert_string_equal(info.class_names[9], "9");
    assert_string_equal(info.class_names[10], "A");
    assert_string_equal(info.class_names[36], "a");
    assert_string_equal(info.class_names[46], "t");
    col_image_set_free(&train);
    col_image_set_free(&test);

    /* a mapping file next to the data, with CR LF line ends as NIST writes them. Class 0 is
     * renamed, so the test can see that the file was read. */
    char text[2048] = "", path[COL_PATH_MAX];
    size_t len = 0;
    for (int c = 0; c < 47; c++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%d %d\r\n", c, c == 0 ? 'O' : 'A');
    write_bytes(path_in(*state, "emnist-balanced-mapping.txt", path), text, len);
    assert_int_equal(col_data_load(&spec, &train, &test, &info, &err), 0);
    assert_string_equal(info.class_names[0], "O");
    assert_string_equal(info.class_names[46], "A");
    col_image_set_free(&train);
    col_image_set_free(&test);

    /* a mapping of another split */
    const char digits[] = "0 48\n1 49\n2 50\n3 51\n4 52\n5 53\n6 54\n7 55\n8 56\n9 57\n";
    write_bytes(path_in(*state, "digits-mapping.txt", path), digits, strlen(digits));
    snprintf(spec.mapping, sizeof spec.mapping, "digits-mapping.txt");
    expect_load_error(&spec, "maps 10 classes, but the EMNIST balanced split has 47");

    /* a mapping that is not one */
    write_bytes(path_in(*state, "bad-mapping.txt", path), "<html>\n", 7);
    snprintf(spec.mapping, sizeof spec.mapping, "bad-mapping.txt");
    expect_load_error(&spec, "bad-mapping.txt, line 1: expected \"index ascii_code\"");
}

static void emnist_zip_dir_loads(void **state)
{
    /* build NIST's layout: gzip.zip with gzip/emnist-<split>-*.gz and the mapping */
    const int n = 4;
    const uint8_t labels[4] = {3, 1, 4, 1};
    uint8_t *pixels = calloc(n, IMAGE_BYTES);
    for (int i = 0; i < n; i++)
        pixels[(size_t)i * IMAGE_BYTES + 2 * SIDE + 5] = (uint8_t)(10 + i);
    const uint32_t image_dims[3] = {4, SIDE, SIDE};
    const uint32_t label_dims[1] = {4};
    size_t n_images, n_labels, n_images_gz, n_labels_gz;
    uint8_t *images = idx_bytes(3, image_dims, pixels, (size_t)n * IMAGE_BYTES, &n_images);
    uint8_t *label_bytes = idx_bytes(1, label_dims, labels, 4, &n_labels);
    uint8_t *images_gz = gzip_bytes(images, n_images, &n_images_gz);
    uint8_t *labels_gz = gzip_bytes(label_bytes, n_labels, &n_labels_gz);
    const char mapping[] = "0 48\n1 49\n2 50\n3 51\n4 52\n5 53\n6 54\n7 55\n8 56\n9 90\n";

    zip_entry entries[] = {
        {"gzip/emnist-digits-mapping.txt", mapping, strlen(mapping), 0},
        {"gzip/emnist-digits-train-images-idx3-ubyte.gz", images_gz, n_images_gz, 1},
        {"gzip/emnist-digits-train-labels-idx1-ubyte.gz", labels_gz, n_labels_gz, 1},
        {"gzip/emnist-digits-test-images-idx3-ubyte.gz", images_gz, n_images_gz, 1},
        {"gzip/emnist-digits-test-labels-idx1-ubyte.gz", labels_gz, n_labels_gz, 1},
    };
    char zip[COL_PATH_MAX];
    write_zip(path_in(*state, "gzip.zip", zip), entries, 5);

    col_data_spec spec;
    emnist_spec(&spec, zip, "digits");
    col_image_set train, test;
    col_data_info info;
    col_error err = {""};
    if (col_data_load(&spec, &train, &test, &info, &err) != 0)
        fail_msg("loading from the zip failed: %s", err.msg);
    assert_int_equal(train.n, 4);
    assert_int_equal(test.n, 4);
    assert_int_equal(train.labels[2], 4);
    assert_int_equal(train.pixels[2 * IMAGE_BYTES + 5 * SIDE + 2], 12); /* transposed */
    assert_string_equal(info.class_names[9], "Z");                      /* from the member */
    char expected[COL_PATH_MAX];
    assert_string_equal(info.train_images,
                        member_path(zip, "gzip/emnist-digits-train-images-idx3-ubyte.gz", expected));
    col_image_set_free(&train);
    col_image_set_free(&test);

    /* a split missing from the archive: the message lists the archive's members */
    emnist_spec(&spec, zip, "letters");
    expect_load_error(&spec, "has no member gzip/emnist-letters-train-images-idx3-ubyte.gz");
    expect_load_error(&spec, "gzip/emnist-digits-mapping.txt");

    free(pixels);
    free(images);
    free(label_bytes);
    free(images_gz);
    free(labels_gz);
}

/* ---------------------------------------------------------------- shaping the pool */

/* 12 images, classes 0..2 with 5, 3 and 4 images. */
static const uint8_t pool_labels[12] = {0, 1, 0, 2, 2, 0, 1, 0, 2, 1, 0, 2};

static void write_pool(const char *dir)
{
    uint8_t *pixels = tagged_pixels(12);
    write_set(dir, "train-images", "train-labels", pixels, pool_labels, 12, 0);
    free(pixels);
}

static void pool_spec(col_data_spec *spec, const char *dir)
{
    idx_spec(spec, dir);
    spec->test_images[0] = spec->test_labels[0] = '\0';
}

static void balance_holdout_max_train(void **state)
{
    write_pool(*state);
    col_data_spec spec;
    pool_spec(&spec, *state);
    spec.balance_per_class = 3;
    spec.holdout = 2;
    col_image_set train, test;
    col_data_info info;
    col_error err = {""};
    if (col_data_load(&spec, &train, &test, &info, &err) != 0)
        fail_msg("load failed: %s", err.msg);

    /* the first 3 images of each class in file order: indices 0 1 2 3 4 5 6 8 9 */
    const int kept[9] = {0, 1, 2, 3, 4, 5, 6, 8, 9};
    assert_int_equal(train.n + test.n, 9);
    assert_int_equal(train.n, 7);
    assert_int_equal(test.n, 2);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(train.pixels[(size_t)i * IMAGE_BYTES], kept[i]);
        assert_int_equal(train.labels[i], pool_labels[kept[i]]);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(test.pixels[(size_t)i * IMAGE_BYTES], kept[7 + i]);
        assert_int_equal(test.labels[i], pool_labels[kept[7 + i]]);
        assert_int_equal(test.pixels[(size_t)i * IMAGE_BYTES + 1], 100 + kept[7 + i]);
    }
    assert_int_equal(test.n_classes, 3);
    assert_int_equal(test.rows, SIDE);
    assert_string_equal(info.test_images, "");
    col_image_set_free(&train);
    col_image_set_free(&test);

    /* max_train comes last: it cuts the training part after the holdout */
    spec.max_train = 4;
    assert_int_equal(col_data_load(&spec, &train, &test, &info, &err), 0);
    assert_int_equal(train.n, 4);
    assert_int_equal(test.n, 2);
    assert_int_equal(test.pixels[0], 8);
    col_image_set_free(&train);
    col_image_set_free(&test);

    /* holdout without balancing takes the last images of the file */
    spec.balance_per_class = 0;
    spec.max_train = 0;
    spec.holdout = 5;
    assert_int_equal(col_data_load(&spec, &train, &test, &info, &err), 0);
    assert_int_equal(train.n, 7);
    assert_int_equal(test.n, 5);
    assert_int_equal(test.pixels[0], 7);
    col_image_set_free(&train);
    col_image_set_free(&test);
}

static void balance_short_class_fails(void **state)
{
    write_pool(*state);
    col_data_spec spec;
    pool_spec(&spec, *state);
    spec.holdout = 1;
    spec.balance_per_class = 4;
    expect_load_error(&spec, "class 1 (\"1\") has only 3 images");
    expect_load_error(&spec, "train-labels");
}

static void no_test_set_suggests_holdout(void **state)
{
    write_pool(*state);
    col_data_spec spec;
    pool_spec(&spec, *state);
    expect_load_error(&spec, "no test set");
    expect_load_error(&spec, "set holdout");

    /* named kind whose folder lacks the test files */
    write_emnist(*state, "digits", (const uint8_t[]){0, 1, 2}, 3);
    char path[COL_PATH_MAX];
    remove(path_in(*state, "emnist-digits-test-images-idx3-ubyte.gz", path));
    remove(path_in(*state, "emnist-digits-test-labels-idx1-ubyte.gz", path));
    emnist_spec(&spec, *state, "digits");
    expect_load_error(&spec, "no test set: no test files found (tried");
    expect_load_error(&spec, "set holdout");

    /* only one of the two test files */
    write_emnist(*state, "digits", (const uint8_t[]){0, 1, 2}, 3);
    remove(path_in(*state, "emnist-digits-test-labels-idx1-ubyte.gz", path));
    expect_load_error(&spec, "test images found");
    expect_load_error(&spec, "but no test labels");
}

static void holdout_conflicts_fail(void **state)
{
    write_pool(*state);
    col_data_spec spec;
    pool_spec(&spec, *state);
    spec.holdout = 12;
    expect_load_error(&spec, "holdout = 12 leaves no training images: the pool holds 12 images");

    spec.holdout = 2;
    snprintf(spec.test_images, sizeof spec.test_images, "train-images");
    snprintf(spec.test_labels, sizeof spec.test_labels, "train-labels");
    expect_load_error(&spec, "both test files and holdout = 2 are set");

    spec.holdout = 0;
    expect_load_error(&spec, "the test images are the training images");
}

/* ---------------------------------------------------------------- statistics */

static void pixel_stats_and_normalize(void **state)
{
    (void)state;
    uint8_t pixels[2 * IMAGE_BYTES];
    for (int i = 0; i < 2 * IMAGE_BYTES; i++)
        pixels[i] = i % 2 ? 255 : 0;
    int32_t labels[2] = {0, 0};
    col_image_set set = {.n = 2, .rows = SIDE, .cols = SIDE, .n_classes = 1, .pixels = pixels,
                         .labels = labels};

    double mean, std;
    col_pixel_stats(&set, &mean, &std);
    assert_float_equal(mean, 0.5, 1e-12);
    assert_float_equal(std, 0.5, 1e-12);

    float out[2 * IMAGE_BYTES];
    col_normalize(&set, 0.5f, 0.5f, out);
    assert_float_equal(out[0], -1.0f, 1e-6);
    assert_float_equal(out[1], 1.0f, 1e-6);

    /* MNIST's constants: byte 0 maps to -0.1307 / 0.3081 */
    col_normalize(&set, 0.1307f, 0.3081f, out);
    assert_float_equal(out[0], -0.1307 / 0.3081, 1e-6);
    assert_float_equal(out[1], (1.0 - 0.1307) / 0.3081, 1e-6);

    /* one grey level: std 0 */
    memset(pixels, 51, sizeof pixels);
    col_pixel_stats(&set, &mean, &std);
    assert_float_equal(mean, 0.2, 1e-12);
    assert_float_equal(std, 0.0, 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(idx_kind_loads_explicit_files, setup, teardown),
        cmocka_unit_test_setup_teardown(relative_names_without_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(image_size_not_28_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(label_out_of_range_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(too_many_classes_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(count_mismatch_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(labels_given_as_images_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(spec_errors_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_default_files_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(emnist_transposed_on_load, setup, teardown),
        cmocka_unit_test_setup_teardown(letters_labels_shift_to_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(letters_label_out_of_range_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(emnist_mapping_names_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(emnist_zip_dir_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(balance_holdout_max_train, setup, teardown),
        cmocka_unit_test_setup_teardown(balance_short_class_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(no_test_set_suggests_holdout, setup, teardown),
        cmocka_unit_test_setup_teardown(holdout_conflicts_fail, setup, teardown),
        cmocka_unit_test(pixel_stats_and_normalize),
    };
    return cmocka_run_group_tests_name("data_load", tests, NULL, NULL);
}
