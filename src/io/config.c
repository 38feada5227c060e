/*
 * Configuration loading and validation on libconfig (see include/collapse/config.h).
 *
 * The schema below is the single list of accepted keys; docs/configuration.md describes
 * each key for users.
 */
#include "collapse/config.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h> /* config_t, config_setting_t */

/* ---------------------------------------------------------------- schema */

enum key_type { KEY_INT, KEY_FLOAT, KEY_BOOL, KEY_STRING, KEY_INT_ARRAY, KEY_GROUP, KEY_GROUP_LIST };

typedef struct key_spec {
    const char *name;
    enum key_type type;
    double min, max;             /* numbers: value range; arrays: each element's range */
    int min_length, max_length;  /* arrays and lists */
    const struct key_spec *children; /* groups and group lists, terminated by a NULL name */
    const char *choices;         /* strings: allowed values separated by '|', or NULL */
} key_spec;

#define INT_KEY(n, lo, hi) {n, KEY_INT, lo, hi, 0, 0, NULL, NULL}
#define FLOAT_KEY(n, lo, hi) {n, KEY_FLOAT, lo, hi, 0, 0, NULL, NULL}
#define STRING_KEY(n, choices) {n, KEY_STRING, 0, 0, 0, 0, NULL, choices}
#define END_KEYS {NULL, 0, 0, 0, 0, 0, NULL, NULL}

static const key_spec vae_keys[] = {
    {"hidden", KEY_INT_ARRAY, 1, 1e6, 1, COL_MAX_HIDDEN, NULL, NULL},
    INT_KEY("latent", 1, 1e5),
    INT_KEY("epochs", 0, 1e6),
    FLOAT_KEY("learning_rate", 1e-12, 10),
    {"reset", KEY_BOOL, 0, 0, 0, 0, NULL, NULL},
    END_KEYS,
};

static const key_spec classifier_keys[] = {
    STRING_KEY("type", "mlp|cnn"),
    {"hidden", KEY_INT_ARRAY, 1, 1e6, 0, COL_MAX_HIDDEN, NULL, NULL},
    {"channels", KEY_INT_ARRAY, 1, 1e5, 1, COL_MAX_CONV, NULL, NULL},
    INT_KEY("epochs", 1, 1e6),
    FLOAT_KEY("learning_rate", 1e-12, 10),
    END_KEYS,
};

static const key_spec dataset_keys[] = {
    STRING_KEY("name", NULL),
    STRING_KEY("kind", "mnist|fashion-mnist|emnist|idx"),
    STRING_KEY("split", "balanced|byclass|bymerge|letters|digits|mnist"),
    STRING_KEY("dir", NULL),
    STRING_KEY("train_images", NULL),
    STRING_KEY("train_labels", NULL),
    STRING_KEY("test_images", NULL),
    STRING_KEY("test_labels", NULL),
    STRING_KEY("mapping", NULL),
    INT_KEY("n_classes", 2, COL_MAX_CLASSES),
    INT_KEY("balance_per_class", 0, 1e8),
    INT_KEY("holdout", 0, 1e8),
    INT_KEY("max_train", 0, 1e9),
    FLOAT_KEY("mean", 0, 1),
    FLOAT_KEY("std", 1e-6, 1),
    INT_KEY("generations", 1, 1e5),
    INT_KEY("samples", 0, 1e9),
    INT_KEY("batch_size", 1, 1 << 20),
    {"vae", KEY_GROUP, 0, 0, 0, 0, vae_keys, NULL},
    {"classifier", KEY_GROUP, 0, 0, 0, 0, classifier_keys, NULL},
    END_KEYS,
};

static const key_spec root_keys[] = {
    INT_KEY("generations", 1, 1e5),
    INT_KEY("samples", 0, 1e9),
    INT_KEY("batch_size", 1, 1 << 20),
    {"seeds", KEY_INT_ARRAY, 0, 4294967295.0, 1, 100000, NULL, NULL},
    INT_KEY("ranks_per_member", 0, 1 << 20),
    INT_KEY("blas_threads", 1, 1024),
    INT_KEY("sample_grid", 0, 4096),
    STRING_KEY("output", NULL),
    {"datasets", KEY_GROUP_LIST, 0, 0, 1, 1000, dataset_keys, NULL},
    {"vae", KEY_GROUP, 0, 0, 0, 0, vae_keys, NULL},
    {"classifier", KEY_GROUP, 0, 0, 0, 0, classifier_keys, NULL},
    END_KEYS,
};

