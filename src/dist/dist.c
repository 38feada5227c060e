/* Communicator layout, sharding and the collectives of data-parallel training. */
#include "collapse/dist.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "collapse/common.h"

#include <zlib.h> /* crc32 */

void col_mpi_fail(const char *call, int rc, const char *file, int line)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    col_fatal_at(file, line, "MPI call %s failed: %s", call, text);
}

int col_dist_init(col_dist *d, int ranks_per_member, char *msg, size_t msg_size)
{
    d->world = MPI_COMM_WORLD;
    COL_MPI_CHECK(MPI_Comm_rank(d->world, &d->world_rank));
    COL_MPI_CHECK(MPI_Comm_size(d->world, &d->world_size));
    int group_size = ranks_per_member > 0 ? ranks_per_member : d->world_size;
    if (group_size > d->world_size || d->world_size % group_size != 0) {
        snprintf(msg, msg_size,
                 "ranks_per_member = %d does not divide the %d MPI ranks; start a multiple of %d "
                 "ranks or change ranks_per_member",
                 ranks_per_member, d->world_size, group_size);
        return -1;
    }
    d->n_groups = d->world_size / group_size;
    d->group_index = d->world_rank / group_size;
    COL_MPI_CHECK(MPI_Comm_split(d->world, d->group_index, d->world_rank, &d->group));
    COL_MPI_CHECK(MPI_Comm_rank(d->group, &d->rank));
    COL_MPI_CHECK(MPI_Comm_size(d->group, &d->size));
    return 0;
}

void col_dist_finalize(col_dist *d)
{
    if (d->group != MPI_COMM_NULL && d->group != MPI_COMM_WORLD)
        MPI_Comm_free(&d->group);
}

void col_dist_shard(int n, int rank, int size, int *start, int *count)
{
    int base = n / size, extra = n % size;
    *count = base + (rank < extra);
    *start = rank * base + (rank < extra ? rank : extra);
}

void col_dist_sum_floats(const col_dist *d, float *buf, size_t n)
{
    /* element counts are int in MPI-3: reduce in pieces if a buffer ever exceeds INT_MAX */
    for (size_t done = 0; done < n;) {
        int count = (int)(n - done > INT_MAX ? INT_MAX : n - done);
        COL_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf + done, count, MPI_FLOAT, MPI_SUM, d->group));
        done += (size_t)count;
    }
}

void col_dist_sum_doubles(const col_dist *d, double *buf, size_t n)
{
    COL_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_DOUBLE, MPI_SUM, d->group));
}

int col_dist_any(const col_dist *d, int flag)
{
    int any = flag != 0;
    COL_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_LOR, d->group));
    return any;
}

double col_dist_max(const col_dist *d, double value)
{
    COL_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, d->group));
    return value;
}

static void allgather_rows(const col_dist *d, void *buf, int n, int width, MPI_Datatype type)
{
    if (d->size == 1)
        return;
    int *counts = col_malloc((size_t)d->size * sizeof(int), "allgather counts");
    int *displs = col_malloc((size_t)d->size * sizeof(int), "allgather displacements");
    for (int r = 0; r < d->size; r++) {
        int start, count;
        col_dist_shard(n, r, d->size, &start, &count);
        if ((long long)start * width > INT_MAX || (long long)count * width > INT_MAX)
            COL_FATAL("allgather of %d x %d elements exceeds MPI's int counts", n, width);
        counts[r] = count * width;
        displs[r] = start * width;
    }
    COL_MPI_CHECK(MPI_Allgatherv(MPI_IN_PLACE, 0, type, buf, counts, displs, type, d->group));
    free(counts);
    free(displs);
}

void col_dist_allgather_rows(const col_dist *d, float *buf, int n, int width)
{
    allgather_rows(d, buf, n, width, MPI_FLOAT);
}

void col_dist_allgather_rows_int(const col_dist *d, int *buf, int n, int width)
{
    allgather_rows(d, buf, n, width, MPI_INT);
}

void col_dist_bcast(const col_dist *d, void *buf, size_t n_bytes)
{
    COL_MPI_CHECK(MPI_Bcast(buf, (int)n_bytes, MPI_BYTE, 0, d->group));
}

int col_dist_same_on_all(const col_dist *d, const void *buf, size_t n_bytes)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    const unsigned char *bytes = buf;
    for (size_t done = 0; done < n_bytes;) {
        uInt chunk = (uInt)(n_bytes - done > (1u << 30) ? (1u << 30) : n_bytes - done);
        crc = crc32(crc, bytes + done, chunk);
        done += chunk;
    }
    unsigned long range[2] = {crc, ~(unsigned long)crc};
    COL_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, range, 2, MPI_UNSIGNED_LONG, MPI_MAX, d->group));
    /* max(crc) == crc and max(~crc) == ~crc on every rank only if all CRCs are equal */
    int same = range[0] == crc && range[1] == (~(unsigned long)crc);
    COL_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_LAND, d->group));
    return same;
}
