/*
 * Data sets: finds the files of MNIST, Fashion-MNIST, an EMNIST split or explicit IDX files,
 * reads and validates them, verifies known checksums, and shapes the training pool
 * (balance_per_class, then holdout, then max_train).
 *
 * Orientation: EMNIST files store every image transposed relative to MNIST. The loader
 * transposes them on load, so training, sampling, pictures and pixel analysis all see one
 * upright orientation. For the MLP models training is equivalent either way (a transpose is
 * a fixed permutation of the inputs), and no later stage needs a special case for EMNIST.
 */
#include "data_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The models take MNIST-format images. */
#define IMAGE_SIDE 28

enum { TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS, N_ROLES };

static const char *const role_text[N_ROLES] = {
    "training images", "training labels", "test images", "test labels",
};

typedef enum { KIND_MNIST, KIND_FASHION, KIND_EMNIST, KIND_IDX } data_kind;

/* Everything decided about a spec before any data file is read. */
typedef struct load_plan {
    data_kind kind;
    const emnist_split *split;     /* EMNIST only */
    const char *data_set;          /* checksum tag the files must carry, or NULL for "idx" */
    int n_classes;                 /* 0: max label + 1 (kind "idx" without n_classes) */
    int label_offset;
    int transposed;
    int dir_is_zip;                /* dir names a zip archive: relative names are members */
    int use_holdout;
    char paths[N_ROLES][COL_PATH_MAX]; /* "" for test files when there are none */
} load_plan;

/* ---------------------------------------------------------------- the plan */

static int plan_kind(const col_data_spec *spec, load_plan *plan, col_error *err)
{
    if (strcmp(spec->kind, "mnist") == 0) {
        plan->kind = KIND_MNIST;
        plan->data_set = "MNIST";
        plan->n_classes = 10;
    } else if (strcmp(spec->kind, "fashion-mnist") == 0) {
        plan->kind = KIND_FASHION;
        plan->data_set = "Fashion-MNIST";
        plan->n_classes = 10;
    } else if (strcmp(spec->kind, "emnist") == 0) {
        const char *split = spec->split[0] ? spec->split : "balanced";
        plan->kind = KIND_EMNIST;
        plan->data_set = "EMNIST";
        plan->split = emnist_split_find(split);
        if (!plan->split)
            return col_fail(err, "unknown EMNIST split \"%s\"; use balanced, bymerge, byclass, "
                            "letters, digits or mnist", split);
        plan->n_classes = plan->split->n_classes;
        plan->label_offset = plan->split->label_offset;
    } else if (strcmp(spec->kind, "idx") == 0) {
        plan->kind = KIND_IDX;
        plan->n_classes = spec->n_classes;
    } else {
        return col_fail(err, "unknown data set kind \"%s\"; use mnist, fashion-mnist, emnist or idx",
                        spec->kind);
    }

    if (spec->n_classes < 0 || spec->n_classes > COL_MAX_CLASSES)
        return col_fail(err, "n_classes = %d is outside 1..%d", spec->n_classes, COL_MAX_CLASSES);
    if (plan->kind != KIND_IDX && spec->n_classes > 0 && spec->n_classes != plan->n_classes)
        return col_fail(err, "n_classes = %d, but %s%s%s has %d classes; leave n_classes at 0 "
                        "for named data sets", spec->n_classes, spec->kind,
                        plan->split ? " split " : "", plan->split ? plan->split->name : "",
                        plan->n_classes);

    if (spec->transposed < -1 || spec->transposed > 1)
        return col_fail(err, "transposed = %d; use -1 (from the kind), 0 or 1", spec->transposed);
    plan->transposed = spec->transposed >= 0 ? spec->transposed : plan->kind == KIND_EMNIST;

    if (spec->balance_per_class < 0 || spec->holdout < 0 || spec->max_train < 0)
        return col_fail(err, "balance_per_class (%d), holdout (%d) and max_train (%d) must not be "
                        "negative", spec->balance_per_class, spec->holdout, spec->max_train);
    return 0;
}