/* ---------------------------------------------------------------- validation */

/* "file:line" of a setting, or "--set" for one that an override created. */
static const char *where(const config_setting_t *s, const char *path, char *buf, size_t size)
{
    int line = (int)config_setting_source_line(s);
    const char *file = config_setting_source_file(s);
    if (line > 0)
        snprintf(buf, size, "%s:%d", file ? file : path, line);
    else
        snprintf(buf, size, "%s (set on the command line)", path);
    return buf;
}

/* Dotted path of a setting for messages, e.g. "datasets.[1].vae.epochs". */
static void setting_path(const config_setting_t *s, char *buf, size_t size)
{
    const config_setting_t *parent = config_setting_parent(s);
    if (!parent) {
        buf[0] = '\0';
        return;
    }
    setting_path(parent, buf, size);
    size_t used = strlen(buf);
    if (used && used + 1 < size)
        buf[used++] = '.', buf[used] = '\0';
    const char *name = config_setting_name(s);
    if (name)
        snprintf(buf + used, size - used, "%s", name);
    else
        snprintf(buf + used, size - used, "[%d]", config_setting_index(s));
}

static int is_number(const config_setting_t *s)
{
    int t = config_setting_type(s);
    return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
}

static int is_integer(const config_setting_t *s)
{
    int t = config_setting_type(s);
    return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
}

static double number_of(const config_setting_t *s)
{
    return config_setting_type(s) == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
                                                        : (double)config_setting_get_int64(s);
}

static int check_range(const config_setting_t *s, const key_spec *spec, const char *path, col_error *err)
{
    char at[COL_PATH_MAX + 64], key[512];
    double v = number_of(s);
    if (v < spec->min || v > spec->max) {
        setting_path(s, key, sizeof key);
        return col_fail(err, "%s: %s = %.15g is out of range; use a value from %.15g to %.15g",
                        where(s, path, at, sizeof at), key, v, spec->min, spec->max);
    }
    return 0;
}

static const char *type_word(enum key_type t)
{
    switch (t) {
    case KEY_INT: return "an integer";
    case KEY_FLOAT: return "a number";
    case KEY_BOOL: return "true or false";
    case KEY_STRING: return "a quoted string";
    case KEY_INT_ARRAY: return "an array of integers like [128, 128]";
    case KEY_GROUP: return "a group { ... }";
    case KEY_GROUP_LIST: return "a list of groups ( { ... }, ... )";
    }
    return "?";
}

static int validate_group(const config_setting_t *group, const key_spec *specs, const char *path,
                          col_error *err);

