/*
 * HDF5 checkpoints and in-progress state (see include/collapse/checkpoint.h and
 * docs/checkpoint.md). Only the group's first rank calls these functions.
 */
#include "collapse/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "collapse/version.h"

/* ---------------------------------------------------------------- small writers */

static herr_t write_string_attr(hid_t loc, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = attr < 0 ? -1 : H5Awrite(attr, type, &value);
    if (attr >= 0)
        H5Aclose(attr);
    H5Sclose(space);
    H5Tclose(type);
    return rc;
}

static herr_t write_attr(hid_t loc, const char *name, hid_t type, int n, const void *value)
{
    hsize_t dims[1] = {(hsize_t)n};
    hid_t space = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    hid_t attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = attr < 0 ? -1 : H5Awrite(attr, type, value);
    if (attr >= 0)
        H5Aclose(attr);
    H5Sclose(space);
    return rc;
}

/* A data set of rank dims; compressed (shuffle + deflate) in chunks of chunk0 rows if chunk0 > 0. */
static herr_t write_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                            const void *data, hsize_t chunk0)
{
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk0 > 0 && rank > 0 && dims[0] > 0) {
        hsize_t chunk[4];
        for (int i = 0; i < rank; i++)
            chunk[i] = dims[i];
        chunk[0] = chunk0 < dims[0] ? chunk0 : dims[0];
        H5Pset_chunk(dcpl, rank, chunk);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 1); /* level 1: most of the size gain at a fraction of the time */
    }
    hid_t set = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t rc = set < 0 ? -1 : H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (set >= 0)
        H5Dclose(set);
    H5Pclose(dcpl);
    H5Sclose(space);
    return rc;
}

static herr_t write_doubles(hid_t loc, const char *name, int n, const double *values)
{
    hsize_t dims[1] = {(hsize_t)n};
    return write_dataset(loc, name, H5T_NATIVE_DOUBLE, 1, dims, values, 0);
}

static herr_t write_double(hid_t loc, const char *name, double value)
{
    return write_dataset(loc, name, H5T_NATIVE_DOUBLE, 0, NULL, &value, 0);
}

static herr_t write_int64s(hid_t loc, const char *name, int n, const int64_t *values)
{
    hsize_t dims[1] = {(hsize_t)n};
    return write_dataset(loc, name, H5T_NATIVE_INT64, 1, dims, values, 0);
}

