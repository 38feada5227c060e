/*
 * IDX reader tests on files written here: raw, gzip and zip-member files that must read back
 * exactly, and damaged or foreign files that must fail with a message naming the problem.
 */
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

/* A small image file: 3 images of 28 x 28 with distinct bytes, and 3 labels. */
#define N_SMALL 3
#define IMAGE_BYTES (28 * 28)

static uint8_t small_pixels[N_SMALL * IMAGE_BYTES];
static const uint8_t small_labels[N_SMALL] = {7, 0, 9};
static const uint32_t small_image_dims[3] = {N_SMALL, 28, 28};
static const uint32_t small_label_dims[1] = {N_SMALL};

static int setup(void **state)
{
    for (int i = 0; i < N_SMALL * IMAGE_BYTES; i++)
        small_pixels[i] = (uint8_t)(i * 31 + 7);
    *state = temp_dir_create();
    return 0;
}

static int teardown(void **state)
{
    temp_dir_remove(*state);
    return 0;
}

/* Reads path, expecting failure with fragment in the message. */
static void expect_read_error(const char *path, const char *fragment)
{
    col_idx idx;
    col_error err = {""};
    assert_int_equal(col_idx_read(path, &idx, &err), -1);
    assert_null(idx.data);
    expect_error(&err, fragment);
    assert_non_null(strstr(err.msg, path));
}

static void check_small_images(const col_idx *idx)
{
    assert_int_equal(idx->n_dims, 3);
    assert_int_equal(idx->dims[0], N_SMALL);
    assert_int_equal(idx->dims[1], 28);
    assert_int_equal(idx->dims[2], 28);
    assert_int_equal(idx->n_bytes, sizeof small_pixels);
    assert_memory_equal(idx->data, small_pixels, sizeof small_pixels);
}

/* ---------------------------------------------------------------- good files */

static void raw_files_read_back(void **state)
{
    char images[COL_PATH_MAX], labels[COL_PATH_MAX];
    write_idx(path_in(*state, "images", images), 3, small_image_dims, small_pixels, sizeof small_pixels);
    write_idx(path_in(*state, "labels", labels), 1, small_label_dims, small_labels, sizeof small_labels);

    col_idx idx;
    col_error err = {""};
    assert_int_equal(col_idx_read(images, &idx, &err), 0);
    check_small_images(&idx);
    col_idx_free(&idx);
    assert_null(idx.data);

    assert_int_equal(col_idx_read(labels, &idx, &err), 0);
    assert_int_equal(idx.n_dims, 1);
    assert_int_equal(idx.dims[0], N_SMALL);
    assert_int_equal(idx.n_bytes, N_SMALL);
    assert_memory_equal(idx.data, small_labels, N_SMALL);
    col_idx_free(&idx);
}

static void gzip_detected_by_content(void **state)
{
    size_t n;
    uint8_t *raw = idx_bytes(3, small_image_dims, small_pixels, sizeof small_pixels, &n);

    /* gzip data under a name without .gz, and raw data under a name with .gz */
    char gz_path[COL_PATH_MAX], raw_path[COL_PATH_MAX];
    write_gzip(path_in(*state, "images-no-suffix", gz_path), raw, n);
    write_bytes(path_in(*state, "images-raw.gz", raw_path), raw, n);
    free(raw);

    col_idx idx;
    col_error err = {""};
    assert_int_equal(col_idx_read(gz_path, &idx, &err), 0);
    check_small_images(&idx);
    col_idx_free(&idx);
    assert_int_equal(col_idx_read(raw_path, &idx, &err), 0);
    check_small_images(&idx);
    col_idx_free(&idx);
}

