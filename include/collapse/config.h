/*
 * Experiment configuration: a libconfig file plus `--set KEY=VALUE` overrides, validated
 * against the schema in src/io/config.c (unknown keys, wrong types and out-of-range values
 * are errors naming the file and line, or the --set argument), and expanded into the list
 * of ensemble members: every data set times every seed, data-set-major.
 */
#ifndef COLLAPSE_CONFIG_H
#define COLLAPSE_CONFIG_H

#include <stdint.h>

#include "collapse/common.h"
#include "collapse/data.h"
#include "collapse/models.h"

typedef struct col_vae_config {
    int n_hidden, hidden[COL_MAX_HIDDEN];
    int latent, epochs;
    double learning_rate;
    int reset;                 /* re-initialize the VAE each generation instead of carrying it over */
} col_vae_config;

typedef struct col_classifier_config {
    int type;                  /* COL_CLASSIFIER_MLP or COL_CLASSIFIER_CNN */
    int n_conv, channels[COL_MAX_CONV];
    int n_hidden, hidden[COL_MAX_HIDDEN];
    int epochs;
    double learning_rate;
} col_classifier_config;

/* One ensemble member: a (data set, seed) pair with its settings. */
typedef struct col_member {
    char name[128];            /* "<dataset>-s<seed>", the output subfolder */
    int index;                 /* position in the member list */
    int64_t seed;
    col_data_spec data;
    double data_mean, data_std;/* NAN: computed from the training set */
    int generations;
    int samples;               /* generated per generation; 0: the training set's size */
    int batch_size;
    int sample_grid;           /* images in each generation's PNG grid; 0: none */
    col_vae_config vae;
    col_classifier_config classifier;
} col_member;

typedef struct col_config {
    char path[COL_PATH_MAX];
    char *text;                /* the effective configuration, as libconfig writes it */
    char output[COL_PATH_MAX];
    int ranks_per_member;      /* 0: all ranks form one group */
    int blas_threads;
    int n_members;
    col_member *members;
} col_config;

/*
 * Reads and validates the file at path, applies the overrides ("KEY=VALUE", libconfig
 * syntax for the value; a bare word is a string), and fills cfg. Returns 0, or -1 with a
 * message naming the file and line (or the override) and the problem.
 */
int col_config_load(const char *path, char *const *overrides, int n_overrides, col_config *cfg,
                    col_error *err);
void col_config_free(col_config *cfg);

/* Parses a configuration from text (for tests and for checkpoints); path names it in messages. */
int col_config_load_string(const char *text, const char *path, char *const *overrides,
                           int n_overrides, col_config *cfg, col_error *err);

#endif
