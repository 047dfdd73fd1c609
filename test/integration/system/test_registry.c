/*
 * test_registry.c - a compute system's registry (root): the hive files of an imported base
 * layer under each system's own delta, Container.RegistryChanges at create, changes at run time
 * (HcsModifyComputeSystem), queries (HcsGetComputeSystemProperties "Registry"), a writable
 * layer's delta kept for the next system, and hcsreg inside the container.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/util.h"
#include "hcs_test.h"
#include "layer/layer.h"
#include "registry/registry.h"
#include "system_fixture.h"

/* hcsreg of the same build: beside the test binary's folder (BUILD/test/..), as hcsmon is. */
static const char *hcsreg_path(void)
{
    static char path[4096];
    if (path[0] == '\0') {
        char exe[4000];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        exe[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL)
            *slash = '\0';
        snprintf(path, sizeof(path), "%s/../hcsreg", n > 0 ? exe : "build/test");
    }
    return path;
}
#define HCSREG hcsreg_path()

static char base_layer[400];

/*
 * The base layer: busybox (and /bin/hcsreg when built) imported from a tar, with
 * Hives/Software_Delta written into it: Software\App has Base="base" and Shared=DWORD 1.
 */
static void registry_setup(void)
{
    sf_setup();
    const char *t = hcs_test_root();
    char *cmd = sf_fmt(
        "set -e; B=%s/src-base; mkdir -p %s/layers $B/bin $B/etc $B/proc $B/dev $B/sys $B/tmp; "
        "cp /bin/busybox $B/bin/busybox; "
        "for a in $(/bin/busybox --list); do [ -e $B/bin/$a ] || ln -s busybox "
        "$B/bin/$a; done; "
        "printf 'root:x:0:0:root:/root:/bin/sh\\n' > $B/etc/passwd; "
        "printf 'root:x:0:\\n' > $B/etc/group; "
        "if [ -x %s ]; then cp %s $B/bin/hcsreg; fi; "
        "cd $B && tar --numeric-owner -cf %s/base.tar $(ls -A)",
        t, t, HCSREG, HCSREG, t);
    sf_sh(cmd);
    free(cmd);
    snprintf(base_layer, sizeof(base_layer), "%s/layers/base", t);
    char *tar = sf_fmt("%s/base.tar", t);
    hcs_layer_import_opts o = {0};
    hcs_error *err = NULL;
    ck_assert_msg(hcs_layer_import(base_layer, tar, &o, NULL, &err) == 0, "import: %s",
                  err ? err->message : "");
    free(tar);

    char *hives = sf_fmt("%s/%s", base_layer, HCS_REG_HIVES_DIR);
    cmd = sf_fmt("mkdir -p %s", hives);
    sf_sh(cmd);
    free(cmd);
    int dfd = open(hives, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(dfd, 0);
    static const uint8_t one[4] = {1, 0, 0, 0};
    const hcs_reg_change base[] = {
        {.op = HCS_REG_SET_VALUE,
         .hive = HCS_REG_HIVE_SOFTWARE,
         .key = "App",
         .name = "Base",
         .type = HCS_REG_SZ,
         .data = (const uint8_t *)"base",
         .len = 4},
        {.op = HCS_REG_SET_VALUE,
         .hive = HCS_REG_HIVE_SOFTWARE,
         .key = "App",
         .name = "Shared",
         .type = HCS_REG_DWORD,
         .data = one,
         .len = 4},
    };
    int rc = hcs_reg_hive_write(dfd, "Software" HCS_REG_DELTA_SUFFIX, HCS_REG_HIVE_SOFTWARE, base,
                                2, &err);
    close(dfd);
    ck_assert_msg(rc == 0, "write the base hive: %s", err ? err->message : "");
    free(hives);
}

static void registry_teardown(void)
{
    sf_teardown();
}

/* A Container document over the base layer, Storage.Path w (or none), extra in Container. */
static char *config(const char *w, const char *extra)
{
    char *path = w ? sf_fmt(",\"Path\":\"%s\"", w) : strdup("");
    char *cfg = sf_fmt("{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":\"test\","
                       "\"Container\":{\"Storage\":{\"Layers\":[{\"Path\":\"%s\"}]%s}%s%s}}",
                       base_layer, path, extra ? "," : "", extra ? extra : "");
    free(path);
    return cfg;
}

/* "RegistryChanges" adding Software\App\<name> = String value. */
static char *add_string(const char *name, const char *value)
{
    return sf_fmt("\"RegistryChanges\":{\"AddValues\":[{\"Key\":{\"Hive\":\"Software\",\"Name\":"
                  "\"App\"},\"Name\":\"%s\",\"Type\":\"String\",\"StringValue\":\"%s\"}]}",
                  name, value);
}

/* Stop and close the systems (a NULL ends the list); wait until their monitors are gone. */
static void stop_all(HCS_SYSTEM sys, ...)
{
    va_list ap;
    va_start(ap, sys);
    for (HCS_SYSTEM s = sys; s != NULL; s = va_arg(ap, HCS_SYSTEM))
        sf_destroy(s);
    va_end(ap);
    char *ids = sf_enumerate_until_empty();
    ck_assert_str_eq(ids, "");
    free(ids);
}

/* The Registry property of Software\key: HRESULT, the Registry object in *out (caller frees). */
static HRESULT query(HCS_SYSTEM sys, const char *key, cJSON **out, char **msg)
{
    char *q = sf_fmt("{\"PropertyTypes\":[\"Registry\"],\"RegistryQuery\":{\"Hive\":\"Software\","
                     "\"Name\":\"%s\"}}",
                     key);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    char *doc = NULL;
    HRESULT hr = sf_wait(op, HcsGetComputeSystemProperties(sys, op, q), &doc);
    HcsCloseOperation(op);
    free(q);
    *out = NULL;
    if (hr == S_OK) {
        cJSON *props = cJSON_Parse(doc);
        ck_assert_ptr_nonnull(props);
        *out = cJSON_DetachItemFromObjectCaseSensitive(props, "Registry");
        cJSON_Delete(props);
        ck_assert_msg(*out != NULL, "no Registry in %s", doc);
    }
    if (msg != NULL)
        *msg = doc ? strdup(doc) : NULL;
    HcsFree(doc);
    return hr;
}

/*
 * The values of Software\App as "name=data" lines in query order (strings as they are, numbers
 * in decimal); caller frees.
 */
static char *app_values(HCS_SYSTEM sys)
{
    cJSON *r = NULL;
    char *msg = NULL;
    HRESULT hr = query(sys, "App", &r, &msg);
    ck_assert_msg(hr == S_OK, "query: 0x%08X %s", (unsigned)hr, msg ? msg : "");
    free(msg);
    char *s = strdup("");
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(r, "Values"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "Name"));
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(v, "StringValue");
        if (d == NULL)
            d = cJSON_GetObjectItemCaseSensitive(v, "DWordValue");
        char buf[64];
        if (cJSON_IsNumber(d))
            snprintf(buf, sizeof(buf), "%.0f", d->valuedouble);
        char *next = sf_fmt("%s%s=%s\n", s, name, cJSON_IsString(d) ? d->valuestring : buf);
        free(s);
        s = next;
    }
    cJSON_Delete(r);
    return s;
}

