/*
 * IDX reader: unsigned-byte IDX files (the MNIST format), raw or gzip, as plain files or as
 * zip members.
 *
 * Format: a 4-byte magic number 0x00 0x00 <type> <n_dims>, then n_dims big-endian uint32
 * sizes, then the payload in row-major order. Only type 0x08 (unsigned byte) with 1 dimension
 * (labels, magic 0x00000801) or 3 dimensions (images, magic 0x00000803) is accepted.
 *
 * Every size is checked before memory is allocated for it: the header's counts against the
 * stored size for raw data, against the most that the compressed bytes can inflate to for
 * gzip data, and against COL_IDX_MAX_BYTES always. For gzip data the buffer then grows with
 * the bytes that actually arrive, so a hostile header cannot make the reader allocate more
 * than the data holds.
 */
#include "data_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#define IDX_TYPE_UBYTE 0x08
#define GZIP_MAGIC_0 0x1f
#define GZIP_MAGIC_1 0x8b

/* Deflate cannot compress better than 1032:1, because a match covers at most 258 bytes and
 * costs at least 2 bits (a length code and a distance code). So n compressed bytes inflate
 * to at most n * 1032 bytes, plus slack for the gzip header and trailer. */
#define DEFLATE_MAX_RATIO 1032u
#define DEFLATE_SLACK_BYTES 4096u

/* First allocation for a gzip payload; the buffer doubles from there as data arrives. */
#define GZIP_INITIAL_BYTES (1u << 20)

#define IN_BUF_BYTES (1u << 16)

/* ---------------------------------------------------------------- decoded byte stream */

/* The bytes of a source after gzip decoding (if its content starts with the gzip magic). */
typedef struct byte_stream {
    data_source source;
    int is_gzip;
    z_stream zs;
    int zs_ready;        /* inflateInit2 succeeded */
    int member_ended;    /* the current gzip member reached its end */
    int source_ended;    /* the source returned 0 bytes */
    uint8_t *in;         /* [IN_BUF_BYTES] raw bytes not yet consumed */
    size_t in_pos, in_len;
    uint64_t decoded;    /* bytes delivered so far */
} byte_stream;

/* Refills the input buffer when it is empty; sets source_ended at the end of the source. */
static int refill(byte_stream *st, col_error *err)
{
    if (st->in_pos < st->in_len || st->source_ended)
        return 0;
    int64_t got = source_read(&st->source, st->in, IN_BUF_BYTES, err);
    if (got < 0)
        return -1;
    st->in_pos = 0;
    st->in_len = (size_t)got;
    if (got == 0)
        st->source_ended = 1;
    return 0;
}

static int stream_open(byte_stream *st, const char *path, col_error *err)
{
    memset(st, 0, sizeof *st);
    if (source_open(&st->source, path, err) != 0)
        return -1;
    st->in = col_malloc(IN_BUF_BYTES, "IDX input buffer");

    /* gzip is recognized by content, not by name: a file called .gz may be raw and vice versa */
    if (refill(st, err) != 0)
        return -1;
    if (st->in_len == 0)
        return col_fail(err, "%s is empty (0 bytes); the download or copy failed, fetch the "
                        "file again", path);
    if (st->in_len >= 2 && st->in[0] == GZIP_MAGIC_0 && st->in[1] == GZIP_MAGIC_1) {
        st->is_gzip = 1;
        /* 16 + MAX_WBITS: expect a gzip wrapper, so zlib checks its CRC-32 and length */
        if (inflateInit2(&st->zs, 16 + MAX_WBITS) != Z_OK)
            COL_FATAL("zlib inflateInit2 failed for %s (out of memory)", path);
        st->zs_ready = 1;
    }
    return 0;
}

static void stream_close(byte_stream *st)
{
    if (st->zs_ready)
        inflateEnd(&st->zs);
    free(st->in);
    source_close(&st->source);
    memset(st, 0, sizeof *st);
}

