/*
 * The parallel layout: MPI_COMM_WORLD split into groups, one ensemble member per group at a
 * time, and data parallelism inside a group. Knows nothing of models: gradients are "a flat
 * buffer of n floats".
 */
#ifndef COLLAPSE_DIST_H
#define COLLAPSE_DIST_H

#include <stddef.h>

#include <mpi.h>

typedef struct col_dist {
    MPI_Comm world, group;
    int world_rank, world_size;
    int rank, size;            /* in the group */
    int group_index, n_groups;
} col_dist;

/* Checks an MPI return code; a failure is fatal on every rank, naming the call. */
#define COL_MPI_CHECK(call)                                                                    \
    do {                                                                                       \
        int mpi_rc_ = (call);                                                                  \
        if (mpi_rc_ != MPI_SUCCESS)                                                            \
            col_mpi_fail(#call, mpi_rc_, __FILE__, __LINE__);                                  \
    } while (0)
_Noreturn void col_mpi_fail(const char *call, int rc, const char *file, int line);

/*
 * Splits the world into groups of ranks_per_member consecutive ranks (0: one group of all
 * ranks). The world size must be a multiple of the group size; returns -1 with a message
 * otherwise.
 */
int col_dist_init(col_dist *d, int ranks_per_member, char *msg, size_t msg_size);
void col_dist_finalize(col_dist *d);

/* Computes the contiguous shard [*start, *start + *count) of n items for a rank of size
   ranks. Shard sizes differ by at most one and may be zero. */
void col_dist_shard(int n, int rank, int size, int *start, int *count);

/* In-place sums over the group (one MPI_Allreduce each). */
void col_dist_sum_floats(const col_dist *d, float *buf, size_t n);
void col_dist_sum_doubles(const col_dist *d, double *buf, size_t n);

/* Logical OR of a flag over the group. */
int col_dist_any(const col_dist *d, int flag);

/* Maximum of a value over the group (for timings). */
double col_dist_max(const col_dist *d, double value);

/*
 * Gathers per-rank shards of a row-major [n, width] float array that col_dist_shard split
 * over the group, so every rank ends with all n rows. buf is the full array, in which each
 * rank has filled its own rows.
 */
void col_dist_allgather_rows(const col_dist *d, float *buf, int n, int width);
void col_dist_allgather_rows_int(const col_dist *d, int *buf, int n, int width);

/* 1 if buf has the same bytes on every rank of the group (compares a CRC-32 with
   MPI_MIN and MPI_MAX), 0 otherwise. Data-parallel replicas must never drift apart. */
int col_dist_same_on_all(const col_dist *d, const void *buf, size_t n_bytes);

/* Broadcasts bytes from group rank 0. */
void col_dist_bcast(const col_dist *d, void *buf, size_t n_bytes);

#endif