static HRESULT modify(HCS_SYSTEM sys, const char *settings, char **doc)
{
    char *req = sf_fmt("{\"ResourcePath\":\"Container/RegistryChanges\",\"RequestType\":\"Update\","
                       "\"Settings\":%s}",
                       settings);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HRESULT hr = sf_wait(op, HcsModifyComputeSystem(sys, op, req, NULL), doc);
    HcsCloseOperation(op);
    free(req);
    return hr;
}

START_TEST(registry__two_systems_on_one_base_see_it_and_only_their_own_changes)
{
    char *a_changes =
        sf_fmt("\"RegistryChanges\":{\"AddValues\":["
               "{\"Key\":{\"Hive\":\"Software\",\"Name\":\"App\"},\"Name\":\"Mine\","
               "\"Type\":\"String\",\"StringValue\":\"a\"},"
               "{\"Key\":{\"Hive\":\"Software\",\"Name\":\"App\"},\"Name\":\"Shared\","
               "\"Type\":\"DWord\",\"DWordValue\":2}]}");
    char *b_changes = add_string("Mine", "b");
    char *cfg_a = config(NULL, a_changes), *cfg_b = config(NULL, b_changes);
    HCS_SYSTEM a = sf_start_config("it-reg-a", cfg_a);
    HCS_SYSTEM b = sf_start_config("it-reg-b", cfg_b);

    char *va = app_values(a), *vb = app_values(b);
    ck_assert_str_eq(va, "Base=base\nMine=a\nShared=2\n");
    ck_assert_str_eq(vb, "Base=base\nMine=b\nShared=1\n");
    free(va);
    free(vb);

    /* A missing key is named. */
    cJSON *r = NULL;
    char *msg = NULL;
    ck_assert_hr(query(a, "App\\\\Nothing", &r, &msg), HCS_E_FILE_NOT_FOUND);
    ck_assert_contains(msg, "Software\\\\App\\\\Nothing");
    free(msg);
    /* A query without RegistryQuery is refused by the schema. */
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    char *doc = NULL;
    ck_assert_hr(sf_wait(op,
                         HcsGetComputeSystemProperties(a, op, "{\"PropertyTypes\":[\"Registry\"]}"),
                         &doc),
                 HCS_E_INVALID_JSON);
    ck_assert_contains(doc, "RegistryQuery");
    HcsFree(doc);
    HcsCloseOperation(op);

    stop_all(a, b, NULL);
    free(cfg_a);
    free(cfg_b);
    free(a_changes);
    free(b_changes);
}
END_TEST

