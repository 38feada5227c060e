/*
 * HDF5 checkpoints, one per member and generation (format in docs/checkpoint.md).
 * Writers go through a temporary name, flush, fsync and rename, so a file under its
 * final name is always complete. Readers check what they read and report problems as
 * col_error messages naming the file.
 */
#ifndef COLLAPSE_CHECKPOINT_H
#define COLLAPSE_CHECKPOINT_H

#include <stdint.h>

#include "collapse/common.h"
#include "collapse/data.h"
#include "collapse/nn.h"

#define COL_CHECKPOINT_FORMAT "collapse-checkpoint"
#define COL_CHECKPOINT_VERSION 1
#define COL_PIXEL_BINS 50

/* The metrics of one generation (see docs/checkpoint.md for their meaning). */
typedef struct col_metrics {
    int vae_epochs, classifier_epochs;
    double *vae_loss, *vae_recon, *vae_kl;              /* [vae_epochs], per sample */
    double *classifier_loss, *classifier_train_accuracy; /* [classifier_epochs] */
    int n_eval;                                          /* g + 1 */
    double *eval_loss, *eval_accuracy;                   /* [n_eval] */
    double test_loss, test_accuracy;
    int n_classes;
    int64_t class_histogram[COL_MAX_CLASSES], judge_histogram[COL_MAX_CLASSES];
    double class_entropy, judge_entropy;
    double pixel_mean, pixel_std, pixel_clipped_fraction;
    int64_t pixel_histogram[COL_PIXEL_BINS];
    double latent_spread, frechet_distance;
    double seconds;
} col_metrics;

/* Everything one checkpoint file holds; pointers are borrowed. */
typedef struct col_checkpoint {
    const char *member, *dataset, *config_text, *data_fingerprint;
    const char *settings;                /* canonical member settings, compared on resume */
    int64_t seed;
    int generation, n_ranks, n_classes;
    uint32_t rng_key[2];
    double data_mean, data_std;
    const char (*class_names)[32];       /* [n_classes] */
    const col_params *vae, *classifier;
    int n_generated, rows, cols;
    const float *images;                 /* [n_generated, rows * cols], normalized */
    const int32_t *labels;               /* [n_generated] */
    const col_metrics *metrics;
} col_checkpoint;

/* Writes path atomically (path.tmp, then rename). Returns 0 or -1 with a message. */
int col_checkpoint_write(const char *path, const col_checkpoint *c, col_error *err);

/* The root attributes a resume decision needs. */
typedef struct col_checkpoint_info {
    int generation, n_generated, n_classes, rows, cols;
    int64_t seed;
    char member[128];
    char dataset[64];
    char fingerprint[160];
    char *config_text;                   /* malloc'ed; free with col_checkpoint_info_free */
    char *settings;                      /* malloc'ed, as config_text */
} col_checkpoint_info;

/*
 * Opens path and checks that it is a complete checkpoint of this format: attributes,
 * required groups and data sets, and finite parameters and images. Fills info.
 */
int col_checkpoint_validate(const char *path, col_checkpoint_info *info, col_error *err);
void col_checkpoint_info_free(col_checkpoint_info *info);

/* Reads a model's tensors (and Adam state if with_adam) into p, matching names and shapes. */
int col_checkpoint_read_params(const char *path, const char *model, col_params *p, int with_adam,
                               col_error *err);

/* Reads the generated images [n, d] and labels [n]; n and d must match the file. */
int col_checkpoint_read_generated(const char *path, float *images, int32_t *labels, int n, int d,
                                  col_error *err);

/*
 * The in-progress state of an interrupted generation: models and per-epoch metrics at an
 * epoch boundary of one training phase. Written and read like a checkpoint.
 */
typedef struct col_progress {
    int generation;
    int phase;                  /* 0: VAE training, 1: classifier training */
    int epochs_done;            /* completed epochs of that phase */
    const char *settings, *data_fingerprint;   /* must match on read */
    col_params *vae, *classifier;   /* the classifier is absent (NULL) in phase 0 */
    col_metrics *metrics;       /* the per-epoch arrays filled so far */
} col_progress;

int col_progress_write(const char *path, const col_progress *p, col_error *err);

/* Reads generation, phase and epochs_done, checks settings and fingerprint against p's,
   then fills the models and metrics. */
int col_progress_read(const char *path, col_progress *p, col_error *err);

#endif
