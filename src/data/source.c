/*
 * Byte sources: the stored bytes of a plain file or of one member of a zip archive.
 *
 * A zip member is addressed as "ARCHIVE.zip::member/name", split at the first "::". The
 * archive is read with libzip, which inflates deflated members and checks their CRC; a
 * member may itself hold gzip data (NIST's EMNIST gzip.zip does), which idx.c decodes.
 */
#include "data_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* How many member names an error message lists before "and N more". */
#define MEMBERS_LISTED 6

int source_is_member_path(const char *path, const char **archive_end)
{
    const char *sep = strstr(path, ZIP_MEMBER_SEPARATOR);
    if (!sep)
        return 0;
    if (archive_end)
        *archive_end = sep;
    return 1;
}

/* ---------------------------------------------------------------- zip archives */

/* Appends a short list of the archive's member names to msg (capacity cap). */
static void list_members(zip_t *archive, char *msg, size_t cap)
{
    zip_int64_t n = zip_get_num_entries(archive, 0);
    size_t len = strlen(msg);
    if (n <= 0) {
        snprintf(msg + len, cap - len, "it holds no members");
        return;
    }

    len += (size_t)snprintf(msg + len, cap - len, "it holds %lld member%s: ", (long long)n,
                            n == 1 ? "" : "s");
    zip_int64_t n_listed = n < MEMBERS_LISTED ? n : MEMBERS_LISTED;
    for (zip_int64_t i = 0; i < n_listed && len < cap; i++) {
        const char *name = zip_get_name(archive, (zip_uint64_t)i, 0);
        len += (size_t)snprintf(msg + len, cap - len, "%s%.80s", i ? ", " : "", name ? name : "?");
    }
    if (n > n_listed && len < cap)
        snprintf(msg + len, cap - len, ", and %lld more", (long long)(n - n_listed));
}

/* Opens archive_path read-only; on failure explains the libzip error code. */
static zip_t *open_archive(const char *archive_path, const char *path, col_error *err)
{
    struct stat st;
    if (stat(archive_path, &st) != 0) {
        col_fail(err, "%s: zip archive %s cannot be opened: %s; check the path", path,
                 archive_path, strerror(errno));
        return NULL;
    }
    if (S_ISREG(st.st_mode) && st.st_size == 0) {
        col_fail(err, "%s: zip archive %s is empty (0 bytes); the download or copy failed, "
                 "fetch it again", path, archive_path);
        return NULL;
    }

    int code = 0;
    zip_t *archive = zip_open(archive_path, ZIP_RDONLY, &code);
    if (archive)
        return archive;

    zip_error_t zerr;
    zip_error_init_with_code(&zerr, code);
    const char *hint = "check that it is a zip archive and fetch it again if it is damaged";
    if (code == ZIP_ER_NOZIP || code == ZIP_ER_INCONS)
        hint = "a zip archive keeps its table of contents at its end, so a truncated or "
               "damaged download reads like this; fetch it again";
    col_fail(err, "%s: zip archive %s is unreadable (%s); %s", path, archive_path,
             zip_error_strerror(&zerr), hint);
    zip_error_fini(&zerr);
    return NULL;
}