static int validate_setting(const config_setting_t *s, const key_spec *spec, const char *path,
                            col_error *err)
{
    char at[COL_PATH_MAX + 64], key[512];
    int type = config_setting_type(s), ok;
    switch (spec->type) {
    case KEY_INT: ok = is_integer(s); break;
    case KEY_FLOAT: ok = is_number(s); break;
    case KEY_BOOL: ok = type == CONFIG_TYPE_BOOL; break;
    case KEY_STRING: ok = type == CONFIG_TYPE_STRING; break;
    case KEY_INT_ARRAY: ok = type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST; break;
    case KEY_GROUP: ok = type == CONFIG_TYPE_GROUP; break;
    case KEY_GROUP_LIST: ok = type == CONFIG_TYPE_LIST; break;
    default: ok = 0;
    }
    setting_path(s, key, sizeof key);
    if (!ok)
        return col_fail(err, "%s: %s has the wrong type; expected %s", where(s, path, at, sizeof at),
                        key, type_word(spec->type));

    switch (spec->type) {
    case KEY_INT:
    case KEY_FLOAT:
        return check_range(s, spec, path, err);
    case KEY_STRING: {
        const char *v = config_setting_get_string(s);
        if (spec->choices) {
            size_t len = strlen(v);
            for (const char *c = spec->choices; c;) {
                const char *bar = strchr(c, '|');
                size_t clen = bar ? (size_t)(bar - c) : strlen(c);
                if (clen == len && strncmp(c, v, len) == 0)
                    return 0;
                c = bar ? bar + 1 : NULL;
            }
            return col_fail(err, "%s: %s = \"%s\" is not valid; choose one of %s",
                            where(s, path, at, sizeof at), key, v, spec->choices);
        }
        if (strlen(v) >= COL_PATH_MAX)
            return col_fail(err, "%s: %s is longer than %d characters", where(s, path, at, sizeof at),
                            key, COL_PATH_MAX - 1);
        return 0;
    }
    case KEY_INT_ARRAY: {
        int n = config_setting_length(s);
        if (n < spec->min_length || n > spec->max_length)
            return col_fail(err, "%s: %s has %d elements; it needs %d to %d",
                            where(s, path, at, sizeof at), key, n, spec->min_length, spec->max_length);
        for (int i = 0; i < n; i++) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            if (!is_integer(e))
                return col_fail(err, "%s: %s[%d] must be an integer", where(s, path, at, sizeof at), key, i);
            if (check_range(e, spec, path, err))
                return -1;
        }
        return 0;
    }
    case KEY_GROUP:
        return validate_group(s, spec->children, path, err);
    case KEY_GROUP_LIST: {
        int n = config_setting_length(s);
        if (n < spec->min_length || n > spec->max_length)
            return col_fail(err, "%s: %s has %d entries; it needs %d to %d",
                            where(s, path, at, sizeof at), key, n, spec->min_length, spec->max_length);
        for (int i = 0; i < n; i++) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            if (config_setting_type(e) != CONFIG_TYPE_GROUP)
                return col_fail(err, "%s: %s[%d] must be a group { ... }", where(e, path, at, sizeof at), key, i);
            if (validate_group(e, spec->children, path, err))
                return -1;
        }
        return 0;
    }
    default:
        return 0;
    }
}