START_TEST(registry__modify_changes_the_registry_at_run_time)
{
    char *cfg = config(NULL, NULL);
    HCS_SYSTEM sys = sf_start_config("it-reg-mod", cfg);
    HCS_SYSTEM other = sf_start_config("it-reg-other", cfg);
    char *doc = NULL;
    HRESULT hr = modify(sys,
                        "{\"AddValues\":[{\"Key\":{\"Hive\":\"Software\",\"Name\":\"App\"},"
                        "\"Name\":\"Late\",\"Type\":\"String\",\"StringValue\":\"added\"}],"
                        "\"DeleteKeys\":[]}",
                        &doc);
    ck_assert_msg(hr == S_OK, "modify: 0x%08X %s", (unsigned)hr, doc ? doc : "");
    HcsFree(doc);
    char *v = app_values(sys);
    ck_assert_str_eq(v, "Base=base\nLate=added\nShared=1\n");
    free(v);
    v = app_values(other);
    ck_assert_str_eq(v, "Base=base\nShared=1\n");
    free(v);

    /* Deleting the base's key hides it (a tombstone in the delta). */
    hr = modify(sys, "{\"DeleteKeys\":[{\"Hive\":\"Software\",\"Name\":\"App\"}]}", &doc);
    ck_assert_msg(hr == S_OK, "modify: 0x%08X %s", (unsigned)hr, doc ? doc : "");
    HcsFree(doc);
    cJSON *r = NULL;
    ck_assert_hr(query(sys, "App", &r, NULL), HCS_E_FILE_NOT_FOUND);

    /* A bad change is refused by field, and nothing of its batch is applied. */
    hr = modify(sys,
                "{\"AddValues\":[{\"Key\":{\"Hive\":\"Software\",\"Name\":\"New\"},\"Name\":\"x\","
                "\"Type\":\"String\",\"StringValue\":\"ok\"},{\"Key\":{\"Hive\":\"Software\","
                "\"Name\":\"New\"},\"Name\":\"y\",\"Type\":\"Binary\",\"BinaryValue\":\"!!\"}]}",
                &doc);
    ck_assert_hr(hr, E_INVALIDARG);
    ck_assert_contains(doc, "Settings.AddValues[1].BinaryValue");
    HcsFree(doc);
    ck_assert_hr(query(sys, "New", &r, NULL), HCS_E_FILE_NOT_FOUND);

    /* A RequestType other than Update is refused by the schema. */
    char *req = strdup("{\"ResourcePath\":\"Container/RegistryChanges\",\"RequestType\":\"Add\","
                       "\"Settings\":{}}");
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    ck_assert_hr(sf_wait(op, HcsModifyComputeSystem(sys, op, req, NULL), &doc), HCS_E_INVALID_JSON);
    ck_assert_contains(doc, "RequestType");
    HcsFree(doc);
    HcsCloseOperation(op);
    free(req);
    stop_all(sys, other, NULL);
    free(cfg);
}
END_TEST

static void expect_refused(const char *id, const char *extra, HRESULT want_hr, const char *want)
{
    char *cfg = config(NULL, extra);
    HCS_SYSTEM sys = NULL;
    char *doc = NULL;
    HRESULT hr = sf_try_create(id, cfg, &sys, &doc);
    if (sys != NULL)
        HcsCloseComputeSystem(sys);
    ck_assert_msg(hr == want_hr, "create %s: 0x%08X %s", id, (unsigned)hr, doc ? doc : "");
    ck_assert_contains(doc, want);
    HcsFree(doc);
    free(cfg);
}