/* One data set per tensor under group/params, and Adam's moments under group/adam/{m,v}. */
static herr_t write_params(hid_t file, const char *group_name, const col_params *p)
{
    herr_t rc = 0;
    hid_t group = H5Gcreate2(file, group_name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t params = H5Gcreate2(group, "params", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t adam = H5Gcreate2(group, "adam", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t adam_m = H5Gcreate2(adam, "m", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t adam_v = H5Gcreate2(adam, "v", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (group < 0 || params < 0 || adam < 0 || adam_m < 0 || adam_v < 0)
        rc = -1;
    for (int t = 0; t < p->n_tensors && rc >= 0; t++) {
        const col_tensor *tensor = &p->tensors[t];
        hsize_t dims[4];
        for (int i = 0; i < tensor->rank; i++)
            dims[i] = (hsize_t)tensor->shape[i];
        rc = write_dataset(params, tensor->name, H5T_NATIVE_FLOAT, tensor->rank, dims, p->value + tensor->offset, 0);
        if (rc >= 0)
            rc = write_dataset(adam_m, tensor->name, H5T_NATIVE_FLOAT, tensor->rank, dims, p->adam_m + tensor->offset, 0);
        if (rc >= 0)
            rc = write_dataset(adam_v, tensor->name, H5T_NATIVE_FLOAT, tensor->rank, dims, p->adam_v + tensor->offset, 0);
    }
    if (rc >= 0)
        rc = write_attr(adam, "step", H5T_NATIVE_INT64, 0, &p->adam_step);
    H5Gclose(adam_v);
    H5Gclose(adam_m);
    H5Gclose(adam);
    H5Gclose(params);
    H5Gclose(group);
    return rc;
}

static herr_t write_metrics(hid_t file, const col_metrics *m, int epochs_only)
{
    hid_t g = H5Gcreate2(file, "metrics", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    herr_t rc = 0;
    rc |= write_doubles(g, "vae_loss", m->vae_epochs, m->vae_loss);
    rc |= write_doubles(g, "vae_recon", m->vae_epochs, m->vae_recon);
    rc |= write_doubles(g, "vae_kl", m->vae_epochs, m->vae_kl);
    rc |= write_doubles(g, "classifier_loss", m->classifier_epochs, m->classifier_loss);
    rc |= write_doubles(g, "classifier_train_accuracy", m->classifier_epochs, m->classifier_train_accuracy);
    if (!epochs_only) {
        rc |= write_doubles(g, "eval_loss", m->n_eval, m->eval_loss);
        rc |= write_doubles(g, "eval_accuracy", m->n_eval, m->eval_accuracy);
        rc |= write_double(g, "test_loss", m->test_loss);
        rc |= write_double(g, "test_accuracy", m->test_accuracy);
        rc |= write_int64s(g, "class_histogram", m->n_classes, m->class_histogram);
        rc |= write_double(g, "class_entropy", m->class_entropy);
        rc |= write_int64s(g, "judge_histogram", m->n_classes, m->judge_histogram);
        rc |= write_double(g, "judge_entropy", m->judge_entropy);
        rc |= write_double(g, "pixel_mean", m->pixel_mean);
        rc |= write_double(g, "pixel_std", m->pixel_std);
        rc |= write_double(g, "pixel_clipped_fraction", m->pixel_clipped_fraction);
        rc |= write_int64s(g, "pixel_histogram", COL_PIXEL_BINS, m->pixel_histogram);
        rc |= write_double(g, "latent_spread", m->latent_spread);
        rc |= write_double(g, "frechet_distance", m->frechet_distance);
        rc |= write_double(g, "seconds", m->seconds);
    }
    H5Gclose(g);
    return rc < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- atomic files */

/* Creates path.tmp; on failure explains the usual causes. */
static hid_t create_temporary(const char *path, char *tmp, size_t tmp_size, col_error *err)
{
    snprintf(tmp, tmp_size, "%s.tmp", path);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* failures are reported through col_error */
    unlink(tmp); /* a leftover from a crashed writer */
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) {
        int saved = errno;
        col_fail(err, "cannot create HDF5 file %s: %s. Check that the output folder exists and is "
                 "writable; on file systems without POSIX locks (some NFS and Lustre mounts) set "
                 "HDF5_USE_FILE_LOCKING=FALSE", tmp, saved ? strerror(saved) : "HDF5 error");
    }
    return file;
}

/* Closes the temporary file, forces it to disk and renames it over path. */
static int commit_temporary(hid_t file, const char *tmp, const char *path, col_error *err)
{
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0 || H5Fclose(file) < 0) {
        unlink(tmp);
        return col_fail(err, "writing %s failed while flushing (disk full?)", tmp);
    }
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return col_fail(err, "fsync of %s failed: %s", tmp, strerror(saved));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return col_fail(err, "renaming %s to %s failed: %s", tmp, path, strerror(saved));
    }
    /* make the rename itself durable */
    char dir_buf[COL_PATH_MAX];
    snprintf(dir_buf, sizeof dir_buf, "%s", path);
    int dir_fd = open(dirname(dir_buf), O_RDONLY | O_DIRECTORY);
    if (dir_fd >= 0) {
        fsync(dir_fd);
        close(dir_fd);
    }
    return 0;
}

static void abandon_temporary(hid_t file, const char *tmp)
{
    H5Fclose(file);
    unlink(tmp);
}

/* ---------------------------------------------------------------- checkpoint writer */

int col_checkpoint_write(const char *path, const col_checkpoint *c, col_error *err)
{
    char tmp[COL_PATH_MAX + 8];
    hid_t file = create_temporary(path, tmp, sizeof tmp, err);
    if (file < 0)
        return -1;

    herr_t rc = 0;
    int version = COL_CHECKPOINT_VERSION;
    rc |= write_string_attr(file, "format", COL_CHECKPOINT_FORMAT);
    rc |= write_attr(file, "format_version", H5T_NATIVE_INT, 0, &version);
    rc |= write_string_attr(file, "software_version", COLLAPSE_VERSION);
    rc |= write_string_attr(file, "member", c->member);
    rc |= write_string_attr(file, "dataset", c->dataset);
    rc |= write_attr(file, "seed", H5T_NATIVE_INT64, 0, &c->seed);
    rc |= write_attr(file, "generation", H5T_NATIVE_INT, 0, &c->generation);
    rc |= write_attr(file, "n_ranks", H5T_NATIVE_INT, 0, &c->n_ranks);
    rc |= write_string_attr(file, "config", c->config_text);
    rc |= write_attr(file, "rng_key", H5T_NATIVE_UINT32, 2, c->rng_key);
    rc |= write_attr(file, "data_mean", H5T_NATIVE_DOUBLE, 0, &c->data_mean);
    rc |= write_attr(file, "data_std", H5T_NATIVE_DOUBLE, 0, &c->data_std);
    rc |= write_attr(file, "n_classes", H5T_NATIVE_INT, 0, &c->n_classes);
    rc |= write_string_attr(file, "data_fingerprint", c->data_fingerprint);
    rc |= write_string_attr(file, "member_settings", c->settings);
    {
        const char *names[COL_MAX_CLASSES];
        for (int i = 0; i < c->n_classes; i++)
            names[i] = c->class_names[i];
        hid_t type = H5Tcopy(H5T_C_S1);
        H5Tset_size(type, H5T_VARIABLE);
        H5Tset_cset(type, H5T_CSET_UTF8);
        rc |= write_attr(file, "class_names", type, c->n_classes, names);
        H5Tclose(type);
    }
    if (rc < 0) {
        abandon_temporary(file, tmp);
        return col_fail(err, "writing the attributes of %s failed", tmp);
    }

    if (write_params(file, "vae", c->vae) < 0 || write_params(file, "classifier", c->classifier) < 0) {
        abandon_temporary(file, tmp);
        return col_fail(err, "writing the model parameters to %s failed (disk full?)", tmp);
    }

    hid_t gen = H5Gcreate2(file, "generated", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t image_dims[3] = {(hsize_t)c->n_generated, (hsize_t)c->rows, (hsize_t)c->cols};
    hsize_t label_dims[1] = {(hsize_t)c->n_generated};
    rc = gen < 0 ? -1 : 0;
    if (rc >= 0)
        rc = write_dataset(gen, "images", H5T_NATIVE_FLOAT, 3, image_dims, c->images, 1024);
    if (rc >= 0)
        rc = write_dataset(gen, "labels", H5T_NATIVE_INT32, 1, label_dims, c->labels, 16384);
    if (gen >= 0)
        H5Gclose(gen);
    if (rc < 0 || write_metrics(file, c->metrics, 0) < 0) {
        abandon_temporary(file, tmp);
        return col_fail(err, "writing the generated data or metrics to %s failed (disk full?)", tmp);
    }
    return commit_temporary(file, tmp, path, err);
}

/* ---------------------------------------------------------------- readers */

static int read_string_attr(hid_t loc, const char *name, char **out)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0)
        return -1;
    hid_t type = H5Aget_type(attr);
    int rc = -1;
    if (H5Tget_class(type) == H5T_STRING) {
        if (H5Tis_variable_str(type) > 0) {
            char *value = NULL;
            hid_t mem = H5Tcopy(H5T_C_S1);
            H5Tset_size(mem, H5T_VARIABLE);
            H5Tset_cset(mem, H5Tget_cset(type));
            if (H5Aread(attr, mem, &value) >= 0 && value) {
                *out = strdup(value);
                H5free_memory(value);
                rc = *out ? 0 : -1;
            }
            H5Tclose(mem);
        }
    }
    H5Tclose(type);
    H5Aclose(attr);
    return rc;
}

static int read_scalar_attr(hid_t loc, const char *name, hid_t type, void *out)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0)
        return -1;
    hid_t space = H5Aget_space(attr);
    int rc = H5Sget_simple_extent_npoints(space) == 1 && H5Aread(attr, type, out) >= 0 ? 0 : -1;
    H5Sclose(space);
    H5Aclose(attr);
    return rc;
}

/* Reads a float data set of exactly n elements (with the given leading dims if rank > 0). */
static int read_floats(hid_t loc, const char *name, float *out, size_t n)
{
    hid_t set = H5Dopen2(loc, name, H5P_DEFAULT);
    if (set < 0)
        return -1;
    hid_t space = H5Dget_space(set);
    int rc = (size_t)H5Sget_simple_extent_npoints(space) == n &&
                     H5Dread(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0
                 ? 0
                 : -1;
    H5Sclose(space);
    H5Dclose(set);
    return rc;
}

static hid_t open_readonly(const char *path, col_error *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    htri_t is_hdf5 = H5Fis_hdf5(path);
    if (is_hdf5 <= 0) {
        if (access(path, R_OK) != 0)
            col_fail(err, "cannot read %s: %s", path, strerror(errno));
        else
            col_fail(err, "%s is not an HDF5 file (truncated or overwritten?)", path);
        return -1;
    }
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        col_fail(err, "cannot open HDF5 file %s (truncated? if file locking fails on this file "
                 "system, set HDF5_USE_FILE_LOCKING=FALSE)", path);
    return file;
}

int col_checkpoint_read_params(const char *path, const char *model, col_params *p, int with_adam,
                               col_error *err)
{
    hid_t file = open_readonly(path, err);
    if (file < 0)
        return -1;
    char name[256];
    int rc = 0;
    for (int t = 0; t < p->n_tensors && rc == 0; t++) {
        const col_tensor *tensor = &p->tensors[t];
        snprintf(name, sizeof name, "/%s/params/%s", model, tensor->name);
        if (read_floats(file, name, p->value + tensor->offset, tensor->size) < 0) {
            rc = col_fail(err, "%s: data set %s is missing or has the wrong size (expected %zu "
                          "floats); the checkpoint does not match the configured model", path, name, tensor->size);
            break;
        }
        if (!with_adam)
            continue;
        snprintf(name, sizeof name, "/%s/adam/m/%s", model, tensor->name);
        if (read_floats(file, name, p->adam_m + tensor->offset, tensor->size) < 0)
            rc = col_fail(err, "%s: data set %s is missing or has the wrong size", path, name);
        snprintf(name, sizeof name, "/%s/adam/v/%s", model, tensor->name);
        if (rc == 0 && read_floats(file, name, p->adam_v + tensor->offset, tensor->size) < 0)
            rc = col_fail(err, "%s: data set %s is missing or has the wrong size", path, name);
    }
    if (rc == 0 && with_adam) {
        snprintf(name, sizeof name, "/%s/adam", model);
        hid_t adam = H5Gopen2(file, name, H5P_DEFAULT);
        if (adam < 0 || read_scalar_attr(adam, "step", H5T_NATIVE_INT64, &p->adam_step) < 0)
            rc = col_fail(err, "%s: attribute %s@step is missing", path, name);
        if (adam >= 0)
            H5Gclose(adam);
    }
    if (rc == 0 && !col_all_finite(p->value, p->n))
        rc = col_fail(err, "%s: the %s parameters contain NaN or Inf", path, model);
    H5Fclose(file);
    return rc;
}

int col_checkpoint_read_generated(const char *path, float *images, int32_t *labels, int n, int d,
                                  col_error *err)
{
    hid_t file = open_readonly(path, err);
    if (file < 0)
        return -1;
    int rc = 0;
    if (read_floats(file, "/generated/images", images, (size_t)n * d) < 0)
        rc = col_fail(err, "%s: /generated/images is missing or is not %d x %d floats", path, n, d);
    if (rc == 0) {
        hid_t set = H5Dopen2(file, "/generated/labels", H5P_DEFAULT);
        hid_t space = set >= 0 ? H5Dget_space(set) : -1;
        if (set < 0 || H5Sget_simple_extent_npoints(space) != n ||
            H5Dread(set, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels) < 0)
            rc = col_fail(err, "%s: /generated/labels is missing or does not hold %d labels", path, n);
        if (space >= 0)
            H5Sclose(space);
        if (set >= 0)
            H5Dclose(set);
    }
    if (rc == 0 && !col_all_finite(images, (size_t)n * d))
        rc = col_fail(err, "%s: /generated/images contains NaN or Inf", path);
    H5Fclose(file);
    return rc;
}

/* Reads a float data set whole and checks that every value is finite; -1 if unreadable. */
static int dataset_finite(hid_t loc, const char *name)
{
    hid_t set = H5Dopen2(loc, name, H5P_DEFAULT);
    if (set < 0)
        return -1;
    hid_t space = H5Dget_space(set);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    int rc = -1;
    if (n >= 0) {
        float *values = col_malloc(sizeof(float) * (size_t)(n ? n : 1), "checkpoint values");
        if (H5Dread(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0)
            rc = col_all_finite(values, (size_t)n) ? 1 : 0;
        free(values);
    }
    H5Sclose(space);
    H5Dclose(set);
    return rc;
}

typedef struct finite_scan {
    const char *bad;     /* first non-finite or unreadable data set, or NULL */
    char name[256];
} finite_scan;

static herr_t check_member_finite(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    finite_scan *scan = data;
    if (dataset_finite(group, name) != 1) {
        snprintf(scan->name, sizeof scan->name, "%s", name);
        scan->bad = scan->name;
        return 1; /* stop iterating */
    }
    return 0;
}

/* Checks every data set in group path; fills where with the first bad one. */
static int group_finite(hid_t file, const char *path, char *where, size_t size)
{
    hid_t group = H5Gopen2(file, path, H5P_DEFAULT);
    if (group < 0) {
        snprintf(where, size, "%s", path);
        return 0;
    }
    finite_scan scan = {0};
    H5Literate(group, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, check_member_finite, &scan);
    H5Gclose(group);
    if (scan.bad)
        snprintf(where, size, "%s/%s", path, scan.bad);
    return scan.bad == NULL;
}

/* 1 if every link along an absolute path exists (H5Lexists needs each parent to exist). */
static int object_exists(hid_t file, const char *path)
{
    char partial[256];
    for (const char *slash = strchr(path + 1, '/');; slash = strchr(slash + 1, '/')) {
        size_t len = slash ? (size_t)(slash - path) : strlen(path);
        snprintf(partial, sizeof partial, "%.*s", (int)len, path);
        if (H5Lexists(file, partial, H5P_DEFAULT) <= 0)
            return 0;
        if (!slash)
            return 1;
    }
}

int col_checkpoint_validate(const char *path, col_checkpoint_info *info, col_error *err)
{
    memset(info, 0, sizeof *info);
    hid_t file = open_readonly(path, err);
    if (file < 0)
        return -1;
    char *format = NULL, *member = NULL, *dataset = NULL, *fingerprint = NULL;
    int version = 0, rc = 0;
    if (read_string_attr(file, "format", &format) < 0 || strcmp(format, COL_CHECKPOINT_FORMAT) != 0)
        rc = col_fail(err, "%s: not a collapse checkpoint (attribute 'format' missing or wrong)", path);
    else if (read_scalar_attr(file, "format_version", H5T_NATIVE_INT, &version) < 0 ||
             version != COL_CHECKPOINT_VERSION)
        rc = col_fail(err, "%s: checkpoint format version %d; this program reads version %d", path,
                      version, COL_CHECKPOINT_VERSION);
    else if (read_string_attr(file, "member", &member) < 0 || read_string_attr(file, "dataset", &dataset) < 0 ||
             read_string_attr(file, "config", &info->config_text) < 0 ||
             read_string_attr(file, "member_settings", &info->settings) < 0 ||
             read_string_attr(file, "data_fingerprint", &fingerprint) < 0 ||
             read_scalar_attr(file, "generation", H5T_NATIVE_INT, &info->generation) < 0 ||
             read_scalar_attr(file, "seed", H5T_NATIVE_INT64, &info->seed) < 0 ||
             read_scalar_attr(file, "n_classes", H5T_NATIVE_INT, &info->n_classes) < 0)
        rc = col_fail(err, "%s: a required root attribute is missing", path);
    if (rc == 0) {
        snprintf(info->member, sizeof info->member, "%s", member);
        snprintf(info->dataset, sizeof info->dataset, "%s", dataset);
        snprintf(info->fingerprint, sizeof info->fingerprint, "%s", fingerprint);
        static const char *required[] = {"/vae/params", "/vae/adam", "/classifier/params",
                                         "/classifier/adam", "/generated/images",
                                         "/generated/labels", "/metrics/eval_accuracy",
                                         "/metrics/test_accuracy", "/metrics/vae_loss"};
        for (size_t i = 0; i < sizeof required / sizeof required[0] && rc == 0; i++)
            if (!object_exists(file, required[i]))
                rc = col_fail(err, "%s: %s is missing (incomplete checkpoint)", path, required[i]);
    }
    /* every parameter, moment and generated image must be finite */
    if (rc == 0) {
        static const char *groups[] = {"/vae/params", "/vae/adam/m", "/vae/adam/v", "/classifier/params"};
        char where[512];
        for (size_t i = 0; i < sizeof groups / sizeof groups[0] && rc == 0; i++)
            if (!group_finite(file, groups[i], where, sizeof where))
                rc = col_fail(err, "%s: %s contains NaN or Inf or cannot be read", path, where);
        if (rc == 0 && dataset_finite(file, "/generated/images") != 1)
            rc = col_fail(err, "%s: /generated/images contains NaN or Inf or cannot be read", path);
    }
    if (rc == 0) {
        hid_t set = H5Dopen2(file, "/generated/images", H5P_DEFAULT);
        hid_t space = set >= 0 ? H5Dget_space(set) : -1;
        hsize_t dims[3] = {0, 0, 0};
        if (set < 0 || H5Sget_simple_extent_ndims(space) != 3)
            rc = col_fail(err, "%s: /generated/images is not a 3-D data set", path);
        else {
            H5Sget_simple_extent_dims(space, dims, NULL);
            info->n_generated = (int)dims[0];
            info->rows = (int)dims[1];
            info->cols = (int)dims[2];
        }
        if (space >= 0)
            H5Sclose(space);
        if (set >= 0)
            H5Dclose(set);
    }
    free(format);
    free(member);
    free(dataset);
    free(fingerprint);
    H5Fclose(file);
    if (rc != 0)
        col_checkpoint_info_free(info);
    return rc;
}

void col_checkpoint_info_free(col_checkpoint_info *info)
{
    free(info->config_text);
    free(info->settings);
    info->config_text = NULL;
    info->settings = NULL;
}

/* ---------------------------------------------------------------- in-progress state */

int col_progress_write(const char *path, const col_progress *p, col_error *err)
{
    char tmp[COL_PATH_MAX + 8];
    hid_t file = create_temporary(path, tmp, sizeof tmp, err);
    if (file < 0)
        return -1;
    herr_t rc = 0;
    rc |= write_string_attr(file, "format", "collapse-progress");
    rc |= write_attr(file, "generation", H5T_NATIVE_INT, 0, &p->generation);
    rc |= write_attr(file, "phase", H5T_NATIVE_INT, 0, &p->phase);
    rc |= write_attr(file, "epochs_done", H5T_NATIVE_INT, 0, &p->epochs_done);
    rc |= write_string_attr(file, "member_settings", p->settings);
    rc |= write_string_attr(file, "data_fingerprint", p->data_fingerprint);
    if (rc >= 0)
        rc = write_params(file, "vae", p->vae);
    if (rc >= 0 && p->classifier)
        rc = write_params(file, "classifier", p->classifier);
    if (rc >= 0)
        rc = write_metrics(file, p->metrics, 1);
    if (rc < 0) {
        abandon_temporary(file, tmp);
        return col_fail(err, "writing the in-progress state %s failed (disk full?)", tmp);
    }
    return commit_temporary(file, tmp, path, err);
}

static int read_doubles(hid_t loc, const char *name, double *out, int n)
{
    hid_t set = H5Dopen2(loc, name, H5P_DEFAULT);
    if (set < 0)
        return -1;
    hid_t space = H5Dget_space(set);
    int rc = H5Sget_simple_extent_npoints(space) == n &&
                     H5Dread(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0
                 ? 0
                 : -1;
    H5Sclose(space);
    H5Dclose(set);
    return rc;
}

int col_progress_read(const char *path, col_progress *p, col_error *err)
{
    hid_t file = open_readonly(path, err);
    if (file < 0)
        return -1;
    char *format = NULL, *config = NULL, *fingerprint = NULL;
    int rc = 0;
    if (read_string_attr(file, "format", &format) < 0 || strcmp(format, "collapse-progress") != 0 ||
        read_scalar_attr(file, "generation", H5T_NATIVE_INT, &p->generation) < 0 ||
        read_scalar_attr(file, "phase", H5T_NATIVE_INT, &p->phase) < 0 ||
        read_scalar_attr(file, "epochs_done", H5T_NATIVE_INT, &p->epochs_done) < 0 ||
        read_string_attr(file, "member_settings", &config) < 0 ||
        read_string_attr(file, "data_fingerprint", &fingerprint) < 0)
        rc = col_fail(err, "%s: not a valid in-progress file (attributes missing)", path);
    else if (strcmp(config, p->settings) != 0)
        rc = col_fail(err, "%s was written with different member settings", path);
    else if (strcmp(fingerprint, p->data_fingerprint) != 0)
        rc = col_fail(err, "%s was written for different training data", path);
    H5Fclose(file);
    free(format);
    free(config);
    free(fingerprint);
    if (rc)
        return rc;
    if (col_checkpoint_read_params(path, "vae", p->vae, 1, err))
        return -1;
    if (p->phase == 1 && col_checkpoint_read_params(path, "classifier", p->classifier, 1, err))
        return -1;
    file = open_readonly(path, err);
    if (file < 0)
        return -1;
    col_metrics *m = p->metrics;
    int vae_done = p->phase == 0 ? p->epochs_done : m->vae_epochs;
    int cls_done = p->phase == 1 ? p->epochs_done : 0;
    /* the arrays hold the full epoch count; only the completed prefix matters */
    double *buf = col_malloc(sizeof(double) * (size_t)(m->vae_epochs + m->classifier_epochs + 1), "progress metrics");
    static const char *vae_names[] = {"/metrics/vae_loss", "/metrics/vae_recon", "/metrics/vae_kl"};
    double *vae_targets[] = {m->vae_loss, m->vae_recon, m->vae_kl};
    for (int i = 0; i < 3 && rc == 0; i++) {
        if (read_doubles(file, vae_names[i], buf, m->vae_epochs) < 0)
            rc = col_fail(err, "%s: %s is missing or has the wrong length", path, vae_names[i]);
        else
            memcpy(vae_targets[i], buf, sizeof(double) * (size_t)vae_done);
    }
    static const char *cls_names[] = {"/metrics/classifier_loss", "/metrics/classifier_train_accuracy"};
    double *cls_targets[] = {m->classifier_loss, m->classifier_train_accuracy};
    for (int i = 0; i < 2 && rc == 0; i++) {
        if (read_doubles(file, cls_names[i], buf, m->classifier_epochs) < 0)
            rc = col_fail(err, "%s: %s is missing or has the wrong length", path, cls_names[i]);
        else
            memcpy(cls_targets[i], buf, sizeof(double) * (size_t)cls_done);
    }
    free(buf);
    H5Fclose(file);
    return rc;
}
