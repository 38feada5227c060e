/*
 * Known-checksum verification: published files match, tampered copies fail with both digests,
 * re-compressed gzip files pass on their decompressed content, and the loader rejects a file
 * of another data set. Uses the real MNIST and EMNIST files; a missing one fails the test.
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

#define MNIST_TEST_LABELS_MD5 "27ae3e4e09519cfbb04c329615203637"
#define EMNIST_MNIST_TEST_LABELS_SHA256 \
    "bcc5385d38f083dba046f5f756e99b32f5ea7fad122c6243c71c2239873065ca"

static const char *const mnist_files[4] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
};

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

/* Returns the real MNIST test labels, failing the test if they are missing. */
static const char *mnist_test_labels(char *path)
{
    path_in(COLLAPSE_MNIST_DIR, "t10k-labels-idx1-ubyte", path);
    require_file(path, "MNIST test labels");
    return path;
}

static void published_file_matches(void **state)
{
    char real[COL_PATH_MAX], copy[COL_PATH_MAX], digest[80];
    col_error err = {""};
    assert_int_equal(col_checksum_verify(mnist_test_labels(real), digest, &err), 1);
    assert_string_equal(digest, "md5:" MNIST_TEST_LABELS_MD5);

    /* the table goes by base name, so an untouched copy anywhere matches too */
    size_t n;
    uint8_t *bytes = read_bytes(real, &n);
    write_bytes(path_in(*state, "t10k-labels-idx1-ubyte", copy), bytes, n);
    digest[0] = 'x';
    assert_int_equal(col_checksum_verify(copy, digest, &err), 1);
    assert_string_equal(digest, "md5:" MNIST_TEST_LABELS_MD5);
    assert_int_equal(col_checksum_verify(copy, NULL, &err), 1);
    free(bytes);
}

static void unknown_name_is_not_checked(void **state)
{
    char path[COL_PATH_MAX], digest[80] = "x";
    col_error err = {""};
    write_bytes(path_in(*state, "my-images-idx3-ubyte", path), "abc", 3);
    assert_int_equal(col_checksum_verify(path, digest, &err), 0);
    assert_string_equal(digest, "");
}

static void tampered_copy_mismatches(void **state)
{
    char real[COL_PATH_MAX], copy[COL_PATH_MAX], digest[80];
    size_t n;
    uint8_t *bytes = read_bytes(mnist_test_labels(real), &n);
    bytes[n / 2] ^= 0x01;
    write_bytes(path_in(*state, "t10k-labels-idx1-ubyte", copy), bytes, n);
    char actual[33];
    md5_hex(bytes, n, actual);

    col_error err = {""};
    assert_int_equal(col_checksum_verify(copy, digest, &err), -1);
    expect_error(&err, "checksum mismatch for");
    expect_error(&err, copy);
    expect_error(&err, "expected md5 " MNIST_TEST_LABELS_MD5 " (MNIST)");
    expect_error(&err, actual);
    expect_error(&err, "download the file again");
    free(bytes);
}

static void recompressed_gzip_matches_content(void **state)
{
    /* a gzip file of the MNIST labels made here: its bytes differ from the published .gz */
    char real[COL_PATH_MAX], path[COL_PATH_MAX], digest[80];
    size_t n;
    uint8_t *bytes = read_bytes(mnist_test_labels(real), &n);
    write_gzip(path_in(*state, "t10k-labels-idx1-ubyte.gz", path), bytes, n);

    col_error err = {""};
    assert_int_equal(col_checksum_verify(path, digest, &err), 1);
    assert_string_equal(digest, "md5-decompressed:" MNIST_TEST_LABELS_MD5);

    /* the same with one label changed: both digests are reported */
    bytes[100] ^= 0x01;
    char actual[33];
    md5_hex(bytes, n, actual);
    write_gzip(path, bytes, n);
    assert_int_equal(col_checksum_verify(path, digest, &err), -1);
    expect_error(&err, "md5 ec29112dd5afa0611ce80d1b7f02629c (MNIST)");
    expect_error(&err, "md5 bb300cfdad3c16e7a12a480ee83cd310 (Fashion-MNIST)");
    expect_error(&err, "or for the decompressed data md5 " MNIST_TEST_LABELS_MD5);
    expect_error(&err, actual);
    free(bytes);
}