START_TEST(registry__bad_changes_are_refused_by_field_at_create)
{
    /* 1 MiB + 3 bytes of data: over the limit. */
    size_t n = ((1u << 20) / 3 + 2) * 4;
    char *b64 = malloc(n + 1);
    ck_assert_ptr_nonnull(b64);
    memset(b64, 'A', n);
    b64[n] = '\0';
    char *big =
        sf_fmt("\"RegistryChanges\":{\"AddValues\":[{\"Key\":{\"Hive\":\"Software\","
               "\"Name\":\"K\"},\"Name\":\"big\",\"Type\":\"Binary\",\"BinaryValue\":\"%s\"}]}",
               b64);
    free(b64);
    expect_refused("it-reg-big", big, E_INVALIDARG,
                   "Container.RegistryChanges.AddValues[0].BinaryValue");
    free(big);
    expect_refused("it-reg-dword",
                   "\"RegistryChanges\":{\"AddValues\":[{\"Key\":{\"Hive\":\"Software\","
                   "\"Name\":\"K\"},\"Name\":\"d\",\"Type\":\"DWord\",\"DWordValue\":4294967296}]}",
                   HCS_E_INVALID_JSON, "Container.RegistryChanges.AddValues[0].DWordValue");
    expect_refused("it-reg-key",
                   "\"RegistryChanges\":{\"DeleteKeys\":[{\"Hive\":\"System\",\"Name\":"
                   "\"A\\\\\\\\B\"}]}",
                   E_INVALIDARG, "Container.RegistryChanges.DeleteKeys[0].Name");
    expect_refused("it-reg-hive",
                   "\"RegistryChanges\":{\"DeleteKeys\":[{\"Hive\":\"Users\",\"Name\":\"A\"}]}",
                   HCS_E_INVALID_JSON, "Container.RegistryChanges.DeleteKeys[0].Hive");
    /* Nothing is left of the refused systems, and nothing holds the base layer. */
    char *ids = sf_enumerate_until_empty();
    ck_assert_str_eq(ids, "");
    free(ids);
    hcs_error *err = NULL;
    ck_assert_msg(hcs_layer_destroy(base_layer, &err) == 0, "destroy: %s", err ? err->message : "");
}
END_TEST

START_TEST(registry__a_writable_layer_keeps_its_changes_for_the_next_system)
{
    char *w = sf_fmt("%s/w-reg", hcs_test_root());
    char *changes = add_string("Kept", "create");
    char *cfg = config(w, changes);
    HCS_SYSTEM sys = sf_start_config("it-reg-w1", cfg);
    char *doc = NULL;
    HRESULT hr = modify(sys,
                        "{\"AddValues\":[{\"Key\":{\"Hive\":\"Software\",\"Name\":\"App\"},"
                        "\"Name\":\"Run\",\"Type\":\"DWord\",\"DWordValue\":7}]}",
                        &doc);
    ck_assert_msg(hr == S_OK, "modify: 0x%08X %s", (unsigned)hr, doc ? doc : "");
    HcsFree(doc);
    stop_all(sys, NULL);
    char *log = sf_fmt("%s/%s/%s", w, HCS_REG_HIVES_DIR, HCS_REG_DELTA_LOG);
    ck_assert_msg(access(log, F_OK) == 0, "%s is missing", log);

    /* The next system over the same writable layer, without RegistryChanges. */
    free(cfg);
    cfg = config(w, NULL);
    sys = sf_start_config("it-reg-w2", cfg);
    char *v = app_values(sys);
    ck_assert_str_eq(v, "Base=base\nKept=create\nRun=7\nShared=1\n");
    free(v);
    stop_all(sys, NULL);

    /* A read-only root keeps nothing: its delta lives in memory. */
    free(cfg);
    cfg = config(NULL, changes);
    sys = sf_start_config("it-reg-ro", cfg);
    stop_all(sys, NULL);
    free(cfg);
    cfg = config(NULL, NULL);
    sys = sf_start_config("it-reg-ro2", cfg);
    v = app_values(sys);
    ck_assert_str_eq(v, "Base=base\nShared=1\n");
    free(v);
    stop_all(sys, NULL);
    free(log);
    free(cfg);
    free(changes);
    free(w);
}
END_TEST

/* Run argv in sys; its exit code, stdout in *out (caller frees). */
static int run(HCS_SYSTEM sys, const char *argv, char **out)
{
    char *err = NULL;
    int code = sf_run(sys, argv, NULL, out, &err);
    if (code != 0 && err != NULL && err[0] != '\0')
        fprintf(stderr, "# %s: stderr: %.2000s\n", argv, err);
    free(err);
    return code;
}