static int open_member(data_source *source, const char *path, const char *sep, col_error *err)
{
    size_t archive_len = (size_t)(sep - path);
    const char *member_name = sep + strlen(ZIP_MEMBER_SEPARATOR);
    if (archive_len == 0 || *member_name == '\0')
        return col_fail(err, "%s: invalid zip member path; write it as ARCHIVE.zip::member/name",
                        path);

    char *archive_path = col_malloc(archive_len + 1, "zip archive path");
    memcpy(archive_path, path, archive_len);
    archive_path[archive_len] = '\0';

    zip_t *archive = open_archive(archive_path, path, err);
    if (!archive) {
        free(archive_path);
        return -1;
    }

    zip_int64_t index = zip_name_locate(archive, member_name, 0);
    if (index < 0) {
        char msg[1536];
        snprintf(msg, sizeof msg, "zip archive %s has no member %s; ", archive_path, member_name);
        list_members(archive, msg, sizeof msg);
        col_fail(err, "%s: %s", path, msg);
        zip_discard(archive);
        free(archive_path);
        return -1;
    }

    zip_stat_t st;
    zip_stat_init(&st);
    int size_known = zip_stat_index(archive, (zip_uint64_t)index, 0, &st) == 0 &&
                     (st.valid & ZIP_STAT_SIZE);

    zip_file_t *member = zip_fopen_index(archive, (zip_uint64_t)index, 0);
    if (!member) {
        col_fail(err, "%s: cannot read member %s of zip archive %s (%s); fetch the archive again",
                 path, member_name, archive_path, zip_strerror(archive));
        zip_discard(archive);
        free(archive_path);
        return -1;
    }

    free(archive_path);
    source->archive = archive;
    source->member = member;
    source->size_known = size_known;
    source->size = size_known ? (uint64_t)st.size : 0;
    return 0;
}

/* ---------------------------------------------------------------- plain files and the API */

static int open_file(data_source *source, const char *path, col_error *err)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return col_fail(err, "%s cannot be opened: %s; check the path and the data set folder",
                        path, strerror(errno));

    struct stat st;
    if (fstat(fileno(file), &st) != 0) {
        int saved = errno;
        fclose(file);
        return col_fail(err, "%s cannot be examined: %s", path, strerror(saved));
    }
    if (S_ISDIR(st.st_mode)) {
        fclose(file);
        return col_fail(err, "%s is a folder, but a data file is expected there", path);
    }

    source->file = file;
    source->size_known = S_ISREG(st.st_mode);
    source->size = source->size_known ? (uint64_t)st.st_size : 0;
    return 0;
}

int source_open(data_source *source, const char *path, col_error *err)
{
    memset(source, 0, sizeof *source);
    source->path = path;
    if (!path || !*path)
        return col_fail(err, "a data file path is empty; set it in the data set configuration");

    const char *sep;
    if (source_is_member_path(path, &sep))
        return open_member(source, path, sep, err);
    return open_file(source, path, err);
}

int64_t source_read(data_source *source, void *buf, size_t n, col_error *err)
{
    if (source->file) {
        size_t got = fread(buf, 1, n, source->file);
        if (got < n && ferror(source->file))
            return col_fail(err, "%s: read failed: %s", source->path, strerror(errno));
        return (int64_t)got;
    }

    /* zip_fread may return fewer bytes than asked before the end; fill the buffer. */
    size_t total = 0;
    while (total < n) {
        zip_int64_t got = zip_fread(source->member, (char *)buf + total, n - total);
        if (got < 0)
            return col_fail(err, "%s: reading the zip member failed (%s); the archive is "
                            "damaged, fetch it again", source->path,
                            zip_file_strerror(source->member));
        if (got == 0)
            break;
        total += (size_t)got;
    }
    return (int64_t)total;
}

void source_close(data_source *source)
{
    if (source->file)
        fclose(source->file);
    if (source->member)
        zip_fclose(source->member);
    if (source->archive)
        zip_discard(source->archive);
    memset(source, 0, sizeof *source);
}

int source_exists(const char *path)
{
    const char *sep;
    if (!source_is_member_path(path, &sep)) {
        struct stat st;
        return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
    }

    size_t archive_len = (size_t)(sep - path);
    char *archive_path = col_malloc(archive_len + 1, "zip archive path");
    memcpy(archive_path, path, archive_len);
    archive_path[archive_len] = '\0';

    int code = 0;
    zip_t *archive = zip_open(archive_path, ZIP_RDONLY, &code);
    free(archive_path);
    if (!archive)
        return 0;
    int found = zip_name_locate(archive, sep + strlen(ZIP_MEMBER_SEPARATOR), 0) >= 0;
    zip_discard(archive);
    return found;
}
