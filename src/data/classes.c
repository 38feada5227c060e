/*
 * Class counts and names of the named data sets: MNIST digits, Fashion-MNIST articles, and
 * the EMNIST splits with their mapping files ("index ascii_code [ascii_code ...]" per line,
 * as in NIST's emnist-<split>-mapping.txt).
 */
#include "data_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A mapping file lists at most COL_MAX_CLASSES short lines; anything larger is not one. */
#define MAPPING_MAX_BYTES 65536

static const char *const fashion_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

/* Characters of the EMNIST classes in label order, as NIST's mapping files give them.
 * Balanced and ByMerge merge the lower-case letters that look like their capitals. */
static const char merged_chars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt";
static const char byclass_chars[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static const emnist_split emnist_splits[] = {
    {"balanced", 47, 0},
    {"bymerge", 47, 0},
    {"byclass", 62, 0},
    {"letters", 26, 1}, /* labels 1..26 on disk, one class per letter in either case */
    {"digits", 10, 0},
    {"mnist", 10, 0},
};

const emnist_split *emnist_split_find(const char *name)
{
    for (size_t i = 0; i < sizeof emnist_splits / sizeof emnist_splits[0]; i++)
        if (strcmp(emnist_splits[i].name, name) == 0)
            return &emnist_splits[i];
    return NULL;
}

void class_names_digits(col_data_info *info, int n_classes)
{
    for (int c = 0; c < n_classes; c++)
        snprintf(info->class_names[c], sizeof info->class_names[c], "%d", c);
}

void class_names_fashion(col_data_info *info)
{
    for (int c = 0; c < 10; c++)
        snprintf(info->class_names[c], sizeof info->class_names[c], "%s", fashion_names[c]);
}

void class_names_emnist_builtin(const emnist_split *split, col_data_info *info)
{
    for (int c = 0; c < split->n_classes; c++) {
        char *name = info->class_names[c];
        size_t cap = sizeof info->class_names[c];
        if (strcmp(split->name, "letters") == 0)
            snprintf(name, cap, "%c/%c", 'A' + c, 'a' + c);
        else if (strcmp(split->name, "byclass") == 0)
            snprintf(name, cap, "%c", byclass_chars[c]);
        else if (split->n_classes == 47)
            snprintf(name, cap, "%c", merged_chars[c]);
        else
            snprintf(name, cap, "%d", c);
    }
}

/* Reads a whole small file (plain or zip member) into a NUL-terminated buffer. */
static char *read_small_file(const char *path, col_error *err)
{
    data_source source;
    if (source_open(&source, path, err) != 0)
        return NULL;
    if (source.size_known && source.size > MAPPING_MAX_BYTES) {
        col_fail(err, "%s is %llu bytes, too large for a class mapping file (at most %d); check "
                 "the mapping path", path, (unsigned long long)source.size, MAPPING_MAX_BYTES);
        source_close(&source);
        return NULL;
    }

    char *text = col_malloc(MAPPING_MAX_BYTES + 2, "mapping file text");
    int64_t got = source_read(&source, text, MAPPING_MAX_BYTES + 1, err);
    source_close(&source);
    if (got < 0) {
        free(text);
        return NULL;
    }
    if (got > MAPPING_MAX_BYTES) {
        free(text);
        col_fail(err, "%s is over %d bytes, too large for a class mapping file; check the mapping "
                 "path", path, MAPPING_MAX_BYTES);
        return NULL;
    }
    text[got] = '\0';
    return text;
}

/* Parses one mapping line "index code [code ...]" into a class name; returns the index. */
static int parse_mapping_line(const char *path, int line_no, char *line, const emnist_split *split,
                              col_data_info *info, const int *seen, col_error *err)
{
    char *end;
    errno = 0;
    long index = strtol(line, &end, 10);
    if (end == line || errno != 0)
        return col_fail(err, "%s, line %d: expected \"index ascii_code\", found \"%.40s\"; this is "
                        "not an EMNIST mapping file", path, line_no, line);

    long first = split->label_offset, last = split->label_offset + split->n_classes - 1;
    if (index < first || index > last)
        return col_fail(err, "%s, line %d: class index %ld is outside %ld..%ld for the EMNIST %s "
                        "split (%d classes); use the mapping file of the same split", path,
                        line_no, index, first, last, split->name, split->n_classes);
    int c = (int)(index - split->label_offset);
    if (seen[c])
        return col_fail(err, "%s, line %d: class index %ld appears twice", path, line_no, index);

    char *name = info->class_names[c];
    size_t cap = sizeof info->class_names[c], len = 0;
    name[0] = '\0';
    char *p = end;
    int n_codes = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        errno = 0;
        long code = strtol(p, &end, 10);
        if (end == p || errno != 0 || code < 33 || code > 126)
            return col_fail(err, "%s, line %d: expected printable ASCII codes (33..126) after the "
                            "class index, found \"%.40s\"", path, line_no, p);
        if (len + 3 < cap)
            len += (size_t)snprintf(name + len, cap - len, "%s%c", n_codes ? "/" : "", (char)code);
        n_codes++;
        p = end;
    }
    if (n_codes == 0)
        return col_fail(err, "%s, line %d: class index %ld has no ASCII code", path, line_no, index);
    return c;
}

int class_names_emnist_mapping(const char *path, const emnist_split *split, col_data_info *info,
                               col_error *err)
{
    char *text = read_small_file(path, err);
    if (!text)
        return -1;

    int seen[COL_MAX_CLASSES] = {0};
    int n_seen = 0, line_no = 0, rc = 0;
    char *next = text;
    while (next) {
        char *line = next;
        char *newline = strchr(line, '\n');
        if (newline)
            *newline = '\0';
        next = newline ? newline + 1 : NULL;
        line_no++;

        size_t len = strlen(line);
        while (len > 0 && isspace((unsigned char)line[len - 1]))
            line[--len] = '\0'; /* NIST's files end lines with CR LF */
        if (len == 0)
            continue;

        int c = parse_mapping_line(path, line_no, line, split, info, seen, err);
        if (c < 0) {
            rc = -1;
            break;
        }
        seen[c] = 1;
        n_seen++;
    }
    free(text);
    if (rc != 0)
        return -1;

    if (n_seen != split->n_classes)
        return col_fail(err, "%s maps %d classes, but the EMNIST %s split has %d; use the mapping "
                        "file of the same split", path, n_seen, split->name, split->n_classes);
    return 0;
}
