/*
 * Internal interfaces of the data layer, shared by the files in src/data/ only.
 *
 * A data_source reads the stored bytes of a plain file or of one member of a zip archive
 * (addressed as "ARCHIVE.zip::member/name"), without interpreting them: gzip decoding and
 * IDX parsing sit on top of it in idx.c, digests in checksum.c.
 */
#ifndef COLLAPSE_DATA_INTERNAL_H
#define COLLAPSE_DATA_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include <zip.h>

#include "collapse/data.h"

/* Separator between an archive path and a member name. */
#define ZIP_MEMBER_SEPARATOR "::"

/* ---------------------------------------------------------------- byte sources */

typedef struct data_source {
    const char *path;    /* as given by the caller, for messages; not owned */
    FILE *file;          /* plain file, or NULL */
    zip_t *archive;      /* zip archive and open member, or NULL */
    zip_file_t *member;
    int size_known;      /* 1 when size is the exact number of stored bytes */
    uint64_t size;       /* bytes of the file or of the member (uncompressed by zip) */
} data_source;

/*
 * Opens a plain file or "ARCHIVE::MEMBER". Returns 0, or -1 with a message naming the path,
 * the problem (missing file, unreadable or truncated zip, missing member with a short list
 * of what the archive holds) and what to do. On failure nothing stays open.
 */
int source_open(data_source *source, const char *path, col_error *err);

/* Reads up to n bytes. Returns the count read (0 only at the end), or -1 with a message. */
int64_t source_read(data_source *source, void *buf, size_t n, col_error *err);

void source_close(data_source *source);

/* Returns 1 if a plain file, or a zip archive holding the member, exists at path, else 0. */
int source_exists(const char *path);

/* Points *archive_end at the "::" in path and returns 1 for a zip member path, else 0. */
int source_is_member_path(const char *path, const char **archive_end);

/* ---------------------------------------------------------------- IDX content */

/* Writes the IDX header of idx (magic and big-endian dimensions) to out; returns its length. */
size_t idx_header_bytes(const col_idx *idx, uint8_t out[16]);

/* ---------------------------------------------------------------- checksums */

/*
 * col_checksum_verify with two extras for the loader: content, if not NULL, is the already
 * decoded IDX content of path (spares a second decompression for gzip files), and
 * *source_out receives the data set whose published file matched ("MNIST",
 * "Fashion-MNIST", "EMNIST"), or NULL when the name is unknown.
 */
int checksum_verify_known(const char *path, const col_idx *content, char *digest_out,
                          const char **source_out, col_error *err);

/* ---------------------------------------------------------------- class names */

/* An EMNIST split: its class count, and the offset subtracted from stored labels. */
typedef struct emnist_split {
    const char *name;
    int n_classes;
    int label_offset;
} emnist_split;

/* Returns the split called name, or NULL. */
const emnist_split *emnist_split_find(const char *name);

/* Fills info->class_names: "0", "1", ... for digit-like classes. */
void class_names_digits(col_data_info *info, int n_classes);
void class_names_fashion(col_data_info *info);

/* Fills the names NIST's mapping file of the split gives, for when no mapping file is at hand. */
void class_names_emnist_builtin(const emnist_split *split, col_data_info *info);

/*
 * Reads an EMNIST mapping file (plain or zip member) into info->class_names. Checks that it
 * names every class of the split exactly once. Returns 0, or -1 with a message.
 */
int class_names_emnist_mapping(const char *path, const emnist_split *split, col_data_info *info,
                               col_error *err);

#endif
