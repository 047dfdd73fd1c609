/* main.c - runs every registered suite and prints TAP (Check's own TAP writer, to stdout). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/context.h"
#include "common/util.h"
#include "hcs_test.h"

#define MAX_SUITES 64
static hcs_suite_fn suites[MAX_SUITES];
static int n_suites;

void hcs_test_register(hcs_suite_fn fn)
{
    if (n_suites < MAX_SUITES)
        suites[n_suites++] = fn;
}

struct skip {
    char *name, *reason;
};
static struct skip skips[256];
static int n_skips;

void hcs_test_skip(const char *name, const char *reason)
{
    if (n_skips < 256) {
        skips[n_skips].name = strdup(name);
        skips[n_skips].reason = strdup(reason);
        n_skips++;
    }
}

const char *hcs_test_root_missing(void)
{
    return geteuid() == 0 ? NULL : "needs root (real namespaces, cgroups and mounts)";
}

/*
 * Every test's folder lives under one base folder made by main() (the parent process): a test
 * that fails skips its teardown (Check ends the forked test at the failed assertion), so main()
 * removes the base folder at the end whatever happened.
 */
static char base[64];
static char root[256];

const char *hcs_test_root(void)
{
    return root;
}

void hcs_test_roots_setup(void)
{
    snprintf(root, sizeof(root), "%s/t.XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(root));
    char *run = hcs_asprintf("%s/run", root), *data = hcs_asprintf("%s/data", root);
    ck_assert_int_eq(hcs_ctx_set_roots(run, data, NULL), 0);
    free(run);
    free(data);
}

void hcs_test_roots_teardown(void)
{
    if (root[0] != '\0')
        hcs_remove_tree_at(-100 /* AT_FDCWD */, root, NULL);
    root[0] = '\0';
}

int main(void)
{
    if (n_suites == 0) {
        fprintf(stderr, "no suite registered\n");
        return 1;
    }
    snprintf(base, sizeof(base), "/tmp/hcs-test.XXXXXX");
    if (mkdtemp(base) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    SRunner *sr = srunner_create(suites[0]());
    for (int i = 1; i < n_suites; i++)
        srunner_add_suite(sr, suites[i]());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    hcs_remove_tree_at(-100 /* AT_FDCWD */, base, NULL);
    fflush(stdout);
    for (int i = 0; i < n_skips; i++)
        printf("ok - %s # SKIP %s\n", skips[i].name, skips[i].reason);
    return failed == 0 ? 0 : 1;
}
