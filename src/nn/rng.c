/* Counter-based random numbers on Philox4x32-10 (see include/collapse/rng.h). */
#include "collapse/rng.h"

#include <math.h>
#include <string.h>

#include <Random123/philox.h>   /* philox4x32 */
#include <Random123/u01fixedpt.h> /* u01fixedpt_open_open_32_double */
#include <zlib.h>               /* crc32 */

col_rng_key col_rng_make_key(uint64_t seed, const char *dataset_name)
{
    col_rng_key key;
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, (const Bytef *)dataset_name, (uInt)strlen(dataset_name));
    /* Seeds beyond 32 bits fold their high word in, so distinct seeds give distinct keys
       for every seed below 2^32. */
    key.k[0] = (uint32_t)(seed ^ (seed >> 32));
    key.k[1] = (uint32_t)crc;
    return key;
}

void col_rng_words(col_rng_key key, int generation, int purpose, uint32_t epoch, uint32_t index,
                   uint32_t block, uint32_t out[4])
{
    philox4x32_key_t k = {{key.k[0], key.k[1]}};
    /* generation in the high 24 bits, purpose in the low 8 */
    philox4x32_ctr_t c = {{((uint32_t)generation << 8) | ((uint32_t)purpose & 0xffu), epoch, index, block}};
    philox4x32_ctr_t r = philox4x32(c, k);
    memcpy(out, r.v, sizeof r.v);
}

void col_rng_normal(col_rng_key key, int generation, int purpose, uint32_t epoch, uint32_t index,
                    float *out, int n)
{
    uint32_t w[4];
    for (int i = 0, block = 0; i < n; block++) {
        col_rng_words(key, generation, purpose, epoch, index, (uint32_t)block, w);
        for (int pair = 0; pair < 2 && i < n; pair++) {
            /* Box-Muller in double: u1 in (0,1) so the logarithm is finite */
            double u1 = u01fixedpt_open_open_32_double(w[2 * pair]);
            double u2 = u01fixedpt_open_open_32_double(w[2 * pair + 1]);
            double r = sqrt(-2.0 * log(u1));
            double theta = 2.0 * M_PI * u2;
            out[i++] = (float)(r * cos(theta));
            if (i < n)
                out[i++] = (float)(r * sin(theta));
        }
    }
}

void col_rng_uniform(col_rng_key key, int generation, int purpose, uint32_t epoch, uint32_t index,
                     float lo, float hi, float *out, int n)
{
    uint32_t w[4];
    for (int i = 0, block = 0; i < n; block++) {
        col_rng_words(key, generation, purpose, epoch, index, (uint32_t)block, w);
        for (int j = 0; j < 4 && i < n; j++)
            out[i++] = (float)(lo + (hi - lo) * u01fixedpt_open_open_32_double(w[j]));
    }
}

void col_rng_permutation(col_rng_key key, int generation, int purpose, uint32_t epoch, int n,
                         int32_t *perm)
{
    uint32_t w[4];
    for (int i = 0; i < n; i++)
        perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        col_rng_words(key, generation, purpose, epoch, (uint32_t)i, 0, w);
        /* a 64-bit draw scaled to [0, i]: the bias is below 2^-32 for any n < 2^31 */
        uint64_t draw = ((uint64_t)w[0] << 32) | w[1];
        int j = (int)(((unsigned __int128)draw * (uint64_t)(i + 1)) >> 64);
        int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