/* Writes dir joined with a relative name (a zip member when dir is an archive) to out. */
static int join_path(const col_data_spec *spec, const load_plan *plan, const char *name,
                     char out[COL_PATH_MAX], col_error *err)
{
    int n;
    if (name[0] == '/' || spec->dir[0] == '\0')
        n = snprintf(out, COL_PATH_MAX, "%s", name);
    else if (plan->dir_is_zip)
        n = snprintf(out, COL_PATH_MAX, "%s" ZIP_MEMBER_SEPARATOR "%s", spec->dir, name);
    else
        n = snprintf(out, COL_PATH_MAX, "%s/%s", spec->dir, name);
    if (n < 0 || n >= COL_PATH_MAX)
        return col_fail(err, "the path of %s under %s is longer than %d bytes", name, spec->dir,
                        COL_PATH_MAX - 1);
    return 0;
}

/* The default file name of a role, without ".gz" (EMNIST names carry the split). */
static void default_name(const load_plan *plan, int role, char *out, size_t cap)
{
    static const char *const mnist_names[N_ROLES] = {
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
    };
    static const char *const emnist_parts[N_ROLES] = {
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "test-images-idx3-ubyte", "test-labels-idx1-ubyte",
    };
    if (plan->kind == KIND_EMNIST)
        snprintf(out, cap, "emnist-%s-%s", plan->split->name, emnist_parts[role]);
    else
        snprintf(out, cap, "%s", mnist_names[role]);
}

/*
 * Finds the default file of a role: the raw name or the name with ".gz", whichever exists
 * (Fashion-MNIST ships .gz, so it tries that first), and inside NIST's gzip.zip the member
 * gzip/<name>.gz. Returns 1 and the path found, or 0 with the first candidate in out and the
 * candidates tried in tried.
 */
static int find_default(const col_data_spec *spec, const load_plan *plan, int role,
                        char out[COL_PATH_MAX], char *tried, size_t tried_cap, col_error *err)
{
    char base[128], names[3][160];
    int n_names = 0;
    default_name(plan, role, base, sizeof base);
    if (plan->dir_is_zip && plan->kind == KIND_EMNIST)
        snprintf(names[n_names++], sizeof names[0], "gzip/%s.gz", base);
    if (plan->kind == KIND_FASHION) {
        snprintf(names[n_names++], sizeof names[0], "%s.gz", base);
        snprintf(names[n_names++], sizeof names[0], "%s", base);
    } else {
        snprintf(names[n_names++], sizeof names[0], "%s", base);
        snprintf(names[n_names++], sizeof names[0], "%s.gz", base);
    }

    size_t len = 0;
    tried[0] = '\0';
    for (int i = 0; i < n_names; i++) {
        char path[COL_PATH_MAX];
        if (join_path(spec, plan, names[i], path, err) != 0)
            return -1;
        if (i == 0)
            memcpy(out, path, COL_PATH_MAX);
        if (source_exists(path)) {
            memcpy(out, path, COL_PATH_MAX);
            return 1;
        }
        if (len < tried_cap)
            len += (size_t)snprintf(tried + len, tried_cap - len, "%s%s", i ? ", " : "", path);
    }
    return 0;
}

/* Resolves the file of one role: explicit (under dir if relative) or the default. */
static int resolve_role(const col_data_spec *spec, load_plan *plan, int role, const char *explicit_name,
                        int *found, char *tried, size_t tried_cap, col_error *err)
{
    *found = 0;
    if (explicit_name[0]) {
        if (join_path(spec, plan, explicit_name, plan->paths[role], err) != 0)
            return -1;
        *found = 1; /* a missing explicit file is reported by the reader, with the reason */
        return 0;
    }
    if (plan->kind == KIND_IDX)
        return 0;
    int rc = find_default(spec, plan, role, plan->paths[role], tried, tried_cap, err);
    if (rc < 0)
        return -1;
    *found = rc;
    return 0;
}

