/*
 * Image data sets: IDX files (raw, gzip, or members of NIST's EMNIST gzip.zip), the named
 * data sets built on them (MNIST, Fashion-MNIST, EMNIST splits), known checksums, and
 * normalization to the float tensors the models train on.
 *
 * Shapes: images are [n, rows * cols] bytes in row-major, upright orientation (as MNIST
 * stores them). EMNIST files store each image transposed; the loader transposes them on
 * load, so every later stage (training, sampling, pictures) works in one orientation.
 */
#ifndef COLLAPSE_DATA_H
#define COLLAPSE_DATA_H

#include <stdint.h>

#include "collapse/common.h"

#define COL_PATH_MAX 4096
#define COL_MAX_CLASSES 64

/* Largest IDX payload the reader allocates (2 GiB). EMNIST's largest file, ByClass train
 * images, contains 697,932 x 28 x 28 bytes (547 MB). A header claiming more is rejected. */
#define COL_IDX_MAX_BYTES (UINT64_C(1) << 31)

/* ---------------------------------------------------------------- IDX files */

/* One IDX file's content: unsigned bytes with 1 (labels) or 3 (images) dimensions. */
typedef struct col_idx {
    int n_dims;        /* 1 or 3 */
    int dims[3];       /* dims[0] = item count */
    uint8_t *data;     /* [dims[0] * dims[1] * dims[2]] */
    size_t n_bytes;    /* payload size */
} col_idx;

/*
 * Reads an IDX file of unsigned bytes. The path is a raw file, a gzip file (detected by
 * content, not by name), or "ZIP::MEMBER" for a member of a zip archive (the member itself
 * raw or gzip). Checks the magic number, the dimension count, that the payload matches the
 * header's counts exactly, and rejects empty and truncated files. Returns 0, or -1 with a
 * message naming the file and the problem.
 */
int col_idx_read(const char *path, col_idx *out, col_error *err);
void col_idx_free(col_idx *idx);

/* ---------------------------------------------------------------- data sets */

/* How to find and shape one data set (filled from the configuration). */
typedef struct col_data_spec {
    char name[64];                  /* member label, e.g. "mnist" */
    char kind[32];                  /* "mnist", "fashion-mnist", "emnist" or "idx" */
    char split[32];                 /* EMNIST split: balanced (if empty), byclass, bymerge, letters, digits, mnist */
    char dir[COL_PATH_MAX];         /* folder with the files, or a NIST gzip.zip */
    char train_images[COL_PATH_MAX];/* optional explicit files; relative ones are under dir */
    char train_labels[COL_PATH_MAX];
    char test_images[COL_PATH_MAX];
    char test_labels[COL_PATH_MAX];
    char mapping[COL_PATH_MAX];     /* optional EMNIST mapping file (class index -> ASCII code);
                                       default: emnist-<split>-mapping.txt next to the training
                                       images or the zip, else NIST's names built in */
    int n_classes;                  /* 0: from the kind/split, or max label + 1 */
    int balance_per_class;          /* > 0: keep the first k images of each class of the pool */
    int holdout;                    /* > 0: the last k pool images become the test set; default
                                       test files are then not read, explicit ones are an error */
    int max_train;                  /* > 0: keep only the first k training images */
    int transposed;                 /* -1: from the kind (EMNIST 1, others 0); 0 or 1 to force */
} col_data_spec;

/* Sets a spec to its defaults (empty strings, zero counts, transposed = -1). */
void col_data_spec_init(col_data_spec *spec);

/* A labelled image set in bytes, upright. */
typedef struct col_image_set {
    int n, rows, cols;         /* pixels: [n, rows * cols] */
    int n_classes;
    uint8_t *pixels;
    int32_t *labels;           /* [n], each in [0, n_classes) */
} col_image_set;

/* Metadata of a loaded data set, recorded in checkpoints. */
typedef struct col_data_info {
    int n_classes;
    int label_offset;                    /* subtracted from stored labels (EMNIST letters: 1) */
    int transposed_on_disk;              /* 1 when the files store images transposed */
    char class_names[COL_MAX_CLASSES][32];
    char train_images[COL_PATH_MAX];     /* resolved paths actually read */
    char train_labels[COL_PATH_MAX];
    char test_images[COL_PATH_MAX];
    char test_labels[COL_PATH_MAX];
    char checksums[4][80];               /* "md5:<hex>" or "sha256:<hex>" of each file read,
                                            "md5-decompressed:<hex>" when only a gzip file's
                                            content matched, or "" for unknown names */
} col_data_info;

/*
 * Loads the training and test sets a spec describes. Resolves the paths for its kind,
 * reads and validates the files (matching counts, label range) and verifies known checksums.
 * Then transposes EMNIST images to upright, maps labels to [0, n_classes), and applies
 * balance_per_class, holdout and max_train in that order. Returns 0, or -1 with a
 * message naming the data set, the file and the problem. On failure train, test and info
 * are zeroed and own nothing.
 *
 * Default files under dir: MNIST and Fashion-MNIST train-images-idx3-ubyte,
 * train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each raw or
 * with ".gz"; EMNIST emnist-<split>-{train,test}-{images-idx3,labels-idx1}-ubyte(.gz), or
 * inside a zip given as dir the members gzip/emnist-<split>-...-ubyte.gz. A file whose
 * published checksum belongs to another data set than the kind (MNIST files loaded as
 * Fashion-MNIST, say) is an error; kind "idx" accepts any file.
 */
int col_data_load(const col_data_spec *spec, col_image_set *train, col_image_set *test,
                  col_data_info *info, col_error *err);
void col_image_set_free(col_image_set *set);

/* Mean and population standard deviation of all pixels of a set, in [0,1] pixel units
 * (both 0 for an empty set). */
void col_pixel_stats(const col_image_set *set, double *mean, double *std);

/* Writes pixels as float: out[i] = (byte / 255 - mean) / std. out: [n, rows * cols].
 * mean and std must be finite and std > 0; anything else is a fatal error. */
void col_normalize(const col_image_set *set, float mean, float std, float *out);

/*
 * Checks a file's digest against the table of published checksums by file name (for
 * "ZIP::MEMBER", the member's name). Returns 1 if the name is known and the digest matches,
 * 0 if the name is unknown, and -1 with a message naming the file, the expected and the
 * actual digest on a mismatch or read error. digest_out (>= 80 bytes, may be NULL) receives
 * "md5:<hex>" or "sha256:<hex>" of the file for a match. A gzip file whose own bytes match no
 * published digest still matches when its decompressed content has the published MD5 of the
 * uncompressed file, and digest_out is then "md5-decompressed:<hex>". Re-compressed copies,
 * such as Debian's dataset-fashion-mnist files, pass this way.
 */
int col_checksum_verify(const char *path, char *digest_out, col_error *err);

#endif