static void gzip_members_concatenated(void **state)
{
    size_t n;
    uint8_t *raw = idx_bytes(3, small_image_dims, small_pixels, sizeof small_pixels, &n);
    size_t half = n / 2, n1, n2;
    uint8_t *gz1 = gzip_bytes(raw, half, &n1);
    uint8_t *gz2 = gzip_bytes(raw + half, n - half, &n2);
    uint8_t *both = malloc(n1 + n2);
    memcpy(both, gz1, n1);
    memcpy(both + n1, gz2, n2);

    char path[COL_PATH_MAX];
    write_bytes(path_in(*state, "two-members.gz", path), both, n1 + n2);
    col_idx idx;
    col_error err = {""};
    assert_int_equal(col_idx_read(path, &idx, &err), 0);
    check_small_images(&idx);
    col_idx_free(&idx);
    free(raw);
    free(gz1);
    free(gz2);
    free(both);
}

static void zip_member_gzip_reads(void **state)
{
    size_t n_raw, n_gz, n_labels;
    uint8_t *raw = idx_bytes(3, small_image_dims, small_pixels, sizeof small_pixels, &n_raw);
    uint8_t *gz = gzip_bytes(raw, n_raw, &n_gz);
    uint8_t *labels = idx_bytes(1, small_label_dims, small_labels, sizeof small_labels, &n_labels);

    char zip[COL_PATH_MAX], member[COL_PATH_MAX];
    zip_entry entries[] = {
        {"gzip/emnist-test-images-idx3-ubyte.gz", gz, n_gz, 1},  /* stored, as NIST's gzip.zip */
        {"raw/images-deflated", raw, n_raw, 0},                   /* deflated by zip */
        {"labels", labels, n_labels, 0},
    };
    write_zip(path_in(*state, "x.zip", zip), entries, 3);

    col_idx idx;
    col_error err = {""};
    member_path(zip, "gzip/emnist-test-images-idx3-ubyte.gz", member);
    assert_int_equal(col_idx_read(member, &idx, &err), 0);
    check_small_images(&idx);
    col_idx_free(&idx);

    member_path(zip, "raw/images-deflated", member);
    assert_int_equal(col_idx_read(member, &idx, &err), 0);
    check_small_images(&idx);
    col_idx_free(&idx);

    member_path(zip, "labels", member);
    assert_int_equal(col_idx_read(member, &idx, &err), 0);
    assert_int_equal(idx.n_dims, 1);
    assert_memory_equal(idx.data, small_labels, N_SMALL);
    col_idx_free(&idx);
    free(raw);
    free(gz);
    free(labels);
}

/* ---------------------------------------------------------------- bad files */

static void missing_file_fails(void **state)
{
    char path[COL_PATH_MAX];
    expect_read_error(path_in(*state, "does-not-exist", path), "cannot be opened");
}

static void empty_file_fails(void **state)
{
    char path[COL_PATH_MAX];
    write_bytes(path_in(*state, "empty", path), "", 0);
    expect_read_error(path, "is empty");
}

static void short_header_fails(void **state)
{
    char path[COL_PATH_MAX];
    write_bytes(path_in(*state, "three-bytes", path), "\0\0\x08", 3);
    expect_read_error(path, "short header");

    /* a complete magic number for images, but only one of its three dimensions */
    write_bytes(path_in(*state, "one-dim", path), "\0\0\x08\x03\0\0\0\x05", 8);
    expect_read_error(path, "short header");
}

static void wrong_magic_fails(void **state)
{
    char path[COL_PATH_MAX];
    const uint8_t binary[] = {0x12, 0x34, 0x56, 0x78, 0x00, 0xff, 0x80, 0x01};
    write_bytes(path_in(*state, "binary", path), binary, sizeof binary);
    expect_read_error(path, "wrong magic number 0x12345678");
}

static void html_page_fails(void **state)
{
    char path[COL_PATH_MAX];
    const char page[] = "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
                        "<body>Not Found</body></html>\n";
    write_bytes(path_in(*state, "train-images-idx3-ubyte.html", path), page, strlen(page));
    expect_read_error(path, "HTML page");

    /* the same page gzip-compressed, as a server may send it */
    write_gzip(path_in(*state, "page.gz", path), page, strlen(page));
    expect_read_error(path, "HTML page");
}

