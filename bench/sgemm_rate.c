/*
 * collapse-sgemm-rate: single-precision matrix product throughput of the linked BLAS, for a
 * large square product (the machine's practical peak) and for every sgemm call one training
 * step of each model makes. The result bounds what a BLAS-based trainer can reach: an epoch
 * cannot run faster than its sgemm calls at these rates.
 *
 * Shapes assume row-major storage with weights laid out as PyTorch does, W[out, in]:
 *
 *   dense layer, batch B          forward       Y[B,out]   += X[B,in] W^T      NT  M=B   N=out K=in
 *                                 input grad    dX[B,in]    = dY[B,out] W      NN  M=B   N=in  K=out
 *                                 weight grad   dW[out,in] += dY^T X           TN  M=out N=in  K=B
 *
 *   3x3 convolution via im2col, K9 = 9 * C_in, output H x W, in two layouts:
 *     batched (columns C = B*H*W) forward       Y[Cout,C]    = W col[K9,C]     NN  M=Cout N=C    K=K9
 *                                 input grad    dcol[K9,C]   = W^T dY          TN  M=K9   N=C    K=Cout
 *                                 weight grad   dW[Cout,K9] += dY col^T        NT  M=Cout N=K9   K=C
 *     per image (B calls each)    forward       Y[Cout,HW]  += W col           NN  M=Cout N=HW   K=K9
 *                                 input grad    dcol[K9,HW]  = W^T dY          TN  M=K9   N=HW   K=Cout
 *                                 weight grad   dW[Cout,K9] += dY col^T        NT  M=Cout N=K9   K=HW
 *
 * collapse's src/nn uses the dense layout and the batched convolution layout. "+=" marks
 * beta 1: dense forward products add to the bias already in Y, weight gradients accumulate.
 * The first layer of each model needs no input gradient, so it has no input-grad call.
 * Every call costs 2*M*N*K floating-point operations.
 *
 * Usage: collapse-sgemm-rate [--size N] [--batch B] [--samples N] [--classes C]
 *                            [--seconds S] [--models vae,mlp,cnn] [--threads T] [--json]
 */
#include <cblas.h>  /* cblas_sgemm, and with OpenBLAS also openblas_set_num_threads, openblas_get_config */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CALLS 64     /* sgemm calls listed per model (the CNN needs 17) */
#define MAX_SHAPES 256   /* distinct shapes timed in one run */
#define MIN_CHUNK_S 0.02 /* each timed chunk repeats the call for at least this long */
#define MIN_CHUNKS 3

/* ---------------------------------------------------------------- options */

typedef struct options {
    int square_size;      /* side of the square product */
    int batch;            /* samples per training step */
    int samples;          /* samples per epoch, for the per-epoch estimate */
    int classes;          /* classifier outputs */
    double seconds;       /* timing budget per distinct shape */
    int threads;          /* BLAS threads */
    int json;
    int run_vae, run_mlp, run_cnn;
} options;

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: collapse-sgemm-rate [options]\n"
            "Measures cblas_sgemm GFLOP/s for a large square product and for the calls of one\n"
            "training step of each model.\n"
            "  --size N        side of the square product (default 2048)\n"
            "  --batch B       training batch size (default 128)\n"
            "  --samples N     samples per epoch for the sgemm-only epoch time (default 60000)\n"
            "  --classes C     classifier outputs (default 10)\n"
            "  --seconds S     timing budget per distinct shape, in seconds (default 0.25)\n"
            "  --models LIST   comma-separated subset of vae,mlp,cnn (default all; 'none' for\n"
            "                  the square product only)\n"
            "  --threads T     BLAS threads (default 1)\n"
            "  --json          print one JSON document instead of tables\n"
            "  --help          print this help\n");
}

/* Parses a positive int option value, or exits with a message naming the option. */
static int parse_positive_int(const char *option, const char *text)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value <= 0 || value > 1000000000L) {
        fprintf(stderr, "collapse-sgemm-rate: invalid value '%s' for %s: expected a positive integer\n",
                text, option);
        exit(2);
    }
    return (int)value;
}

static double parse_positive_double(const char *option, const char *text)
{
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(value > 0.0) || !isfinite(value)) {
        fprintf(stderr, "collapse-sgemm-rate: invalid value '%s' for %s: expected a positive number\n",
                text, option);
        exit(2);
    }
    return value;
}