/* Reads raw bytes: the buffered ones first, then straight from the source. */
static int64_t read_raw(byte_stream *st, uint8_t *buf, size_t n, col_error *err)
{
    size_t total = 0;
    size_t buffered = st->in_len - st->in_pos;
    if (buffered > 0) {
        size_t take = buffered < n ? buffered : n;
        memcpy(buf, st->in + st->in_pos, take);
        st->in_pos += take;
        total = take;
    }
    while (total < n && !st->source_ended) {
        int64_t got = source_read(&st->source, buf + total, n - total, err);
        if (got < 0)
            return -1;
        if (got == 0)
            st->source_ended = 1;
        total += (size_t)got;
    }
    return (int64_t)total;
}

/*
 * Decodes gzip data into buf. Concatenated gzip members are decoded one after the other, as
 * gzip(1) does; any other bytes after the end of the gzip data are an error.
 */
static int64_t read_gzip(byte_stream *st, uint8_t *buf, size_t n, col_error *err)
{
    const char *path = st->source.path;
    z_stream *zs = &st->zs;
    size_t total = 0;

    while (total < n) {
        if (refill(st, err) != 0)
            return -1;
        size_t available = st->in_len - st->in_pos;

        if (st->member_ended) {
            if (available == 0)
                break; /* the end of the data */
            if (available < 2 && !st->source_ended) {
                /* the next member's magic may straddle the buffer end: keep the byte */
                memmove(st->in, st->in + st->in_pos, available);
                st->in_len = available;
                st->in_pos = 0;
                int64_t got = source_read(&st->source, st->in + available, IN_BUF_BYTES - available, err);
                if (got < 0)
                    return -1;
                if (got == 0)
                    st->source_ended = 1;
                st->in_len += (size_t)got;
                available = st->in_len;
            }
            if (available < 2 || st->in[st->in_pos] != GZIP_MAGIC_0 ||
                st->in[st->in_pos + 1] != GZIP_MAGIC_1)
                return col_fail(err, "%s: unexpected bytes after the end of the gzip data; the "
                                "file is damaged, fetch it again", path);
            inflateReset(zs);
            st->member_ended = 0;
        }

        zs->next_in = st->in + st->in_pos;
        zs->avail_in = (uInt)available;
        zs->next_out = buf + total;
        size_t want = n - total;
        zs->avail_out = want > UINT32_MAX ? UINT32_MAX : (uInt)want;
        uInt out_before = zs->avail_out;
        uInt in_before = zs->avail_in;

        int ret = inflate(zs, Z_NO_FLUSH);
        size_t produced = out_before - zs->avail_out;
        total += produced;
        st->in_pos += in_before - zs->avail_in;

        if (ret == Z_STREAM_END) {
            st->member_ended = 1;
            continue;
        }
        if (ret == Z_DATA_ERROR)
            return col_fail(err, "%s: gzip data is corrupt after %llu decompressed bytes "
                            "(zlib: %s); fetch the file again", path,
                            (unsigned long long)(st->decoded + total), zs->msg ? zs->msg : "data error");
        if (ret == Z_MEM_ERROR)
            COL_FATAL("zlib ran out of memory decompressing %s", path);
        if (ret != Z_OK && ret != Z_BUF_ERROR)
            return col_fail(err, "%s: gzip decompression failed (zlib error %d)", path, ret);

        /* no progress with all input consumed and the source at its end: data cut short */
        if (produced == 0 && st->in_pos == st->in_len && st->source_ended)
            return col_fail(err, "%s: gzip data ends early, after %llu decompressed bytes: the "
                            "file is cut short, fetch it again", path,
                            (unsigned long long)(st->decoded + total));
    }

    return (int64_t)total;
}

/* Reads up to n decoded bytes; fewer only at the end of the data. */
static int64_t stream_read(byte_stream *st, void *buf, size_t n, col_error *err)
{
    int64_t got = st->is_gzip ? read_gzip(st, buf, n, err) : read_raw(st, buf, n, err);
    if (got > 0)
        st->decoded += (uint64_t)got;
    return got;
}

/* ---------------------------------------------------------------- header checks */