static void text_file_fails(void **state)
{
    char path[COL_PATH_MAX];
    const char text[] = "0 48\n1 49\n2 50\n";
    write_bytes(path_in(*state, "mapping.txt", path), text, strlen(text));
    expect_read_error(path, "text file");
}

static void zip_given_as_file_fails(void **state)
{
    char zip[COL_PATH_MAX];
    zip_entry entry = {"labels", small_labels, sizeof small_labels, 1};
    write_zip(path_in(*state, "plain.zip", zip), &entry, 1);
    expect_read_error(zip, "ARCHIVE.zip::member");
}

static void bad_dimension_count_fails(void **state)
{
    char path[COL_PATH_MAX];
    const uint32_t dims[2] = {2, 2};
    const uint8_t payload[4] = {1, 2, 3, 4};
    write_idx(path_in(*state, "two-dims", path), 2, dims, payload, sizeof payload);
    expect_read_error(path, "declares 2 dimensions");
}

static void float_idx_fails(void **state)
{
    char path[COL_PATH_MAX];
    const uint8_t header[] = {0, 0, 0x0d, 0x01, 0, 0, 0, 1, 0, 0, 0x80, 0x3f};
    write_bytes(path_in(*state, "floats", path), header, sizeof header);
    expect_read_error(path, "type 0x0d");
}

static void zero_image_side_fails(void **state)
{
    char path[COL_PATH_MAX];
    const uint32_t dims[3] = {1, 0, 28};
    write_idx(path_in(*state, "zero-rows", path), 3, dims, NULL, 0);
    expect_read_error(path, "dimension 1 is 0");
}

static void count_larger_than_file_fails(void **state)
{
    char path[COL_PATH_MAX];
    const uint32_t dims[3] = {N_SMALL + 1, 28, 28};
    write_idx(path_in(*state, "one-image-missing", path), 3, dims, small_pixels, sizeof small_pixels);
    expect_read_error(path, "shorter than its header claims");

    /* a header claiming a huge count must fail before any allocation of that size */
    const uint32_t huge[3] = {60000000, 28, 28};
    write_idx(path_in(*state, "huge-count", path), 3, huge, small_pixels, sizeof small_pixels);
    expect_read_error(path, "60000000 x 28 x 28 bytes of data, more than the reader's limit");
    const uint32_t large[3] = {2000000, 28, 28};
    write_idx(path_in(*state, "large-count", path), 3, large, small_pixels, sizeof small_pixels);
    expect_read_error(path, "shorter than its header claims");
}

static void payload_longer_than_claimed_fails(void **state)
{
    char path[COL_PATH_MAX];
    const uint32_t dims[3] = {N_SMALL - 1, 28, 28};
    write_idx(path_in(*state, "one-image-extra", path), 3, dims, small_pixels, sizeof small_pixels);
    expect_read_error(path, "longer than its header claims");
}

static void gzip_count_mismatch_fails(void **state)
{
    char path[COL_PATH_MAX];
    size_t n;

    /* header claims more images than the compressed data contains */
    const uint32_t more[3] = {N_SMALL + 1, 28, 28};
    uint8_t *raw = idx_bytes(3, more, small_pixels, sizeof small_pixels, &n);
    write_gzip(path_in(*state, "more.gz", path), raw, n);
    expect_read_error(path, "shorter than its header claims");
    free(raw);

    /* header claims far more than a deflate stream of this size can inflate to */
    const uint32_t huge[3] = {2000000, 28, 28};
    raw = idx_bytes(3, huge, small_pixels, sizeof small_pixels, &n);
    write_gzip(path_in(*state, "huge.gz", path), raw, n);
    expect_read_error(path, "decompress to at most");
    free(raw);

    /* header claims fewer images than the data contains */
    const uint32_t fewer[3] = {N_SMALL - 1, 28, 28};
    raw = idx_bytes(3, fewer, small_pixels, sizeof small_pixels, &n);
    write_gzip(path_in(*state, "fewer.gz", path), raw, n);
    expect_read_error(path, "longer than its header claims");
    free(raw);
}

