/*
 * collapse-allreduce-time: the time of the one gradient MPI_Allreduce per training step, for
 * each model's gradient buffer (parameters + the per-step statistics), on the ranks it runs
 * on. Prints a table: model, floats, median and minimum microseconds per call over --repeat
 * calls, and the implied bus bandwidth.
 *
 *   mpirun -n P collapse-allreduce-time [--repeat 200]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "collapse/models.h"

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size, repeat = 200;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc == 3 && strcmp(argv[1], "--repeat") == 0)
        repeat = atoi(argv[2]);
    if (repeat < 1)
        repeat = 1;

    /* the default models, built only to count their parameters */
    col_vae vae;
    col_classifier mlp, cnn;
    col_vae_create(&vae, 784, (int[]){128, 128}, 2, 20, 1);
    col_classifier_create(&mlp, COL_CLASSIFIER_MLP, 28, 28, NULL, 0, (int[]){256, 256}, 2, 10, 1);
    col_classifier_create(&cnn, COL_CLASSIFIER_CNN, 28, 28, (int[]){32, 64, 128}, 3, (int[]){256, 128}, 2, 47, 1);
    struct { const char *name; size_t n; } models[] = {
        {"VAE 784-128-128-20", vae.params.n + COL_GRAD_EXTRA},
        {"MLP 784-256-256-10", mlp.params.n + COL_GRAD_EXTRA},
        {"CNN (EMNIST, 47 classes)", cnn.params.n + COL_GRAD_EXTRA},
    };
    double *times = malloc(sizeof(double) * (size_t)repeat);
    if (rank == 0)
        printf("ranks %d\n%-26s %10s %12s %12s %12s\n", size, "model", "floats", "median_us", "min_us",
               "GB/s (2n(P-1)/P)");
    for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
        float *buf = calloc(models[m].n, sizeof(float));
        for (int i = 0; i < 10; i++) /* warm-up */
            MPI_Allreduce(MPI_IN_PLACE, buf, (int)models[m].n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        for (int i = 0; i < repeat; i++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            MPI_Allreduce(MPI_IN_PLACE, buf, (int)models[m].n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            double t = MPI_Wtime() - t0;
            MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            times[i] = t;
        }
        qsort(times, (size_t)repeat, sizeof(double), compare_doubles);
        double median = times[repeat / 2];
        /* a ring allreduce moves 2 n (P - 1) / P elements per rank */
        double bytes = 2.0 * (double)models[m].n * sizeof(float) * (size - 1) / (size > 0 ? size : 1);
        if (rank == 0)
            printf("%-26s %10zu %12.1f %12.1f %12.2f\n", models[m].name, models[m].n, median * 1e6, times[0] * 1e6,
                   median > 0 ? bytes / median / 1e9 : 0.0);
        free(buf);
    }
    free(times);
    col_vae_destroy(&vae);
    col_classifier_destroy(&mlp);
    col_classifier_destroy(&cnn);
    MPI_Finalize();
    return 0;
}