/* Names what a file that is not IDX looks like, from its first bytes. */
static const char *describe_foreign(const uint8_t *head, size_t n)
{
    if (n >= 4 && memcmp(head, "PK\x03\x04", 4) == 0)
        return "it is a zip archive; address a member as ARCHIVE.zip::member/name";
    if (n >= 6 && memcmp(head, "\xfd" "7zXZ\x00", 6) == 0)
        return "it is xz-compressed; decompress it first";
    if (n >= 3 && memcmp(head, "BZh", 3) == 0)
        return "it is bzip2-compressed; decompress it first";

    size_t start = 0;
    while (start < n && isspace(head[start]))
        start++;
    if (start < n && head[start] == '<') {
        for (size_t i = start; i + 4 <= n; i++)
            if (strncasecmp((const char *)head + i, "html", 4) == 0)
                return "it looks like an HTML page, probably an error page saved by a failed "
                       "download; fetch the file again";
    }

    size_t printable = 0;
    for (size_t i = 0; i < n; i++)
        if (isprint(head[i]) || isspace(head[i]))
            printable++;
    if (n > 0 && printable == n)
        return "it looks like a text file, not binary IDX data; check that the path names the "
               "data file";
    return "check that the path names an IDX data file (MNIST format)";
}

/* Fails with the magic number found and a guess at what the file is instead. */
static int fail_magic(byte_stream *st, const uint8_t head4[4], col_error *err)
{
    uint8_t head[256];
    memcpy(head, head4, 4);
    size_t n = 4;
    int64_t more = stream_read(st, head + 4, sizeof head - 4, NULL);
    if (more > 0)
        n += (size_t)more;

    uint32_t magic = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
    if (head[0] == 0 && head[1] == 0 && head[2] != IDX_TYPE_UBYTE)
        return col_fail(err, "%s: IDX data of type 0x%02x (magic 0x%08x); only unsigned-byte IDX "
                        "files (type 0x08, magic 0x00000801 or 0x00000803) can be read",
                        st->source.path, head[2], magic);
    return col_fail(err, "%s is not an IDX file: wrong magic number 0x%08x, expected 0x00000801 "
                    "(labels) or 0x00000803 (images)%s; %s", st->source.path, magic,
                    st->is_gzip ? " after gzip decompression" : "", describe_foreign(head, n));
}

/* Fails for a header that ends early. */
static int fail_short_header(byte_stream *st, uint64_t got, uint64_t need, col_error *err)
{
    return col_fail(err, "%s: short header, %llu bytes of data%s, but an IDX header needs %llu "
                    "bytes; the file is truncated, fetch it again", st->source.path,
                    (unsigned long long)got, st->is_gzip ? " after gzip decompression" : "",
                    (unsigned long long)need);
}

/* Reads and checks the magic number and dimensions; sets the payload size in bytes. */
static int read_header(byte_stream *st, col_idx *out, uint64_t *payload_bytes, col_error *err)
{
    const char *path = st->source.path;
    uint8_t head[16];

    int64_t got = stream_read(st, head, 4, err);
    if (got < 0)
        return -1;
    if (got < 4)
        return fail_short_header(st, (uint64_t)got, 4, err);
    if (head[0] != 0 || head[1] != 0 || head[2] != IDX_TYPE_UBYTE)
        return fail_magic(st, head, err);

    int n_dims = head[3];
    if (n_dims != 1 && n_dims != 3)
        return col_fail(err, "%s: invalid IDX header, magic 0x%08x declares %d dimensions; only 1 "
                        "(labels, magic 0x00000801) or 3 (images, magic 0x00000803) can be read",
                        path, 0x0800u | (unsigned)n_dims, n_dims);

    size_t dims_bytes = 4u * (size_t)n_dims;
    got = stream_read(st, head + 4, dims_bytes, err);
    if (got < 0)
        return -1;
    if ((size_t)got < dims_bytes)
        return fail_short_header(st, 4 + (uint64_t)got, 4 + dims_bytes, err);

    for (int d = 0; d < n_dims; d++) {
        const uint8_t *p = head + 4 + 4 * d;
        uint32_t size = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (size > INT32_MAX)
            return col_fail(err, "%s: invalid IDX header, dimension %d is %lu, beyond the limit of "
                            "%d; the file is damaged or not an IDX file", path, d,
                            (unsigned long)size, INT32_MAX);
        if (size == 0 && d > 0)
            return col_fail(err, "%s: invalid IDX header, dimension %d is 0; the file is damaged "
                            "or not an IDX file", path, d);
        out->dims[d] = (int)size;
    }

    /* each factor is below 2^31 and the product is checked after each step: no overflow */
    uint64_t total = 1;
    for (int d = 0; d < n_dims && total <= COL_IDX_MAX_BYTES; d++)
        total *= (uint64_t)out->dims[d];
    if (total > COL_IDX_MAX_BYTES) {
        char dims_text[64];
        if (n_dims == 1)
            snprintf(dims_text, sizeof dims_text, "%d", out->dims[0]);
        else
            snprintf(dims_text, sizeof dims_text, "%d x %d x %d", out->dims[0], out->dims[1],
                     out->dims[2]);
        return col_fail(err, "%s: the IDX header describes %s bytes of data, more than the "
                        "reader's limit of %llu bytes; the header is damaged or the file is not "
                        "what it claims", path, dims_text, (unsigned long long)COL_IDX_MAX_BYTES);
    }
    for (int d = n_dims; d < 3; d++)
        out->dims[d] = 1;
    out->n_dims = n_dims;
    *payload_bytes = total;
    return 0;
}