static void gzip_cut_short_fails(void **state)
{
    size_t n_raw, n_gz;
    uint8_t *raw = idx_bytes(3, small_image_dims, small_pixels, sizeof small_pixels, &n_raw);
    uint8_t *gz = gzip_bytes(raw, n_raw, &n_gz);
    char path[COL_PATH_MAX];

    write_bytes(path_in(*state, "cut-half.gz", path), gz, n_gz / 2);
    expect_read_error(path, "gzip data ends early");

    /* all data present, only the 8-byte trailer (CRC-32 and length) missing */
    write_bytes(path_in(*state, "cut-trailer.gz", path), gz, n_gz - 8);
    expect_read_error(path, "gzip data ends early");

    /* just the gzip magic */
    write_bytes(path_in(*state, "magic-only.gz", path), gz, 2);
    expect_read_error(path, "gzip data ends early");
    free(raw);
    free(gz);
}

static void gzip_corrupt_fails(void **state)
{
    size_t n_raw, n_gz;
    uint8_t *raw = idx_bytes(3, small_image_dims, small_pixels, sizeof small_pixels, &n_raw);
    uint8_t *gz = gzip_bytes(raw, n_raw, &n_gz);
    char path[COL_PATH_MAX];

    /* a damaged CRC-32 in the trailer */
    gz[n_gz - 8] ^= 0xff;
    write_bytes(path_in(*state, "bad-crc.gz", path), gz, n_gz);
    expect_read_error(path, "gzip data is corrupt");
    gz[n_gz - 8] ^= 0xff;

    /* bytes after the end of the gzip data */
    uint8_t *padded = malloc(n_gz + 4);
    memcpy(padded, gz, n_gz);
    memcpy(padded + n_gz, "junk", 4);
    write_bytes(path_in(*state, "trailing.gz", path), padded, n_gz + 4);
    expect_read_error(path, "after the end of the gzip data");
    free(padded);
    free(raw);
    free(gz);
}

static void truncated_zip_fails(void **state)
{
    size_t n_raw;
    uint8_t *raw = idx_bytes(3, small_image_dims, small_pixels, sizeof small_pixels, &n_raw);
    char zip[COL_PATH_MAX], member[COL_PATH_MAX];
    zip_entry entry = {"gzip/images", raw, n_raw, 0};
    write_zip(path_in(*state, "whole.zip", zip), &entry, 1);

    size_t n_zip;
    uint8_t *bytes = read_bytes(zip, &n_zip);
    write_bytes(path_in(*state, "cut.zip", zip), bytes, n_zip / 2);
    member_path(zip, "gzip/images", member);
    expect_read_error(member, "is unreadable");
    expect_read_error(member, "truncated");

    write_bytes(path_in(*state, "empty.zip", zip), "", 0);
    member_path(zip, "gzip/images", member);
    expect_read_error(member, "is empty");
    free(bytes);
    free(raw);
}

static void missing_zip_member_fails(void **state)
{
    size_t n_raw;
    uint8_t *raw = idx_bytes(1, small_label_dims, small_labels, sizeof small_labels, &n_raw);
    char zip[COL_PATH_MAX], member[COL_PATH_MAX];
    zip_entry entries[8];
    char names[8][64];
    for (int i = 0; i < 8; i++) {
        snprintf(names[i], sizeof names[i], "gzip/emnist-split%d-test-labels-idx1-ubyte.gz", i);
        entries[i] = (zip_entry){names[i], raw, n_raw, 1};
    }
    write_zip(path_in(*state, "gzip.zip", zip), entries, 8);

    member_path(zip, "gzip/emnist-balanced-train-images-idx3-ubyte.gz", member);
    expect_read_error(member, "has no member gzip/emnist-balanced-train-images-idx3-ubyte.gz");
    expect_read_error(member, "it holds 8 members: gzip/emnist-split0-test-labels-idx1-ubyte.gz");
    expect_read_error(member, "and 2 more");
    free(raw);
}