static void zip_member_checksum_matches(void **state)
{
    char real[COL_PATH_MAX], zip[COL_PATH_MAX], member[COL_PATH_MAX], digest[80];
    path_in(COLLAPSE_EMNIST_DIR, "emnist-mnist-test-labels-idx1-ubyte.gz", real);
    require_file(real, "EMNIST mnist-split test labels");
    size_t n;
    uint8_t *bytes = read_bytes(real, &n);
    zip_entry entry = {"gzip/emnist-mnist-test-labels-idx1-ubyte.gz", bytes, n, 1};
    write_zip(path_in(*state, "gzip.zip", zip), &entry, 1);

    col_error err = {""};
    member_path(zip, entry.name, member);
    assert_int_equal(col_checksum_verify(member, digest, &err), 1);
    assert_string_equal(digest, "sha256:" EMNIST_MNIST_TEST_LABELS_SHA256);

    /* a tampered member; its decompressed content also fails its MD5 */
    bytes[n - 10] ^= 0x20;
    write_zip(zip, &entry, 1);
    assert_int_equal(col_checksum_verify(member, digest, &err), -1);
    expect_error(&err, "expected sha256 " EMNIST_MNIST_TEST_LABELS_SHA256 " (EMNIST)");
    free(bytes);
}

/* Links the four real MNIST files into dir, except the one at index skip (-1: none). */
static void link_mnist(const char *dir, int skip)
{
    for (int i = 0; i < 4; i++) {
        if (i == skip)
            continue;
        char real[COL_PATH_MAX], link[COL_PATH_MAX];
        path_in(COLLAPSE_MNIST_DIR, mnist_files[i], real);
        require_file(real, "MNIST file");
        if (symlink(real, path_in(dir, mnist_files[i], link)) != 0)
            fail_msg("symlink %s failed", link);
    }
}

static void loader_rejects_tampered_file(void **state)
{
    link_mnist(*state, 3);
    char real[COL_PATH_MAX], copy[COL_PATH_MAX];
    size_t n;
    uint8_t *bytes = read_bytes(mnist_test_labels(real), &n);
    bytes[8] = (uint8_t)(bytes[8] == 1 ? 2 : 1); /* still a valid label */
    write_bytes(path_in(*state, "t10k-labels-idx1-ubyte", copy), bytes, n);

    col_data_spec spec;
    col_data_spec_init(&spec);
    snprintf(spec.kind, sizeof spec.kind, "mnist");
    snprintf(spec.dir, sizeof spec.dir, "%s", (const char *)*state);
    col_image_set train, test;
    col_data_info info;
    col_error err = {""};
    assert_int_equal(col_data_load(&spec, &train, &test, &info, &err), -1);
    expect_error(&err, "checksum mismatch for");
    expect_error(&err, copy);
    assert_null(train.pixels);
    free(bytes);
}

static void loader_rejects_other_data_set(void **state)
{
    /* the MNIST files in a folder loaded as Fashion-MNIST */
    link_mnist(*state, -1);
    col_data_spec spec;
    col_data_spec_init(&spec);
    snprintf(spec.kind, sizeof spec.kind, "fashion-mnist");
    snprintf(spec.dir, sizeof spec.dir, "%s", (const char *)*state);
    col_image_set train, test;
    col_data_info info;
    col_error err = {""};
    assert_int_equal(col_data_load(&spec, &train, &test, &info, &err), -1);
    expect_error(&err, "matches the checksum of a published MNIST file, but this data set is Fashion-MNIST");

    /* kind idx takes any file */
    snprintf(spec.kind, sizeof spec.kind, "idx");
    snprintf(spec.train_images, sizeof spec.train_images, "t10k-images-idx3-ubyte");
    snprintf(spec.train_labels, sizeof spec.train_labels, "t10k-labels-idx1-ubyte");
    spec.holdout = 100;
    if (col_data_load(&spec, &train, &test, &info, &err) != 0)
        fail_msg("kind idx on MNIST files failed: %s", err.msg);
    assert_int_equal(info.n_classes, 10);
    assert_string_equal(info.checksums[1], "md5:" MNIST_TEST_LABELS_MD5);
    col_image_set_free(&train);
    col_image_set_free(&test);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(published_file_matches, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_name_is_not_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(tampered_copy_mismatches, setup, teardown),
        cmocka_unit_test_setup_teardown(recompressed_gzip_matches_content, setup, teardown),
        cmocka_unit_test_setup_teardown(zip_member_checksum_matches, setup, teardown),
        cmocka_unit_test_setup_teardown(loader_rejects_tampered_file, setup, teardown),
        cmocka_unit_test_setup_teardown(loader_rejects_other_data_set, setup, teardown),
    };
    return cmocka_run_group_tests_name("data_checksum", tests, NULL, NULL);
}