static int plan_paths(const col_data_spec *spec, load_plan *plan, col_error *err)
{
    if (spec->dir[0]) {
        struct stat st;
        if (stat(spec->dir, &st) != 0)
            return col_fail(err, "data folder %s does not exist; set dir to the folder with the "
                            "data files (or to NIST's gzip.zip for EMNIST)", spec->dir);
        plan->dir_is_zip = S_ISREG(st.st_mode);
    }

    /* training files: required */
    const char *explicit_train[2] = {spec->train_images, spec->train_labels};
    for (int role = TRAIN_IMAGES; role <= TRAIN_LABELS; role++) {
        char tried[4 * COL_PATH_MAX];
        int found;
        if (resolve_role(spec, plan, role, explicit_train[role], &found, tried, sizeof tried, err) != 0)
            return -1;
        if (found)
            continue;
        if (plan->kind == KIND_IDX)
            return col_fail(err, "kind idx needs explicit files: set train_images and train_labels "
                            "(and test_images and test_labels, or holdout)");
        if (plan->dir_is_zip) {
            /* opening the member fails with a message listing the archive's members */
            data_source source;
            if (source_open(&source, plan->paths[role], err) != 0)
                return -1;
            source_close(&source);
            continue;
        }
        return col_fail(err, "%s not found: tried %s; set dir to the folder with the %s files",
                        role_text[role], tried, plan->data_set);
    }

    /* test files: explicit, default, or the holdout */
    int explicit_test = spec->test_images[0] || spec->test_labels[0];
    if (spec->holdout > 0) {
        if (explicit_test)
            return col_fail(err, "both test files and holdout = %d are set; use one of them",
                            spec->holdout);
        plan->use_holdout = 1;
        return 0;
    }

    const char *explicit_names[2] = {spec->test_images, spec->test_labels};
    int found[2];
    char tried[2][4 * COL_PATH_MAX];
    for (int i = 0; i < 2; i++)
        if (resolve_role(spec, plan, TEST_IMAGES + i, explicit_names[i], &found[i], tried[i],
                         sizeof tried[i], err) != 0)
            return -1;

    if (!found[0] && !found[1]) {
        plan->paths[TEST_IMAGES][0] = plan->paths[TEST_LABELS][0] = '\0';
        if (plan->kind == KIND_IDX)
            return col_fail(err, "no test set: give test_images and test_labels, or set holdout to "
                            "use the last images of the training pool as the test set");
        return col_fail(err, "no test set: no test files found (tried %s) and holdout is 0; set "
                        "holdout to use the last images of the training pool as the test set, or "
                        "give test_images and test_labels", tried[0]);
    }
    if (!found[0] || !found[1]) {
        int have = found[0] ? 0 : 1, missing = 1 - have;
        return col_fail(err, "%s found (%s) but no %s (tried %s); provide both test files or set "
                        "holdout", role_text[TEST_IMAGES + have], plan->paths[TEST_IMAGES + have],
                        role_text[TEST_IMAGES + missing], tried[missing]);
    }

    if (strcmp(plan->paths[TEST_IMAGES], plan->paths[TRAIN_IMAGES]) == 0)
        return col_fail(err, "the test images are the training images (%s); set holdout to split "
                        "a test set off the training pool", plan->paths[TRAIN_IMAGES]);
    return 0;
}

/* ---------------------------------------------------------------- reading files */

/* Reads and checks one file: shape for its role, then its known checksum. */
static int read_role(const load_plan *plan, int role, col_idx *idx, col_data_info *info,
                     col_error *err)
{
    const char *path = plan->paths[role];
    if (col_idx_read(path, idx, err) != 0)
        return -1;

    int want_images = role == TRAIN_IMAGES || role == TEST_IMAGES;
    if (want_images && idx->n_dims != 3)
        return col_fail(err, "%s should hold %s (IDX magic 0x00000803), but it holds %d labels "
                        "(magic 0x00000801); check the %s path", path, role_text[role],
                        idx->dims[0], role_text[role]);
    if (!want_images && idx->n_dims != 1)
        return col_fail(err, "%s should hold %s (IDX magic 0x00000801), but it holds images "
                        "(magic 0x00000803); check the %s path", path, role_text[role],
                        role_text[role]);
    if (want_images && (idx->dims[1] != IMAGE_SIDE || idx->dims[2] != IMAGE_SIDE))
        return col_fail(err, "%s holds images of %d x %d pixels, but the models take %d x %d "
                        "images (the MNIST format); resize the data set first", path,
                        idx->dims[1], idx->dims[2], IMAGE_SIDE, IMAGE_SIDE);

    const char *source = NULL;
    if (checksum_verify_known(path, idx, info->checksums[role], &source, err) < 0)
        return -1;
    if (source && plan->data_set && strcmp(source, plan->data_set) != 0)
        return col_fail(err, "%s matches the checksum of a published %s file, but this data set "
                        "is %s; point dir at the %s files or change the kind", path, source,
                        plan->data_set, plan->data_set);
    return 0;
}