/* Reads path and checks the outcome: success, or failure with a message naming the file. */
static int read_outcome(const char *path)
{
    col_idx idx;
    col_error err = {""};
    int rc = col_idx_read(path, &idx, &err);
    if (rc == 0) {
        assert_non_null(idx.data);
        col_idx_free(&idx);
        return 0;
    }
    assert_int_equal(rc, -1);
    assert_null(idx.data);
    if (!strstr(err.msg, path))
        fail_msg("the error message does not name %s: \"%s\"", path, err.msg);
    return -1;
}

/* Every prefix and many random byte changes of raw, gzip and zip files: never a crash, a
 * failure always has a message, and every strict prefix fails. */
static void damaged_files_never_crash(void **state)
{
    size_t n_raw, n_gz, n_zip;
    uint8_t *raw = idx_bytes(3, small_image_dims, small_pixels, sizeof small_pixels, &n_raw);
    uint8_t *gz = gzip_bytes(raw, n_raw, &n_gz);
    char path[COL_PATH_MAX], zip[COL_PATH_MAX], member[COL_PATH_MAX];
    zip_entry entry = {"gzip/images.gz", gz, n_gz, 0};
    write_zip(path_in(*state, "whole.zip", zip), &entry, 1);
    uint8_t *zip_bytes = read_bytes(zip, &n_zip);

    const uint8_t *files[3] = {raw, gz, zip_bytes};
    const size_t sizes[3] = {n_raw, n_gz, n_zip};
    path_in(*state, "damaged", path);
    member_path(path, "gzip/images.gz", member);
    const char *read_paths[3] = {path, path, member};

    for (int f = 0; f < 3; f++) {
        for (size_t len = 0; len < sizes[f]; len++) {
            write_bytes(path, files[f], len);
            assert_int_equal(read_outcome(read_paths[f]), -1);
        }
        write_bytes(path, files[f], sizes[f]);
        assert_int_equal(read_outcome(read_paths[f]), 0);
    }

    /* a fixed linear congruential sequence keeps the test repeatable */
    uint32_t x = 12345;
    uint8_t *copy = malloc(n_zip > n_raw ? n_zip : n_raw);
    int failures = 0;
    for (int trial = 0; trial < 1500; trial++) {
        int f = trial % 3;
        memcpy(copy, files[f], sizes[f]);
        for (int k = 0; k < 1 + trial % 4; k++) {
            x = x * 1664525u + 1013904223u;
            size_t at = (x >> 8) % sizes[f];
            /* half of the changes hit the first 64 bytes, where the headers are */
            if (trial % 2 && at >= 64)
                at %= 64;
            x = x * 1664525u + 1013904223u;
            copy[at] ^= (uint8_t)(1 + (x >> 24) % 255);
        }
        write_bytes(path, copy, sizes[f]);
        failures += read_outcome(read_paths[f]) != 0;
    }
    print_message("%d of 1500 damaged files were rejected\n", failures);
    assert_true(failures > 0);

    free(copy);
    free(zip_bytes);
    free(raw);
    free(gz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(raw_files_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(gzip_detected_by_content, setup, teardown),
        cmocka_unit_test_setup_teardown(gzip_members_concatenated, setup, teardown),
        cmocka_unit_test_setup_teardown(zip_member_gzip_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_file_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_file_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(short_header_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_magic_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(html_page_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(text_file_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(zip_given_as_file_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_dimension_count_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(float_idx_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(zero_image_side_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(count_larger_than_file_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(payload_longer_than_claimed_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(gzip_count_mismatch_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(gzip_cut_short_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(gzip_corrupt_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_zip_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_zip_member_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(damaged_files_never_crash, setup, teardown),
    };
    return cmocka_run_group_tests_name("data_idx", tests, NULL, NULL);
}
