/* main.c - runs every registered suite and prints TAP (Check's own TAP writer, to stdout). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

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

/*
 * Stop every compute system left in the runtime root under dir (a test that failed before its
 * own cleanup): open, terminate, close, so that their monitors remove cgroups and state.
 */
static void stop_leftover_systems(const char *dir)
{
    char *run = hcs_asprintf("%s/run", dir);
    if (run == NULL || hcs_ctx_set_roots(run, NULL, NULL) < 0) {
        free(run);
        return;
    }
    free(run);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    char *list = NULL;
    int stopped = 0;
    if (HcsEnumerateComputeSystems(NULL, op) == S_OK &&
        HcsWaitForOperationResult(op, 10000, &list) == S_OK) {
        cJSON *a = cJSON_Parse(list);
        const cJSON *it;
        cJSON_ArrayForEach(it, a)
        {
            const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "Id"));
            HCS_SYSTEM sys = NULL;
            if (id == NULL || HcsOpenComputeSystem(id, 0, &sys) != S_OK)
                continue;
            if (HcsTerminateComputeSystem(sys, op, NULL) == S_OK)
                HcsWaitForOperationResult(op, 10000, NULL);
            HcsWaitForComputeSystemExit(sys, 10000, NULL);
            HcsCloseComputeSystem(sys);
            stopped++;
        }
        cJSON_Delete(a);
    }
    HcsFree(list);
    HcsCloseOperation(op);
    /* Give the monitors a moment to remove their folders after the last close. */
    for (int i = 0; stopped > 0 && i < 100; i++) {
        char *sd = hcs_asprintf("%s/run/systems", dir);
        DIR *d = sd ? opendir(sd) : NULL;
        int n = 0;
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL)
            n += de->d_name[0] != '.';
        if (d != NULL)
            closedir(d);
        free(sd);
        if (n == 0)
            break;
        usleep(20000);
    }
}

void hcs_test_roots_teardown(void)
{
    if (root[0] != '\0')
        stop_leftover_systems(root);
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
    /* Tests that failed skipped their teardown: stop what they left running. */
    DIR *d = opendir(base);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *dir = hcs_asprintf("%s/%s", base, de->d_name);
        if (dir != NULL)
            stop_leftover_systems(dir);
        free(dir);
    }
    if (d != NULL)
        closedir(d);
    hcs_remove_tree_at(-100 /* AT_FDCWD */, base, NULL);
    fflush(stdout);
    for (int i = 0; i < n_skips; i++)
        printf("ok - %s # SKIP %s\n", skips[i].name, skips[i].reason);
    return failed == 0 ? 0 : 1;
}
