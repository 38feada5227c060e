/* Unit tests of configuration loading: valid files, overrides, and every kind of error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "collapse/config.h"

static const char *base =
    "generations = 4;\n"
    "seeds = [1, 2];\n"
    "batch_size = 64;\n"
    "datasets = (\n"
    "  { name = \"mnist\"; kind = \"mnist\"; dir = \"data/mnist\"; },\n"
    "  { name = \"letters\"; kind = \"emnist\"; split = \"letters\"; dir = \"x\";\n"
    "    classifier = { type = \"cnn\"; hidden = [256, 128]; }; vae = { latent = 50; }; }\n"
    ");\n"
    "vae = { hidden = [128, 128]; latent = 20; epochs = 3; learning_rate = 1e-3; };\n"
    "classifier = { epochs = 2; };\n";

/* Loads text with overrides; returns the error message ("" on success). */
static const char *load(const char *text, char **overrides, int n, col_config *cfg)
{
    static col_error err;
    err.msg[0] = '\0';
    if (col_config_load_string(text, "test.cfg", overrides, n, cfg, &err) == 0)
        return "";
    return err.msg;
}

static void test_config_members_and_defaults(void **state)
{
    (void)state;
    col_config cfg;
    assert_string_equal(load(base, NULL, 0, &cfg), "");
    assert_int_equal(cfg.n_members, 4);
    assert_string_equal(cfg.members[0].name, "mnist-s1");
    assert_string_equal(cfg.members[1].name, "mnist-s2");
    assert_string_equal(cfg.members[2].name, "letters-s1");
    assert_int_equal(cfg.members[0].generations, 4);
    assert_int_equal(cfg.members[0].batch_size, 64);
    assert_int_equal(cfg.members[0].vae.latent, 20);
    assert_int_equal(cfg.members[0].classifier.type, COL_CLASSIFIER_MLP);
    assert_int_equal(cfg.members[0].classifier.n_hidden, 2);
    assert_int_equal(cfg.members[0].classifier.hidden[0], 256);
    assert_int_equal(cfg.members[0].classifier.epochs, 2);
    /* per data set overrides */
    assert_int_equal(cfg.members[2].vae.latent, 50);
    assert_int_equal(cfg.members[2].vae.epochs, 3);
    assert_int_equal(cfg.members[2].classifier.type, COL_CLASSIFIER_CNN);
    assert_int_equal(cfg.members[2].classifier.n_conv, 3);
    assert_int_equal(cfg.members[2].classifier.hidden[1], 128);
    assert_string_equal(cfg.members[2].data.split, "letters");
    assert_non_null(strstr(cfg.text, "generations"));
    col_config_free(&cfg);
}

static void test_config_overrides(void **state)
{
    (void)state;
    col_config cfg;
    char *sets[] = {"vae.epochs=5", "seeds=[7]", "datasets.[0].dir=/tmp/elsewhere", "vae.learning_rate=1",
                    "classifier.type=cnn"};
    assert_string_equal(load(base, sets, 5, &cfg), "");
    assert_int_equal(cfg.n_members, 2);
    assert_int_equal(cfg.members[0].vae.epochs, 5);
    assert_int_equal(cfg.members[0].seed, 7);
    assert_string_equal(cfg.members[0].data.dir, "/tmp/elsewhere");
    assert_float_equal(cfg.members[0].vae.learning_rate, 1.0, 0);
    assert_int_equal(cfg.members[0].classifier.type, COL_CLASSIFIER_CNN);
    /* the override is part of the saved effective configuration */
    assert_non_null(strstr(cfg.text, "/tmp/elsewhere"));
    col_config_free(&cfg);
}

typedef struct bad_case {
    const char *text;      /* NULL: the base text */
    const char *override;  /* NULL: none */
    const char *expected;  /* fragment of the message */
} bad_case;

static void test_config_errors(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"generations = 3;\nvae = { epoch = 5; };\n", NULL, "test.cfg:2: unknown key 'vae.epoch'"},
        {"generations = \"many\";\n", NULL, "test.cfg:1: generations has the wrong type; expected an integer"},
        {"generations = 0;\n", NULL, "generations = 0 is out of range"},
        {"batch_size = -5;\n", NULL, "batch_size = -5 is out of range"},
        {"vae = { hidden = [128, -1]; };\n", NULL, "vae.hidden.[1] = -1 is out of range"},
        {"vae = { hidden = []; };\n", NULL, "vae.hidden has 0 elements"},
        {"classifier = { type = \"rnn\"; };\n", NULL, "classifier.type = \"rnn\" is not valid; choose one of mlp|cnn"},
        {"seeds = [1];\n", NULL, "missing key 'datasets'"},
        {"datasets = ( { name = \"a\"; kind = \"mnist\"; } );\n", NULL, "missing key 'seeds'"},
        {"seeds = [1];\ndatasets = ( { name = \"a b\"; kind = \"mnist\"; } );\n", NULL, "may only contain letters"},
        {"seeds = [1];\ndatasets = ( { kind = \"mnist\"; } );\n", NULL, "needs both 'name' and 'kind'"},
        {"seeds = [1, 1];\ndatasets = ( { name = \"a\"; kind = \"mnist\"; } );\n", NULL, "seed 1 is listed twice"},
        {"seeds = [1];\ndatasets = ( { name = \"e\"; kind = \"emnist\"; } );\n", NULL, "needs a 'split'"},
        {"generations = = 3;\n", NULL, "test.cfg:1: syntax error"},
        {NULL, "vae.epochz=3", "unknown key 'vae.epochz'"},
        {NULL, "novalue", "write KEY=VALUE"},
        {NULL, "vae.epochs=2.5", "vae.epochs has the wrong type"},
        {NULL, "generations=-1", "out of range"},
        {NULL, "nosuch.group.key=1", "is not a group"},
        {NULL, "vae=3", "is a group or list"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        col_config cfg;
        char *override = (char *)cases[i].override;
        const char *msg = load(cases[i].text ? cases[i].text : base, override ? &override : NULL, override ? 1 : 0, &cfg);
        printf("case %zu: %s\n", i, msg);
        assert_non_null(strstr(msg, cases[i].expected));
    }
}

static void test_config_missing_file(void **state)
{
    (void)state;
    col_config cfg;
    col_error err;
    assert_int_equal(col_config_load("/nonexistent/x.cfg", NULL, 0, &cfg, &err), -1);
    assert_non_null(strstr(err.msg, "cannot read configuration file /nonexistent/x.cfg"));
}

static void test_shipped_configs_load(void **state)
{
    (void)state;
    /* every configuration under config/ must pass validation */
    static const char *names[] = {"smoke.cfg", "mnist.cfg", "demo.cfg", "emnist.cfg", "ensemble.cfg", "ensemble-smoke.cfg"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/config/%s", COLLAPSE_SOURCE_DIR, names[i]);
        col_config cfg;
        col_error err;
        int rc = col_config_load(path, NULL, 0, &cfg, &err);
        if (rc)
            printf("%s: %s\n", path, err.msg);
        assert_int_equal(rc, 0);
        col_config_free(&cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_members_and_defaults),
        cmocka_unit_test(test_config_overrides),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_missing_file),
        cmocka_unit_test(test_shipped_configs_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
