/* MPI tests of the dist layer, run on 3 ranks: sharding, sums, gathers, the replica check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collapse/dist.h"

static col_dist dist;

static void test_shards_cover_batch(void **state)
{
    (void)state;
    for (int n = 0; n < 20; n++)
        for (int size = 1; size <= 4; size++) {
            int next = 0, min = n, max = 0;
            for (int r = 0; r < size; r++) {
                int start, count;
                col_dist_shard(n, r, size, &start, &count);
                assert_int_equal(start, next); /* contiguous, in rank order */
                next += count;
                min = count < min ? count : min;
                max = count > max ? count : max;
            }
            assert_int_equal(next, n);
            assert_true(max - min <= 1);
        }
    /* 2 samples on 3 ranks: the last rank gets an empty shard */
    int start, count;
    col_dist_shard(2, 2, 3, &start, &count);
    assert_int_equal(count, 0);
}

static void test_sum_and_gather(void **state)
{
    (void)state;
    float buf[3] = {1.0f, (float)dist.rank, 2.5f};
    col_dist_sum_floats(&dist, buf, 3);
    assert_float_equal(buf[0], (float)dist.size, 0);
    assert_float_equal(buf[1], (float)(dist.size * (dist.size - 1) / 2), 0);

    /* 7 rows of width 2, each rank fills its shard */
    float rows[14] = {0};
    int start, count;
    col_dist_shard(7, dist.rank, dist.size, &start, &count);
    for (int i = start; i < start + count; i++)
        rows[2 * i] = rows[2 * i + 1] = (float)(10 * i);
    col_dist_allgather_rows(&dist, rows, 7, 2);
    for (int i = 0; i < 7; i++)
        assert_float_equal(rows[2 * i + 1], (float)(10 * i), 0);

    assert_true(col_dist_any(&dist, dist.rank == dist.size - 1));
    assert_false(col_dist_any(&dist, 0));
    assert_float_equal(col_dist_max(&dist, (double)dist.rank), (double)(dist.size - 1), 0);
}

static void test_replica_check(void **state)
{
    (void)state;
    float same[100], different[100];
    for (int i = 0; i < 100; i++)
        same[i] = different[i] = (float)i;
    assert_true(col_dist_same_on_all(&dist, same, sizeof same));
    if (dist.rank == dist.size - 1)
        different[57] = 57.5f;
    if (dist.size > 1)
        assert_false(col_dist_same_on_all(&dist, different, sizeof different));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    char msg[256];
    if (col_dist_init(&dist, 0, msg, sizeof msg))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards_cover_batch),
        cmocka_unit_test(test_sum_and_gather),
        cmocka_unit_test(test_replica_check),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    /* a failure on any rank fails the test */
    MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    col_dist_finalize(&dist);
    MPI_Finalize();
    return failed ? 1 : 0;
}