/* Reads the images and labels of one part (training or test) and checks that they pair up. */
static int read_part(const load_plan *plan, int images_role, col_idx *images, col_idx *labels,
                     col_data_info *info, col_error *err)
{
    if (read_role(plan, images_role, images, info, err) != 0)
        return -1;
    if (read_role(plan, images_role + 1, labels, info, err) != 0)
        return -1;
    if (images->dims[0] != labels->dims[0])
        return col_fail(err, "%s holds %d images but %s holds %d labels; the counts must match, "
                        "so check that both files belong to the same set", plan->paths[images_role],
                        images->dims[0], plan->paths[images_role + 1], labels->dims[0]);
    if (images->dims[0] == 0)
        return col_fail(err, "%s holds no images", plan->paths[images_role]);
    return 0;
}

/* ---------------------------------------------------------------- building the sets */

/* Swaps rows and columns of each square image in place. */
static void transpose_images(uint8_t *pixels, int n, int side)
{
    size_t image_bytes = (size_t)side * (size_t)side;
    for (int i = 0; i < n; i++) {
        uint8_t *image = pixels + (size_t)i * image_bytes;
        for (int r = 0; r < side; r++)
            for (int c = r + 1; c < side; c++) {
                uint8_t t = image[r * side + c];
                image[r * side + c] = image[c * side + r];
                image[c * side + r] = t;
            }
    }
}

/* Describes the label range of a named data set for messages. */
static void data_set_text(const load_plan *plan, int n_classes, char *buf, size_t cap)
{
    if (plan->split)
        snprintf(buf, cap, "the labels of the %d classes of EMNIST %s", n_classes, plan->split->name);
    else
        snprintf(buf, cap, "the labels of the %d classes of %s", n_classes, plan->data_set);
}

/*
 * Moves the pixels of images into set (upright), and converts the stored labels to
 * [0, n_classes), rejecting any outside the range of the data set.
 */
static int build_set(const col_data_spec *spec, const load_plan *plan, int images_role, int n_classes,
                     col_idx *images, const col_idx *labels, col_image_set *set, col_error *err)
{
    int n = images->dims[0];
    int offset = plan->label_offset;
    int32_t *converted = col_malloc((size_t)n * sizeof *converted, "labels");
    for (int i = 0; i < n; i++) {
        int stored = labels->data[i];
        if (stored < offset || stored - offset >= n_classes) {
            char what[96];
            if (plan->kind == KIND_IDX)
                snprintf(what, sizeof what, "the labels of n_classes = %d", n_classes);
            else
                data_set_text(plan, n_classes, what, sizeof what);
            free(converted);
            return col_fail(err, "%s: label %d at index %d is outside %d..%d, %s; the file is "
                            "damaged or belongs to another data set", plan->paths[images_role + 1],
                            stored, i, offset, offset + n_classes - 1, what);
        }
        converted[i] = stored - offset;
    }

    set->n = n;
    set->rows = images->dims[1];
    set->cols = images->dims[2];
    set->n_classes = n_classes;
    set->pixels = images->data;
    set->labels = converted;
    images->data = NULL; /* the set owns the pixels now */
    images->n_bytes = 0;

    if (plan->transposed)
        transpose_images(set->pixels, set->n, set->rows);
    return 0;
}

/* Keeps the first k images of each class, in file order. */
static int balance_classes(col_image_set *set, int k, const char *labels_path,
                           const col_data_info *info, col_error *err)
{
    int counts[COL_MAX_CLASSES] = {0};
    for (int i = 0; i < set->n; i++)
        counts[set->labels[i]]++;

    int smallest = 0;
    for (int c = 1; c < set->n_classes; c++)
        if (counts[c] < counts[smallest])
            smallest = c;
    if (counts[smallest] < k)
        return col_fail(err, "balance_per_class = %d, but class %d (\"%s\") has only %d images in "
                        "%s; lower balance_per_class to at most %d", k, smallest,
                        info->class_names[smallest], counts[smallest], labels_path, counts[smallest]);

    size_t image_bytes = (size_t)set->rows * (size_t)set->cols;
    int kept[COL_MAX_CLASSES] = {0};
    int n_kept = 0;
    for (int i = 0; i < set->n; i++) {
        int c = set->labels[i];
        if (kept[c] == k)
            continue;
        kept[c]++;
        if (n_kept != i)
            memcpy(set->pixels + (size_t)n_kept * image_bytes, set->pixels + (size_t)i * image_bytes,
                   image_bytes);
        set->labels[n_kept] = c;
        n_kept++;
    }
    set->n = n_kept;
    return 0;
}