static int validate_group(const config_setting_t *group, const key_spec *specs, const char *path,
                          col_error *err)
{
    char at[COL_PATH_MAX + 64], key[512], known[1024];
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        const key_spec *spec = NULL;
        for (const key_spec *k = specs; k->name; k++)
            if (name && strcmp(k->name, name) == 0)
                spec = k;
        if (!spec) {
            size_t used = 0;
            known[0] = '\0';
            for (const key_spec *k = specs; k->name && used < sizeof known - 64; k++)
                used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", used ? ", " : "", k->name);
            setting_path(s, key, sizeof key);
            return col_fail(err, "%s: unknown key '%s'; known keys here: %s", where(s, path, at, sizeof at),
                            key, known);
        }
        if (validate_setting(s, spec, path, err))
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- overrides */

/* Copies the value of src into a new setting called name under parent (recursively). */
static config_setting_t *copy_setting(config_setting_t *parent, const char *name, const config_setting_t *src)
{
    int type = config_setting_type(src);
    config_setting_t *dst = config_setting_add(parent, name, type);
    if (!dst)
        return NULL;
    switch (type) {
    case CONFIG_TYPE_INT: config_setting_set_int(dst, config_setting_get_int(src)); break;
    case CONFIG_TYPE_INT64: config_setting_set_int64(dst, config_setting_get_int64(src)); break;
    case CONFIG_TYPE_FLOAT: config_setting_set_float(dst, config_setting_get_float(src)); break;
    case CONFIG_TYPE_BOOL: config_setting_set_bool(dst, config_setting_get_bool(src)); break;
    case CONFIG_TYPE_STRING: config_setting_set_string(dst, config_setting_get_string(src)); break;
    default:
        for (int i = 0; i < config_setting_length(src); i++) {
            const config_setting_t *child = config_setting_get_elem(src, (unsigned)i);
            if (!copy_setting(dst, config_setting_name(child), child))
                return NULL;
        }
    }
    return dst;
}

static int apply_override(config_t *cfg, const char *override, col_error *err)
{
    const char *eq = strchr(override, '=');
    if (!eq || eq == override)
        return col_fail(err, "invalid --set '%s'; write KEY=VALUE, e.g. --set vae.epochs=5", override);
    char key[512];
    size_t key_len = (size_t)(eq - override);
    if (key_len >= sizeof key)
        return col_fail(err, "invalid --set '%s': the key is too long", override);
    memcpy(key, override, key_len);
    key[key_len] = '\0';
    const char *value = eq + 1;

    /* parse the value with libconfig's own syntax; a bare word becomes a string */
    config_t parsed;
    config_init(&parsed);
    size_t text_size = strlen(value) * 2 + 16;
    char *text = col_malloc(text_size, "override text");
    snprintf(text, text_size, "v = %s;", value);
    if (config_read_string(&parsed, text) != CONFIG_TRUE) {
        size_t used = (size_t)snprintf(text, text_size, "v = \"");
        for (const char *c = value; *c; c++) {
            if (*c == '"' || *c == '\\')
                text[used++] = '\\';
            text[used++] = *c;
        }
        snprintf(text + used, text_size - used, "\";");
        config_destroy(&parsed);
        config_init(&parsed);
        if (config_read_string(&parsed, text) != CONFIG_TRUE) {
            free(text);
            config_destroy(&parsed);
            return col_fail(err, "invalid --set '%s': cannot parse the value", override);
        }
    }
    free(text);
    const config_setting_t *new_value = config_lookup(&parsed, "v");

    /* the parent must be an existing group; an existing scalar of that name is replaced */
    char parent_path[512];
    const char *leaf = strrchr(key, '.');
    config_setting_t *parent;
    if (leaf) {
        memcpy(parent_path, key, (size_t)(leaf - key));
        parent_path[leaf - key] = '\0';
        leaf++;
        parent = config_lookup(cfg, parent_path);
    } else {
        leaf = key;
        parent = config_root_setting(cfg);
    }
    int rc = 0;
    if (!parent || config_setting_type(parent) != CONFIG_TYPE_GROUP) {
        rc = col_fail(err, "invalid --set '%s': '%s' is not a group in the configuration", override,
                      leaf == key ? "(root)" : parent_path);
    } else if (leaf[0] == '[' || !isalpha((unsigned char)leaf[0])) {
        rc = col_fail(err, "invalid --set '%s': set a named key, not a list element", override);
    } else {
        config_setting_t *old = config_setting_get_member(parent, leaf);
        if (old && (config_setting_type(old) == CONFIG_TYPE_GROUP || config_setting_type(old) == CONFIG_TYPE_LIST))
            rc = col_fail(err, "invalid --set '%s': '%s' is a group or list; set its members one by one",
                          override, key);
        else {
            if (old)
                config_setting_remove(parent, leaf);
            if (!copy_setting(parent, leaf, new_value))
                rc = col_fail(err, "invalid --set '%s': libconfig could not add the key", override);
        }
    }
    config_destroy(&parsed);
    return rc;
}

/* ---------------------------------------------------------------- extraction */

static void get_int_array(const config_setting_t *s, int *out, int *n)
{
    *n = config_setting_length(s);
    for (int i = 0; i < *n; i++)
        out[i] = config_setting_get_int_elem(s, i);
}

static void read_vae(const config_setting_t *g, col_vae_config *v)
{
    const config_setting_t *s;
    if (!g)
        return;
    if ((s = config_setting_get_member(g, "hidden")))
        get_int_array(s, v->hidden, &v->n_hidden);
    config_setting_lookup_int(g, "latent", &v->latent);
    config_setting_lookup_int(g, "epochs", &v->epochs);
    config_setting_lookup_float(g, "learning_rate", &v->learning_rate);
    config_setting_lookup_bool(g, "reset", &v->reset);
}

static void read_classifier(const config_setting_t *g, col_classifier_config *c)
{
    const config_setting_t *s;
    const char *type;
    if (!g)
        return;
    if (config_setting_lookup_string(g, "type", &type))
        c->type = strcmp(type, "cnn") == 0 ? COL_CLASSIFIER_CNN : COL_CLASSIFIER_MLP;
    if ((s = config_setting_get_member(g, "hidden")))
        get_int_array(s, c->hidden, &c->n_hidden);
    if ((s = config_setting_get_member(g, "channels")))
        get_int_array(s, c->channels, &c->n_conv);
    config_setting_lookup_int(g, "epochs", &c->epochs);
    config_setting_lookup_float(g, "learning_rate", &c->learning_rate);
}

static void read_string(const config_setting_t *g, const char *name, char *out, size_t size)
{
    const char *v;
    if (config_setting_lookup_string(g, name, &v))
        snprintf(out, size, "%s", v);
}

static int valid_name(const char *name)
{
    if (!name[0])
        return 0;
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
            return 0;
    return name[0] != '.';
}

/* Defaults reproduce the reference MNIST experiment. */
static void member_defaults(col_member *m)
{
    memset(m, 0, sizeof *m);
    col_data_spec_init(&m->data);
    m->data_mean = m->data_std = NAN;
    m->generations = 50;
    m->samples = 0;
    m->batch_size = 128;
    m->sample_grid = 64;
    m->vae = (col_vae_config){.n_hidden = 2, .hidden = {128, 128}, .latent = 20, .epochs = 200,
                              .learning_rate = 1e-3, .reset = 0};
    m->classifier = (col_classifier_config){.type = COL_CLASSIFIER_MLP, .n_conv = 3, .channels = {32, 64, 128},
                                            .n_hidden = 2, .hidden = {256, 256}, .epochs = 100,
                                            .learning_rate = 1e-3};
}

/* Settings that may stand at the root and be overridden per data set. */
static void read_member_settings(const config_setting_t *g, col_member *m)
{
    config_setting_lookup_int(g, "generations", &m->generations);
    config_setting_lookup_int(g, "samples", &m->samples);
    config_setting_lookup_int(g, "batch_size", &m->batch_size);
    read_vae(config_setting_get_member(g, "vae"), &m->vae);
    read_classifier(config_setting_get_member(g, "classifier"), &m->classifier);
}

static int extract(config_t *cfg, const char *path, col_config *out, col_error *err)
{
    const config_setting_t *root = config_root_setting(cfg);
    const config_setting_t *datasets = config_setting_get_member(root, "datasets");
    const config_setting_t *seeds = config_setting_get_member(root, "seeds");
    if (!datasets)
        return col_fail(err, "%s: missing key 'datasets'; list at least one data set, e.g. "
                        "datasets = ( { name = \"mnist\"; kind = \"mnist\"; dir = \"data/mnist\"; } );", path);
    if (!seeds)
        return col_fail(err, "%s: missing key 'seeds'; give at least one, e.g. seeds = [1];", path);

    out->ranks_per_member = 0;
    out->blas_threads = 1;
    config_lookup_int(cfg, "ranks_per_member", &out->ranks_per_member);
    config_lookup_int(cfg, "blas_threads", &out->blas_threads);
    read_string(root, "output", out->output, sizeof out->output);

    col_member base;
    member_defaults(&base);
    config_lookup_int(cfg, "sample_grid", &base.sample_grid);
    read_member_settings(root, &base);

    int n_sets = config_setting_length(datasets), n_seeds = config_setting_length(seeds);
    out->n_members = n_sets * n_seeds;
    out->members = col_calloc((size_t)out->n_members, sizeof(col_member), "ensemble members");
    for (int d = 0; d < n_sets; d++) {
        const config_setting_t *g = config_setting_get_elem(datasets, (unsigned)d);
        char at[COL_PATH_MAX + 64];
        col_member set = base;
        read_string(g, "name", set.data.name, sizeof set.data.name);
        read_string(g, "kind", set.data.kind, sizeof set.data.kind);
        if (!set.data.name[0] || !set.data.kind[0])
            return col_fail(err, "%s: datasets.[%d] needs both 'name' and 'kind'", where(g, path, at, sizeof at), d);
        if (!valid_name(set.data.name))
            return col_fail(err, "%s: data set name '%s' may only contain letters, digits, '-', '_' and '.' "
                            "(it names the output folder)", where(g, path, at, sizeof at), set.data.name);
        for (int other = 0; other < d; other++)
            if (strcmp(out->members[other * n_seeds].data.name, set.data.name) == 0)
                return col_fail(err, "%s: data set name '%s' is used twice; names must be unique",
                                where(g, path, at, sizeof at), set.data.name);
        read_string(g, "split", set.data.split, sizeof set.data.split);
        if (strcmp(set.data.kind, "emnist") == 0 && !set.data.split[0])
            return col_fail(err, "%s: EMNIST data set '%s' needs a 'split' (e.g. \"balanced\")",
                            where(g, path, at, sizeof at), set.data.name);
        read_string(g, "dir", set.data.dir, sizeof set.data.dir);
        read_string(g, "train_images", set.data.train_images, sizeof set.data.train_images);
        read_string(g, "train_labels", set.data.train_labels, sizeof set.data.train_labels);
        read_string(g, "test_images", set.data.test_images, sizeof set.data.test_images);
        read_string(g, "test_labels", set.data.test_labels, sizeof set.data.test_labels);
        read_string(g, "mapping", set.data.mapping, sizeof set.data.mapping);
        config_setting_lookup_int(g, "n_classes", &set.data.n_classes);
        config_setting_lookup_int(g, "balance_per_class", &set.data.balance_per_class);
        config_setting_lookup_int(g, "holdout", &set.data.holdout);
        config_setting_lookup_int(g, "max_train", &set.data.max_train);
        config_setting_lookup_float(g, "mean", &set.data_mean);
        config_setting_lookup_float(g, "std", &set.data_std);
        read_member_settings(g, &set);
        if (set.classifier.type == COL_CLASSIFIER_MLP)
            set.classifier.n_conv = 0;

        for (int s = 0; s < n_seeds; s++) {
            col_member *m = &out->members[d * n_seeds + s];
            *m = set;
            m->seed = config_setting_get_int64_elem(seeds, s);
            m->index = d * n_seeds + s;
            snprintf(m->name, sizeof m->name, "%s-s%lld", set.data.name, (long long)m->seed);
            for (int other = 0; other < s; other++)
                if (out->members[d * n_seeds + other].seed == m->seed)
                    return col_fail(err, "%s: seed %lld is listed twice in 'seeds'", path, (long long)m->seed);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- entry points */

static int finish_load(config_t *cfg, const char *path, char *const *overrides, int n_overrides,
                       col_config *out, col_error *err)
{
    for (int i = 0; i < n_overrides; i++)
        if (apply_override(cfg, overrides[i], err))
            return -1;
    if (validate_group(config_root_setting(cfg), root_keys, path, err))
        return -1;
    if (extract(cfg, path, out, err))
        return -1;

    /* the effective configuration, as text, to store with every checkpoint */
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream(&text, &size);
    if (!stream)
        COL_FATAL("open_memstream failed");
    config_write(cfg, stream);
    fclose(stream);
    out->text = text;
    return 0;
}

static int load(config_t *cfg, int read_ok, const char *path, char *const *overrides, int n_overrides,
                col_config *out, col_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    int rc;
    if (!read_ok) {
        if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
            rc = col_fail(err, "cannot read configuration file %s; check the path", path);
        else
            rc = col_fail(err, "%s:%d: syntax error in the configuration: %s", config_error_file(cfg) ? config_error_file(cfg) : path,
                          config_error_line(cfg), config_error_text(cfg));
    } else {
        rc = finish_load(cfg, path, overrides, n_overrides, out, err);
    }
    config_destroy(cfg);
    if (rc)
        col_config_free(out);
    return rc;
}

int col_config_load(const char *path, char *const *overrides, int n_overrides, col_config *cfg,
                    col_error *err)
{
    config_t c;
    config_init(&c);
    config_set_options(&c, CONFIG_OPTION_AUTOCONVERT);
    int ok = config_read_file(&c, path) == CONFIG_TRUE;
    return load(&c, ok, path, overrides, n_overrides, cfg, err);
}

int col_config_load_string(const char *text, const char *path, char *const *overrides,
                           int n_overrides, col_config *cfg, col_error *err)
{
    config_t c;
    config_init(&c);
    config_set_options(&c, CONFIG_OPTION_AUTOCONVERT);
    int ok = config_read_string(&c, text) == CONFIG_TRUE;
    return load(&c, ok, path, overrides, n_overrides, cfg, err);
}

void col_config_free(col_config *cfg)
{
    free(cfg->text);
    free(cfg->members);
    cfg->text = NULL;
    cfg->members = NULL;
    cfg->n_members = 0;
}