static void parse_models(const char *text, options *opt)
{
    opt->run_vae = opt->run_mlp = opt->run_cnn = 0;
    if (strcmp(text, "none") == 0)
        return;

    char buffer[256];
    if (strlen(text) >= sizeof buffer) {
        fprintf(stderr, "collapse-sgemm-rate: --models value too long\n");
        exit(2);
    }
    strcpy(buffer, text);
    for (char *save = NULL, *name = strtok_r(buffer, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        if (strcmp(name, "vae") == 0)
            opt->run_vae = 1;
        else if (strcmp(name, "mlp") == 0)
            opt->run_mlp = 1;
        else if (strcmp(name, "cnn") == 0)
            opt->run_cnn = 1;
        else {
            fprintf(stderr, "collapse-sgemm-rate: unknown model '%s' in --models: expected vae, mlp, cnn or none\n",
                    name);
            exit(2);
        }
    }
    if (!opt->run_vae && !opt->run_mlp && !opt->run_cnn) {
        fprintf(stderr, "collapse-sgemm-rate: --models '%s' names no model: use vae, mlp, cnn or none\n", text);
        exit(2);
    }
}

static options parse_options(int argc, char **argv)
{
    options opt = {.square_size = 2048, .batch = 128, .samples = 60000, .classes = 10,
                   .seconds = 0.25, .threads = 1, .json = 0,
                   .run_vae = 1, .run_mlp = 1, .run_cnn = 1};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_usage(stdout);
            exit(0);
        }
        if (strcmp(arg, "--json") == 0) {
            opt.json = 1;
            continue;
        }
        static const char *valued[] = {"--size", "--batch", "--samples", "--classes",
                                       "--seconds", "--threads", "--models"};
        int known = 0;
        for (size_t v = 0; v < sizeof valued / sizeof valued[0]; v++)
            known |= strcmp(arg, valued[v]) == 0;
        if (!known) {
            fprintf(stderr, "collapse-sgemm-rate: unknown option '%s'\n", arg);
            print_usage(stderr);
            exit(2);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "collapse-sgemm-rate: missing value for %s\n", arg);
            exit(2);
        }
        const char *value = argv[++i];
        if (strcmp(arg, "--size") == 0)
            opt.square_size = parse_positive_int(arg, value);
        else if (strcmp(arg, "--batch") == 0)
            opt.batch = parse_positive_int(arg, value);
        else if (strcmp(arg, "--samples") == 0)
            opt.samples = parse_positive_int(arg, value);
        else if (strcmp(arg, "--classes") == 0)
            opt.classes = parse_positive_int(arg, value);
        else if (strcmp(arg, "--seconds") == 0)
            opt.seconds = parse_positive_double(arg, value);
        else if (strcmp(arg, "--threads") == 0)
            opt.threads = parse_positive_int(arg, value);
        else
            parse_models(value, &opt);
    }
    return opt;
}

/* ---------------------------------------------------------------- timing one shape */

/* One sgemm call shape: C[M,N] = alpha * op(A) op(B) + beta * C, row-major. */
typedef struct gemm_shape {
    int trans_a, trans_b;
    int m, n, k;
    float beta;
} gemm_shape;