/* Describes the header's shape for messages, e.g. "60000 x 28 x 28". */
static void shape_text(const col_idx *idx, char *buf, size_t cap)
{
    if (idx->n_dims == 1)
        snprintf(buf, cap, "%d labels", idx->dims[0]);
    else
        snprintf(buf, cap, "%d images of %d x %d", idx->dims[0], idx->dims[1], idx->dims[2]);
}

/* ---------------------------------------------------------------- payload */

/* Compares the header's payload with the stored size of raw data, before any allocation. */
static int check_stored_size(byte_stream *st, const col_idx *out, uint64_t payload,
                             uint64_t header_bytes, col_error *err)
{
    /* a zip member's size comes from the archive's directory, so it may be wrong: the
     * reading that follows checks the real length again */
    if (st->is_gzip || !st->source.size_known || st->source.size < header_bytes)
        return 0;

    const char *path = st->source.path;
    char shape[96];
    shape_text(out, shape, sizeof shape);
    uint64_t stored = st->source.size - header_bytes;
    if (stored < payload)
        return col_fail(err, "%s is shorter than its header claims: the header describes %s "
                        "(%llu bytes), but only %llu bytes follow the header; the file is "
                        "truncated, fetch it again", path, shape, (unsigned long long)payload,
                        (unsigned long long)stored);
    if (stored > payload)
        return col_fail(err, "%s is longer than its header claims: the header describes %s "
                        "(%llu bytes), but %llu bytes follow the header; the file is damaged or "
                        "not the IDX file it appears to be", path, shape,
                        (unsigned long long)payload, (unsigned long long)stored);
    return 0;
}

/* Raw data of a plain file whose size check_stored_size has confirmed: one allocation. */
static int read_exact_payload(byte_stream *st, col_idx *out, uint64_t payload, col_error *err)
{
    out->data = col_malloc((size_t)payload, "IDX payload");
    int64_t got = stream_read(st, out->data, (size_t)payload, err);
    if (got < 0)
        return -1;
    if ((uint64_t)got < payload)
        return col_fail(err, "%s: only %llu of %llu bytes could be read; the file changed while "
                        "being read, read it again", st->source.path, (unsigned long long)got,
                        (unsigned long long)payload);
    return 0;
}

