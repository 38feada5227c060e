/*
 * Helpers for the data layer tests: a temporary folder per test, and writers for IDX, gzip
 * and zip files. Every helper fails the running cmocka test on an I/O error.
 */
#ifndef COLLAPSE_TESTS_DATA_TEST_UTIL_H
#define COLLAPSE_TESTS_DATA_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "collapse/data.h"

/* Creates a fresh folder under $TMPDIR (or /tmp); the caller frees it with temp_dir_remove. */
char *temp_dir_create(void);

/* Removes the folder and everything in it, then frees the name. */
void temp_dir_remove(char *dir);

/* Writes dir/name into out (COL_PATH_MAX bytes) and returns out. */
char *path_in(const char *dir, const char *name, char *out);

/* Writes "zip::member" into out (COL_PATH_MAX bytes) and returns out. */
char *member_path(const char *zip, const char *member, char *out);

void write_bytes(const char *path, const void *data, size_t n);

/* Reads a whole file; *n receives its size. The caller frees the buffer. */
uint8_t *read_bytes(const char *path, size_t *n);

/* Builds an IDX file in memory: magic 0x000008<n_dims>, the dimensions, then the payload. */
uint8_t *idx_bytes(int n_dims, const uint32_t *dims, const uint8_t *payload, size_t payload_bytes,
                   size_t *n_out);

/* Writes an IDX file of unsigned bytes, raw. dims has n_dims entries. */
void write_idx(const char *path, int n_dims, const uint32_t *dims, const uint8_t *payload,
               size_t payload_bytes);

/* Compresses data into a gzip buffer (one member); *n_out receives its size. */
uint8_t *gzip_bytes(const void *data, size_t n, size_t *n_out);

/* Writes data as a gzip file. */
void write_gzip(const char *path, const void *data, size_t n);

/* A zip member to write: name, content, and 1 to store it uncompressed (else deflate). */
typedef struct zip_entry {
    const char *name;
    const void *data;
    size_t n;
    int store;
} zip_entry;

/* Writes a zip archive with the given members, using libzip. */
void write_zip(const char *path, const zip_entry *entries, int n_entries);

/* Fails the test unless the error message contains fragment; prints the message either way. */
void expect_error(const col_error *err, const char *fragment);

/* Fails the test with a clear message if a real data file is missing. */
void require_file(const char *path, const char *description);

/* MD5 of a buffer as lower-case hex (33 bytes). */
void md5_hex(const void *data, size_t n, char out[33]);

#endif