typedef struct shape_rate {
    gemm_shape shape;
    double median_gflops, best_gflops;
} shape_rate;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *alloc_filled(size_t count, unsigned *state)
{
    size_t n_bytes = (count * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, n_bytes);
    if (!p) {
        fprintf(stderr, "collapse-sgemm-rate: out of memory allocating %zu bytes\n", n_bytes);
        exit(1);
    }
    /* small values from a linear congruential generator: no denormals, no overflow */
    for (size_t i = 0; i < count; i++) {
        *state = *state * 1664525u + 1013904223u;
        p[i] = (float)(*state >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

static void call_sgemm(const gemm_shape *s, const float *a, const float *b, float *c)
{
    int lda = s->trans_a ? s->m : s->k;
    int ldb = s->trans_b ? s->k : s->n;
    cblas_sgemm(CblasRowMajor, s->trans_a ? CblasTrans : CblasNoTrans,
                s->trans_b ? CblasTrans : CblasNoTrans, s->m, s->n, s->k,
                1.0f, a, lda, b, ldb, s->beta, c, s->n);
}

static int compare_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/*
 * Times one shape: a warm-up call, then chunks of repeated calls, each chunk lasting at least
 * MIN_CHUNK_S, until the budget is spent (at least MIN_CHUNKS chunks). Rates are per chunk.
 */
static shape_rate time_shape(const gemm_shape *shape, double budget_s)
{
    unsigned state = 12345u;
    float *a = alloc_filled((size_t)shape->m * shape->k, &state);
    float *b = alloc_filled((size_t)shape->k * shape->n, &state);
    float *c = alloc_filled((size_t)shape->m * shape->n, &state);
    double flop = 2.0 * shape->m * shape->n * shape->k;

    double start = now_s();
    call_sgemm(shape, a, b, c);
    double one_call_s = now_s() - start;
    long reps = one_call_s > 0 ? (long)ceil(MIN_CHUNK_S / one_call_s) : 1000;
    if (reps < 1)
        reps = 1;

    double rates[4096];
    int n_rates = 0;
    double budget_end = now_s() + budget_s;
    while (n_rates < (int)(sizeof rates / sizeof rates[0]) &&
           (n_rates < MIN_CHUNKS || now_s() < budget_end)) {
        double t0 = now_s();
        for (long r = 0; r < reps; r++)
            call_sgemm(shape, a, b, c);
        double elapsed = now_s() - t0;
        rates[n_rates++] = flop * (double)reps / elapsed * 1e-9;
    }
    qsort(rates, (size_t)n_rates, sizeof rates[0], compare_double);

    free(a);
    free(b);
    free(c);
    shape_rate result = {.shape = *shape, .best_gflops = rates[n_rates - 1]};
    result.median_gflops = n_rates % 2 ? rates[n_rates / 2]
                                       : 0.5 * (rates[n_rates / 2 - 1] + rates[n_rates / 2]);
    return result;
}

/* Rates measured so far, so that a shape used by several layers or models is timed once. */
static shape_rate measured[MAX_SHAPES];
static int n_measured;

static const shape_rate *rate_of(const gemm_shape *shape, double budget_s)
{
    for (int i = 0; i < n_measured; i++)
        if (memcmp(&measured[i].shape, shape, sizeof *shape) == 0)
            return &measured[i];
    if (n_measured == MAX_SHAPES) {
        fprintf(stderr, "collapse-sgemm-rate: more than %d distinct shapes\n", MAX_SHAPES);
        exit(1);
    }
    measured[n_measured] = time_shape(shape, budget_s);
    return &measured[n_measured++];
}

/* ---------------------------------------------------------------- model step shapes */

/* One sgemm call of a training step, repeated `calls` times per step. */
typedef struct step_call {
    char layer[48];
    const char *pass;
    gemm_shape shape;
    int calls;
} step_call;

typedef struct step_plan {
    const char *model;
    step_call call[MAX_CALLS];
    int n_calls;
} step_plan;

static void add_call(step_plan *plan, const char *layer, const char *pass,
                     int trans_a, int trans_b, int m, int n, int k, float beta, int calls)
{
    if (plan->n_calls == MAX_CALLS) {
        fprintf(stderr, "collapse-sgemm-rate: more than %d calls in model %s\n", MAX_CALLS, plan->model);
        exit(1);
    }
    step_call *c = &plan->call[plan->n_calls++];
    snprintf(c->layer, sizeof c->layer, "%s", layer);
    c->pass = pass;
    c->shape = (gemm_shape){.trans_a = trans_a, .trans_b = trans_b, .m = m, .n = n, .k = k, .beta = beta};
    c->calls = calls;
}

static void add_dense(step_plan *plan, const char *name, int batch, int n_in, int n_out, int first)
{
    char layer[48];
    snprintf(layer, sizeof layer, "%s %d->%d", name, n_in, n_out);
    add_call(plan, layer, "forward", 0, 1, batch, n_out, n_in, 1.0f, 1);
    if (!first)
        add_call(plan, layer, "input grad", 0, 0, batch, n_in, n_out, 0.0f, 1);
    add_call(plan, layer, "weight grad", 1, 0, n_out, n_in, batch, 1.0f, 1);
}

static void add_conv_batched(step_plan *plan, const char *name, int batch, int c_in, int c_out,
                             int side, int first)
{
    char layer[48];
    int columns = batch * side * side, k9 = 9 * c_in;
    snprintf(layer, sizeof layer, "%s %dx%dx%d->%d", name, side, side, c_in, c_out);
    add_call(plan, layer, "forward", 0, 0, c_out, columns, k9, 0.0f, 1);
    if (!first)
        add_call(plan, layer, "input grad", 1, 0, k9, columns, c_out, 0.0f, 1);
    add_call(plan, layer, "weight grad", 0, 1, c_out, k9, columns, 1.0f, 1);
}

static void add_conv_per_image(step_plan *plan, const char *name, int batch, int c_in, int c_out,
                               int side, int first)
{
    char layer[48];
    int hw = side * side, k9 = 9 * c_in;
    snprintf(layer, sizeof layer, "%s %dx%dx%d->%d", name, side, side, c_in, c_out);
    add_call(plan, layer, "forward", 0, 0, c_out, hw, k9, 1.0f, batch);
    if (!first)
        add_call(plan, layer, "input grad", 1, 0, k9, hw, c_out, 0.0f, batch);
    add_call(plan, layer, "weight grad", 0, 1, c_out, k9, hw, 1.0f, batch);
}

static void plan_vae(step_plan *plan, int batch)
{
    plan->model = "vae";
    add_dense(plan, "enc1", batch, 784, 128, 1);
    add_dense(plan, "enc2", batch, 128, 128, 0);
    add_dense(plan, "mu", batch, 128, 20, 0);
    add_dense(plan, "logvar", batch, 128, 20, 0);
    add_dense(plan, "dec1", batch, 20, 128, 0);
    add_dense(plan, "dec2", batch, 128, 128, 0);
    add_dense(plan, "dec3", batch, 128, 784, 0);
}

static void plan_mlp(step_plan *plan, int batch, int classes)
{
    plan->model = "mlp";
    add_dense(plan, "fc1", batch, 784, 256, 1);
    add_dense(plan, "fc2", batch, 256, 256, 0);
    add_dense(plan, "fc3", batch, 256, classes, 0);
}

/* The CNN's three convolutions (28x28, 14x14, 7x7 outputs) in one im2col layout, then its dense head. */
static void plan_cnn(step_plan *plan, const char *model, int batch, int classes, int per_image)
{
    static const int c_in[3] = {1, 32, 64}, c_out[3] = {32, 64, 128}, side[3] = {28, 14, 7};
    static const char *names[3] = {"conv1", "conv2", "conv3"};
    plan->model = model;
    for (int i = 0; i < 3; i++) {
        if (per_image)
            add_conv_per_image(plan, names[i], batch, c_in[i], c_out[i], side[i], i == 0);
        else
            add_conv_batched(plan, names[i], batch, c_in[i], c_out[i], side[i], i == 0);
    }
    add_dense(plan, "fc1", batch, 128 * 3 * 3, 256, 0);
    add_dense(plan, "fc2", batch, 256, 128, 0);
    add_dense(plan, "fc3", batch, 128, classes, 0);
}

/* ---------------------------------------------------------------- report */

static const char *op_name(const gemm_shape *s)
{
    static const char *names[4] = {"NN", "NT", "TN", "TT"};
    return names[2 * s->trans_a + s->trans_b];
}

typedef struct step_total {
    double flop, seconds;
} step_total;

/* Times every call of the plan (memoized by shape) and returns the step's sgemm FLOPs and time. */
static step_total measure_plan(const step_plan *plan, const shape_rate **rates, double budget_s)
{
    step_total total = {0.0, 0.0};
    for (int i = 0; i < plan->n_calls; i++) {
        const step_call *c = &plan->call[i];
        rates[i] = rate_of(&c->shape, budget_s);
        double flop = 2.0 * c->shape.m * c->shape.n * c->shape.k * c->calls;
        total.flop += flop;
        total.seconds += flop / (rates[i]->median_gflops * 1e9);
    }
    return total;
}

static void print_plan_text(const step_plan *plan, const shape_rate **rates, step_total total,
                            const options *opt)
{
    printf("\nmodel %s, batch %d: sgemm calls of one training step\n", plan->model, opt->batch);
    printf("%-24s %-12s %-3s %7s %7s %7s %6s %9s %9s %9s\n", "layer", "pass", "op", "M", "N", "K",
           "calls", "MFLOP", "GFLOP/s", "best");
    for (int i = 0; i < plan->n_calls; i++) {
        const step_call *c = &plan->call[i];
        double mflop = 2e-6 * c->shape.m * c->shape.n * c->shape.k * c->calls;
        printf("%-24s %-12s %-3s %7d %7d %7d %6d %9.2f %9.1f %9.1f\n", c->layer, c->pass,
               op_name(&c->shape), c->shape.m, c->shape.n, c->shape.k, c->calls, mflop,
               rates[i]->median_gflops, rates[i]->best_gflops);
    }
    /* FLOPs scale linearly with the batch, so samples / batch steps give an epoch's count
       exactly. The time is an estimate that runs a last partial batch at the full batch's rate. */
    printf("step: %.1f MFLOP in %.3f ms of sgemm (%.1f GFLOP/s); epoch of %d samples: "
           "%.1f GFLOP, sgemm-only time %.2f s\n",
           total.flop * 1e-6, total.seconds * 1e3, total.flop / total.seconds * 1e-9, opt->samples,
           total.flop * opt->samples / opt->batch * 1e-9,
           total.seconds * opt->samples / opt->batch);
}

static void print_plan_json(const step_plan *plan, const shape_rate **rates, step_total total,
                            const options *opt, int last)
{
    printf("  {\"model\": \"%s\", \"batch\": %d, \"samples\": %d, \"step_flop\": %.0f, "
           "\"step_seconds\": %.6e, \"step_gflops\": %.3f, \"epoch_flop\": %.0f, "
           "\"epoch_sgemm_seconds\": %.4f,\n   \"calls\": [\n",
           plan->model, opt->batch, opt->samples, total.flop, total.seconds,
           total.flop / total.seconds * 1e-9, total.flop * opt->samples / opt->batch,
           total.seconds * opt->samples / opt->batch);
    for (int i = 0; i < plan->n_calls; i++) {
        const step_call *c = &plan->call[i];
        printf("    {\"layer\": \"%s\", \"pass\": \"%s\", \"op\": \"%s\", \"m\": %d, \"n\": %d, "
               "\"k\": %d, \"calls\": %d, \"median_gflops\": %.3f, \"best_gflops\": %.3f}%s\n",
               c->layer, c->pass, op_name(&c->shape), c->shape.m, c->shape.n, c->shape.k, c->calls,
               rates[i]->median_gflops, rates[i]->best_gflops, i + 1 < plan->n_calls ? "," : "");
    }
    printf("   ]}%s\n", last ? "" : ",");
}

/* Copies a BLAS-owned string without trailing blanks, with quotes and backslashes blanked for JSON. */
static void copy_trimmed(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "unknown");
    size_t n = strlen(dst);
    while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '\n'))
        dst[--n] = '\0';
    for (char *p = dst; *p; p++)
        if (*p == '"' || *p == '\\')
            *p = ' ';
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    options opt = parse_options(argc, argv);

    /* BLAS threads and identity */
    char config[256], core[64];
#if COLLAPSE_HAVE_OPENBLAS
    openblas_set_num_threads(opt.threads);
    copy_trimmed(config, sizeof config, openblas_get_config());
    copy_trimmed(core, sizeof core, openblas_get_corename());
#else
    /* NOTE: a non-OpenBLAS CBLAS takes its thread count from its own environment variables. */
    if (opt.threads != 1)
        fprintf(stderr, "collapse-sgemm-rate: --threads is ignored without OpenBLAS; set the BLAS's "
                        "own thread variable instead\n");
    copy_trimmed(config, sizeof config, "non-OpenBLAS CBLAS");
    copy_trimmed(core, sizeof core, "unknown");
#endif

    /* large square product */
    gemm_shape square = {.trans_a = 0, .trans_b = 0, .m = opt.square_size, .n = opt.square_size,
                         .k = opt.square_size, .beta = 0.0f};
    shape_rate square_rate = time_shape(&square, 4 * opt.seconds);

    /* model step plans */
    static step_plan plans[4];
    int n_plans = 0;
    if (opt.run_vae)
        plan_vae(&plans[n_plans++], opt.batch);
    if (opt.run_mlp)
        plan_mlp(&plans[n_plans++], opt.batch, opt.classes);
    if (opt.run_cnn) {
        plan_cnn(&plans[n_plans++], "cnn-batched", opt.batch, opt.classes, 0);
        plan_cnn(&plans[n_plans++], "cnn-per-image", opt.batch, opt.classes, 1);
    }
    static const shape_rate *rates[4][MAX_CALLS];
    step_total totals[4];
    for (int p = 0; p < n_plans; p++)
        totals[p] = measure_plan(&plans[p], rates[p], opt.seconds);

    if (opt.json) {
        printf("{\"blas_config\": \"%s\", \"blas_core\": \"%s\", \"threads\": %d,\n"
               " \"square\": {\"size\": %d, \"median_gflops\": %.3f, \"best_gflops\": %.3f},\n"
               " \"models\": [\n",
               config, core, opt.threads, opt.square_size, square_rate.median_gflops,
               square_rate.best_gflops);
        for (int p = 0; p < n_plans; p++)
            print_plan_json(&plans[p], rates[p], totals[p], &opt, p + 1 == n_plans);
        printf(" ]}\n");
        return 0;
    }

    printf("BLAS: %s (core %s), %d thread(s)\n", config, core, opt.threads);
    printf("square %dx%dx%d: median %.1f GFLOP/s, best %.1f GFLOP/s\n", opt.square_size,
           opt.square_size, opt.square_size, square_rate.median_gflops, square_rate.best_gflops);
    for (int p = 0; p < n_plans; p++)
        print_plan_text(&plans[p], rates[p], totals[p], &opt);
    return 0;
}