START_TEST(registry__hcsreg_inside_the_container_reads_and_writes_its_own_view)
{
    char *cfg = config(NULL, NULL);
    HCS_SYSTEM sys = sf_start_config("it-reg-tool", cfg);
    HCS_SYSTEM other = sf_start_config("it-reg-tool2", cfg);
    char *out = NULL;
    int code = run(sys, "[\"hcsreg\",\"query\",\"HKLM\\\\SOFTWARE\\\\App\"]", &out);
    ck_assert_msg(code == 0, "hcsreg query exited %d: %s", code, out ? out : "");
    ck_assert_contains(out, "Base");
    ck_assert_contains(out, "REG_SZ");
    ck_assert_contains(out, "base");
    free(out);
    code = run(sys,
               "[\"hcsreg\",\"add\",\"HKLM\\\\SOFTWARE\\\\App\",\"/v\",\"x\",\"/t\",\"REG_SZ\","
               "\"/d\",\"y\",\"/f\"]",
               &out);
    ck_assert_msg(code == 0, "hcsreg add exited %d: %s", code, out ? out : "");
    free(out);
    char *v = app_values(sys);
    ck_assert_str_eq(v, "Base=base\nShared=1\nx=y\n");
    free(v);
    v = app_values(other);
    ck_assert_str_eq(v, "Base=base\nShared=1\n");
    free(v);
    /* The socket is there for any user of the container. */
    code = run(sys, "[\"stat\",\"-c\",\"%F %a\",\"/dev/hcs-registry\"]", &out);
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(out, "socket 666\n");
    free(out);
    stop_all(sys, other, NULL);
    free(cfg);
}
END_TEST

/*
 * A .reg text of 11,000 values of at least 127 bytes each (1.4 MiB, on standard input: the root
 * is read-only), far over what one socket message of an unprivileged sender can carry: hcsreg
 * sends it in parts and the last value arrives.
 */
START_TEST(registry__hcsreg_imports_a_file_larger_than_one_socket_message)
{
    char *cfg = config(NULL, NULL);
    HCS_SYSTEM sys = sf_start_config("it-reg-big", cfg);
    char *out = NULL;
    int code = run(sys,
                   "[\"sh\",\"-c\",\"p=$(printf %0120d 0); i=0; "
                   "{ echo 'Windows Registry Editor Version 5.00'; echo; "
                   "echo '[HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Big]'; "
                   "while [ $i -lt 11000 ]; do echo \\\\\\\"v$i\\\\\\\"=\\\\\\\"$p$i\\\\\\\"; "
                   "i=$((i+1)); done; } | hcsreg import - && hcsreg query "
                   "'HKLM\\\\SOFTWARE\\\\Big' /v v10999\"]",
                   &out);
    ck_assert_msg(code == 0, "hcsreg import exited %d: %s", code, out ? out : "");
    ck_assert_contains(out, "The operation completed successfully.");
    ck_assert_contains(out, "v10999    REG_SZ    000000");
    free(out);
    stop_all(sys, NULL);
    free(cfg);
}
END_TEST

HCS_TEST_SUITE(system_registry_suite)
{
    Suite *s = suite_create("system_registry");
    TCase *tc = tcase_create("system_registry");
    tcase_add_checked_fixture(tc, registry_setup, registry_teardown);
    tcase_set_timeout(tc, 120);
    HCS_ADD_ROOT_TEST(tc, registry__two_systems_on_one_base_see_it_and_only_their_own_changes);
    HCS_ADD_ROOT_TEST(tc, registry__modify_changes_the_registry_at_run_time);
    HCS_ADD_ROOT_TEST(tc, registry__bad_changes_are_refused_by_field_at_create);
    HCS_ADD_ROOT_TEST(tc, registry__a_writable_layer_keeps_its_changes_for_the_next_system);
    if (access(HCSREG, X_OK) == 0) {
        HCS_ADD_ROOT_TEST(tc, registry__hcsreg_inside_the_container_reads_and_writes_its_own_view);
        HCS_ADD_ROOT_TEST(tc, registry__hcsreg_imports_a_file_larger_than_one_socket_message);
    } else {
        hcs_test_skip("registry__hcsreg_inside_the_container_reads_and_writes_its_own_view",
                      "hcsreg is not built");
        hcs_test_skip("registry__hcsreg_imports_a_file_larger_than_one_socket_message",
                      "hcsreg is not built");
    }
    suite_add_tcase(s, tc);
    return s;
}