/* Moves the last k images of the pool into a new test set. */
static int split_holdout(col_image_set *train, int k, col_image_set *test, col_error *err)
{
    if (k >= train->n)
        return col_fail(err, "holdout = %d leaves no training images: the pool holds %d images "
                        "(after balance_per_class); lower holdout", k, train->n);

    size_t image_bytes = (size_t)train->rows * (size_t)train->cols;
    int first = train->n - k;
    *test = *train;
    test->n = k;
    test->pixels = col_malloc((size_t)k * image_bytes, "holdout pixels");
    test->labels = col_malloc((size_t)k * sizeof *test->labels, "holdout labels");
    memcpy(test->pixels, train->pixels + (size_t)first * image_bytes, (size_t)k * image_bytes);
    memcpy(test->labels, train->labels + first, (size_t)k * sizeof *test->labels);
    train->n = first;
    return 0;
}

/* Returns memory beyond the first n images to the system. */
static void shrink_set(col_image_set *set)
{
    size_t image_bytes = (size_t)set->rows * (size_t)set->cols;
    if (set->n == 0)
        return;
    uint8_t *pixels = realloc(set->pixels, (size_t)set->n * image_bytes);
    if (pixels)
        set->pixels = pixels;
    int32_t *labels = realloc(set->labels, (size_t)set->n * sizeof *labels);
    if (labels)
        set->labels = labels;
}

/* ---------------------------------------------------------------- class names */

/* Writes path with its base name replaced by name (inside the archive for a zip member). */
static int sibling_path(const char *path, const char *name, char out[COL_PATH_MAX])
{
    const char *sep;
    const char *start = source_is_member_path(path, &sep) ? sep + strlen(ZIP_MEMBER_SEPARATOR) : path;
    const char *slash = strrchr(start, '/');
    size_t keep = slash ? (size_t)(slash + 1 - path) : (size_t)(start - path);
    int n = snprintf(out, COL_PATH_MAX, "%.*s%s", (int)keep, path, name);
    return n > 0 && n < COL_PATH_MAX;
}

/* EMNIST names: spec->mapping, else a mapping file next to the training images or next to the
 * archive, else the built-in table. */
static int emnist_class_names(const col_data_spec *spec, const load_plan *plan, col_data_info *info,
                              col_error *err)
{
    char path[COL_PATH_MAX];
    if (spec->mapping[0]) {
        if (join_path(spec, plan, spec->mapping, path, err) != 0)
            return -1;
        return class_names_emnist_mapping(path, plan->split, info, err);
    }

    char file[96];
    snprintf(file, sizeof file, "emnist-%s-mapping.txt", plan->split->name);
    if (sibling_path(plan->paths[TRAIN_IMAGES], file, path) && source_exists(path))
        return class_names_emnist_mapping(path, plan->split, info, err);
    if (plan->dir_is_zip && sibling_path(spec->dir, file, path) && source_exists(path))
        return class_names_emnist_mapping(path, plan->split, info, err);

    class_names_emnist_builtin(plan->split, info);
    return 0;
}

static int fill_class_names(const col_data_spec *spec, const load_plan *plan, int n_classes,
                            col_data_info *info, col_error *err)
{
    switch (plan->kind) {
    case KIND_FASHION:
        class_names_fashion(info);
        return 0;
    case KIND_EMNIST:
        return emnist_class_names(spec, plan, info, err);
    case KIND_MNIST:
    case KIND_IDX:
        break;
    }
    class_names_digits(info, n_classes);
    return 0;
}

/* ---------------------------------------------------------------- loading */

