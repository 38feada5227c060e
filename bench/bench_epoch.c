/*
 * collapse-bench: times training epochs of one model through the pipeline's own training
 * loop (shuffle, shard gather, forward, backward, the gradient allreduce, Adam), on MNIST.
 *
 *   [mpirun -n P] collapse-bench --model vae|mlp|cnn --epochs E --data DIR [--batch 128]
 *                                [--threads 1]
 *
 * Prints one line per epoch on stdout, "epoch <k> seconds <s> loss <l>" (loss per sample),
 * from the first rank; bench/compare.py reads these lines. The models are the defaults of
 * config/mnist.cfg (VAE, MLP) and config/emnist.cfg (CNN, here with MNIST's 10 classes).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <mpi.h>

#include "../src/pipeline/internal.h"
#include "collapse/log.h"

static void usage(void)
{
    fprintf(stderr, "usage: collapse-bench --model vae|mlp|cnn --epochs E --data DIR [--batch N] [--threads T]\n");
}

int main(int argc, char **argv)
{
    const char *model = NULL, *data_dir = NULL;
    int epochs = 0, batch = 128, threads = 1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        if (strcmp(argv[i], "--model") == 0)
            model = argv[++i];
        else if (strcmp(argv[i], "--epochs") == 0)
            epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--data") == 0)
            data_dir = argv[++i];
        else if (strcmp(argv[i], "--batch") == 0)
            batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[++i]);
        else {
            usage();
            return 2;
        }
    }
    int is_vae = model && strcmp(model, "vae") == 0, is_cnn = model && strcmp(model, "cnn") == 0;
    if (!model || (!is_vae && !is_cnn && strcmp(model, "mlp") != 0) || epochs < 1 || batch < 1 || threads < 1 ||
        !data_dir) {
        usage();
        return 2;
    }

    MPI_Init(&argc, &argv);
    openblas_set_num_threads(threads);
    col_dist dist;
    char msg[256];
    if (col_dist_init(&dist, 0, msg, sizeof msg)) {
        fprintf(stderr, "collapse-bench: %s\n", msg);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    col_log_enable(0);

    /* the member: defaults of the reference configurations */
    col_member m;
    memset(&m, 0, sizeof m);
    m.seed = 1;
    snprintf(m.name, sizeof m.name, "bench");
    col_data_spec_init(&m.data);
    snprintf(m.data.name, sizeof m.data.name, "mnist");
    snprintf(m.data.kind, sizeof m.data.kind, "mnist");
    snprintf(m.data.dir, sizeof m.data.dir, "%s", data_dir);
    m.batch_size = batch;
    m.vae = (col_vae_config){.n_hidden = 2, .hidden = {128, 128}, .latent = 20, .epochs = epochs, .learning_rate = 1e-3};
    m.classifier = (col_classifier_config){.type = is_cnn ? COL_CLASSIFIER_CNN : COL_CLASSIFIER_MLP,
                                           .n_conv = is_cnn ? 3 : 0, .channels = {32, 64, 128},
                                           .n_hidden = 2, .hidden = {256, is_cnn ? 128 : 256},
                                           .epochs = epochs, .learning_rate = 1e-3};

    col_image_set train, test;
    col_data_info info;
    col_error err;
    if (col_data_load(&m.data, &train, &test, &info, &err)) {
        fprintf(stderr, "collapse-bench: %s\n", err.msg);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }

    float *x = col_malloc(sizeof(float) * (size_t)train.n * train.rows * train.cols, "images");
    col_normalize(&train, 0.1307f, 0.3081f, x);
    member_run r;
    train_only_setup(&r, &m, &dist, x, train.labels, train.n, train.rows, train.cols, info.n_classes);

    /* one epoch per call, so each is timed on its own: train_* runs epochs [epoch, limit) */
    for (int epoch = 0; epoch < epochs; epoch++) {
        m.vae.epochs = m.classifier.epochs = epoch + 1;
        double t0 = col_now_s();
        int done = 0;
        int rc = is_vae ? train_vae(&r, 0, epoch, &done, &err) : train_classifier(&r, 0, epoch, &done, &err);
        double seconds = col_dist_max(&dist, col_now_s() - t0);
        if (rc < 0) {
            fprintf(stderr, "collapse-bench: %s\n", err.msg);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        double loss = is_vae ? r.metrics.vae_loss[epoch] : r.metrics.classifier_loss[epoch];
        if (dist.world_rank == 0) {
            printf("epoch %d seconds %.4f loss %.6f\n", epoch + 1, seconds, loss);
            fflush(stdout);
        }
    }
    train_only_teardown(&r);
    free(x);
    col_image_set_free(&train);
    col_image_set_free(&test);
    MPI_Finalize();
    return 0;
}