/* Data of unknown or untrusted size (gzip data, zip members, pipes): grow with the data. */
static int read_growing_payload(byte_stream *st, col_idx *out, uint64_t payload, col_error *err)
{
    const char *path = st->source.path;
    char shape[96];
    shape_text(out, shape, sizeof shape);

    if (st->is_gzip && st->source.size_known && st->source.size < UINT64_MAX / (2 * DEFLATE_MAX_RATIO)) {
        uint64_t limit = st->source.size * DEFLATE_MAX_RATIO + DEFLATE_SLACK_BYTES;
        if (payload > limit)
            return col_fail(err, "%s is shorter than its header claims: the header describes %s "
                            "(%llu bytes), but %llu bytes of gzip data decompress to at most "
                            "%llu bytes; the file is truncated or damaged, fetch it again", path,
                            shape, (unsigned long long)payload,
                            (unsigned long long)st->source.size, (unsigned long long)limit);
    }

    size_t capacity = payload < GZIP_INITIAL_BYTES ? (size_t)payload : GZIP_INITIAL_BYTES;
    uint8_t *data = col_malloc(capacity, "IDX payload");
    uint64_t filled = 0;
    while (filled < payload) {
        if (filled == capacity) {
            size_t grown = capacity * 2 < payload ? capacity * 2 : (size_t)payload;
            uint8_t *bigger = realloc(data, grown);
            if (!bigger)
                COL_FATAL("out of memory growing the payload of %s to %zu bytes", path, grown);
            data = bigger;
            capacity = grown;
        }
        int64_t got = stream_read(st, data + filled, capacity - filled, err);
        if (got < 0) {
            free(data);
            return -1;
        }
        if (got == 0)
            break;
        filled += (uint64_t)got;
    }

    if (filled < payload) {
        free(data);
        return col_fail(err, "%s is shorter than its header claims: the header describes %s "
                        "(%llu bytes), but only %llu bytes follow the header%s; the file is "
                        "truncated, fetch it again", path, shape, (unsigned long long)payload,
                        (unsigned long long)filled, st->is_gzip ? " after decompression" : "");
    }
    out->data = data;
    return 0;
}

/* Checks that nothing follows the payload; for gzip this also runs zlib's CRC check. */
static int check_end(byte_stream *st, const col_idx *out, uint64_t payload, col_error *err)
{
    uint8_t extra[4096];
    uint64_t n_extra = 0;
    for (;;) {
        int64_t got = stream_read(st, extra, sizeof extra, err);
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        n_extra += (uint64_t)got;
        if (n_extra > (1u << 20))
            break; /* enough to report; no need to decode the rest */
    }
    if (n_extra == 0)
        return 0;

    char shape[96];
    shape_text(out, shape, sizeof shape);
    return col_fail(err, "%s is longer than its header claims: the header describes %s (%llu "
                    "bytes), but %s%llu more bytes follow%s; the file is damaged or not the IDX "
                    "file it appears to be", st->source.path, shape, (unsigned long long)payload,
                    n_extra > (1u << 20) ? "over " : "", (unsigned long long)n_extra,
                    st->is_gzip ? " after decompression" : "");
}

/* ---------------------------------------------------------------- API */

int col_idx_read(const char *path, col_idx *out, col_error *err)
{
    memset(out, 0, sizeof *out);

    byte_stream st;
    if (stream_open(&st, path, err) != 0) {
        stream_close(&st);
        return -1;
    }

    uint64_t payload = 0;
    int rc = read_header(&st, out, &payload, err);
    if (rc == 0) {
        uint64_t header_bytes = 4 + 4 * (uint64_t)out->n_dims;
        rc = check_stored_size(&st, out, payload, header_bytes, err);
        if (rc == 0 && !st.is_gzip && st.source.file && st.source.size_known)
            rc = read_exact_payload(&st, out, payload, err);
        else if (rc == 0)
            rc = read_growing_payload(&st, out, payload, err);
    }
    if (rc == 0)
        rc = check_end(&st, out, payload, err);
    stream_close(&st);

    if (rc != 0) {
        col_idx_free(out);
        return -1;
    }
    out->n_bytes = (size_t)payload;
    return 0;
}

void col_idx_free(col_idx *idx)
{
    if (!idx)
        return;
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}

size_t idx_header_bytes(const col_idx *idx, uint8_t out[16])
{
    out[0] = 0;
    out[1] = 0;
    out[2] = IDX_TYPE_UBYTE;
    out[3] = (uint8_t)idx->n_dims;
    for (int d = 0; d < idx->n_dims; d++) {
        uint32_t size = (uint32_t)idx->dims[d];
        out[4 + 4 * d] = (uint8_t)(size >> 24);
        out[5 + 4 * d] = (uint8_t)(size >> 16);
        out[6 + 4 * d] = (uint8_t)(size >> 8);
        out[7 + 4 * d] = (uint8_t)size;
    }
    return 4 + 4 * (size_t)idx->n_dims;
}