/* The class count of kind "idx" without n_classes: the largest label + 1. */
static int labels_class_count(const load_plan *plan, const col_idx *parts, col_error *err)
{
    int largest = 0, where = TRAIN_LABELS;
    for (int role = TRAIN_LABELS; role < N_ROLES; role += 2)
        for (size_t i = 0; i < parts[role].n_bytes; i++)
            if (parts[role].data[i] > largest) {
                largest = parts[role].data[i];
                where = role;
            }
    if (largest + 1 > COL_MAX_CLASSES)
        return col_fail(err, "%s holds label %d, so the data set would have %d classes, more than "
                        "the limit of %d", plan->paths[where], largest, largest + 1, COL_MAX_CLASSES);
    return largest + 1;
}

static int load(const col_data_spec *spec, col_image_set *train, col_image_set *test,
                col_data_info *info, col_error *err)
{
    load_plan plan;
    memset(&plan, 0, sizeof plan);
    if (plan_kind(spec, &plan, err) != 0 || plan_paths(spec, &plan, err) != 0)
        return -1;

    col_idx parts[N_ROLES];
    memset(parts, 0, sizeof parts);
    int rc = read_part(&plan, TRAIN_IMAGES, &parts[TRAIN_IMAGES], &parts[TRAIN_LABELS], info, err);
    if (rc == 0 && !plan.use_holdout)
        rc = read_part(&plan, TEST_IMAGES, &parts[TEST_IMAGES], &parts[TEST_LABELS], info, err);

    int n_classes = plan.n_classes;
    if (rc == 0 && n_classes == 0) {
        n_classes = labels_class_count(&plan, parts, err);
        rc = n_classes < 0 ? -1 : 0;
    }
    if (rc == 0)
        rc = build_set(spec, &plan, TRAIN_IMAGES, n_classes, &parts[TRAIN_IMAGES],
                       &parts[TRAIN_LABELS], train, err);
    if (rc == 0 && !plan.use_holdout)
        rc = build_set(spec, &plan, TEST_IMAGES, n_classes, &parts[TEST_IMAGES], &parts[TEST_LABELS],
                       test, err);
    for (int role = 0; role < N_ROLES; role++)
        col_idx_free(&parts[role]);
    if (rc != 0)
        return -1;

    info->n_classes = n_classes;
    info->label_offset = plan.label_offset;
    info->transposed_on_disk = plan.transposed;
    if (fill_class_names(spec, &plan, n_classes, info, err) != 0)
        return -1;
    memcpy(info->train_images, plan.paths[TRAIN_IMAGES], COL_PATH_MAX);
    memcpy(info->train_labels, plan.paths[TRAIN_LABELS], COL_PATH_MAX);
    memcpy(info->test_images, plan.paths[TEST_IMAGES], COL_PATH_MAX);
    memcpy(info->test_labels, plan.paths[TEST_LABELS], COL_PATH_MAX);

    /* shape the pool: balance_per_class, then holdout, then max_train */
    if (spec->balance_per_class > 0 &&
        balance_classes(train, spec->balance_per_class, plan.paths[TRAIN_LABELS], info, err) != 0)
        return -1;
    if (plan.use_holdout && split_holdout(train, spec->holdout, test, err) != 0)
        return -1;
    if (spec->max_train > 0 && spec->max_train < train->n)
        train->n = spec->max_train;
    shrink_set(train);
    return 0;
}

/* ---------------------------------------------------------------- API */

void col_data_spec_init(col_data_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->transposed = -1;
}

int col_data_load(const col_data_spec *spec, col_image_set *train, col_image_set *test,
                  col_data_info *info, col_error *err)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    memset(info, 0, sizeof *info);

    col_error inner;
    if (load(spec, train, test, info, &inner) == 0)
        return 0;

    col_image_set_free(train);
    col_image_set_free(test);
    memset(info, 0, sizeof *info);
    if (spec->name[0])
        return col_fail(err, "data set %s (%s): %s", spec->name, spec->kind, inner.msg);
    return col_fail(err, "%s data set: %s", spec->kind[0] ? spec->kind : "unnamed", inner.msg);
}

void col_image_set_free(col_image_set *set)
{
    if (!set)
        return;
    free(set->pixels);
    free(set->labels);
    memset(set, 0, sizeof *set);
}
