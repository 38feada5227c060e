/*
 * Counter-based random numbers (Philox4x32-10 from Random123).
 *
 * Every draw is a pure function of (key, generation, purpose, epoch, index, block): the key is
 * the member's (seed, crc32 of its data set name) and the rest is the counter. Nothing depends
 * on the MPI rank, so a run on any number of ranks draws the same numbers, and a resumed run
 * draws what the uninterrupted run would have drawn.
 */
#ifndef COLLAPSE_RNG_H
#define COLLAPSE_RNG_H

#include <stdint.h>

typedef struct col_rng_key {
    uint32_t k[2];
} col_rng_key;

/* The use of a stream, part of the counter so that streams never overlap. */
enum col_rng_purpose {
    COL_RNG_INIT_VAE = 1,
    COL_RNG_INIT_CLASSIFIER = 2,
    COL_RNG_SHUFFLE_VAE = 3,
    COL_RNG_SHUFFLE_CLASSIFIER = 4,
    COL_RNG_REPARAM = 5,   /* reparameterization noise of VAE training */
    COL_RNG_LATENT = 6,    /* latent vectors of generated samples */
    COL_RNG_TEST = 7       /* free for tests */
};

/* Builds a member's key from its seed and data set name. */
col_rng_key col_rng_make_key(uint64_t seed, const char *dataset_name);

/* Four raw 32-bit words for one counter value. */
void col_rng_words(col_rng_key key, int generation, int purpose, uint32_t epoch, uint32_t index,
                   uint32_t block, uint32_t out[4]);

/* n standard normal floats for one (epoch, index), using blocks 0, 1, ... (Box-Muller). */
void col_rng_normal(col_rng_key key, int generation, int purpose, uint32_t epoch, uint32_t index,
                    float *out, int n);

/* n floats uniform in (lo, hi) for one (epoch, index). */
void col_rng_uniform(col_rng_key key, int generation, int purpose, uint32_t epoch, uint32_t index,
                     float lo, float hi, float *out, int n);

/* A uniformly random permutation of 0..n-1 (Fisher-Yates), one per (generation, purpose, epoch). */
void col_rng_permutation(col_rng_key key, int generation, int purpose, uint32_t epoch, int n,
                         int32_t *perm);

#endif
