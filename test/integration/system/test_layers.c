/*
 * test_layers.c - compute systems built on imported layers (root): Container.Storage.Layers
 * naming layers imported from archives (whiteouts and opaque folders applied), Storage.Path a
 * missing folder (made a writable layer) or a writable layer, where the container's writes land,
 * layers held while the system lives, refusals named by field.
 *
 * Runs under the backend of this host, or HCS_LAYER_BACKEND=copy in the environment (inherited
 * by the monitor): what differs is only where writes land (W/Files or W/rootfs).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "hcs_test.h"
#include "layer/layer.h"
#include "system_fixture.h"

/* The two imported layers of every test: a busybox base and a top layer that deletes. */
static char base_layer[400], top_layer[400];

/* Archive the tree dir as the tar file archive (paths relative to dir, no "./" prefix). */
static void tar_tree(const char *dir, const char *archive)
{
    char *cmd = sf_fmt("cd %s && tar --numeric-owner -cf %s $(ls -A)", dir, archive);
    sf_sh(cmd);
    free(cmd);
}

static void import(const char *layer, const char *archive)
{
    hcs_layer_import_opts o = {0};
    hcs_error *err = NULL;
    int rc = hcs_layer_import(layer, archive, &o, NULL, &err);
    ck_assert_msg(rc == 0, "import %s into %s: %s", archive, layer, err ? err->message : "");
}

/*
 * base: busybox, /data/keep.txt, /data/gone.txt, /opaque/old.txt, /etc/motd "base";
 * top:  /data/.wh.gone.txt, /opaque/.wh..wh..opq with /opaque/new.txt, /etc/motd "top".
 */
static void layers_setup(void)
{
    sf_setup();
    const char *t = hcs_test_root();
    char *cmd = hcs_asprintf(
        "set -e; B=%s/src-base; T=%s/src-top; "
        "mkdir -p %s/layers $B/bin $B/etc $B/proc $B/dev $B/sys $B/tmp $B/root $B/data $B/opaque; "
        "cp /bin/busybox $B/bin/busybox; "
        "for a in $(/bin/busybox --list); do [ -e $B/bin/$a ] || ln -s busybox $B/bin/$a; done; "
        "printf 'root:x:0:0:root:/root:/bin/sh\\n' > $B/etc/passwd; "
        "printf 'root:x:0:\\n' > $B/etc/group; echo base > $B/etc/motd; "
        "echo keep > $B/data/keep.txt; echo gone > $B/data/gone.txt; "
        "echo old > $B/opaque/old.txt; "
        "mkdir -p $T/data $T/opaque $T/etc; : > $T/data/.wh.gone.txt; "
        ": > $T/opaque/.wh..wh..opq; echo new > $T/opaque/new.txt; echo top > $T/etc/motd",
        t, t, t);
    sf_sh(cmd);
    free(cmd);
    char *src = sf_fmt("%s/src-%s", t, "base"), *tar = sf_fmt("%s/%s.tar", t, "base");
    tar_tree(src, tar);
    snprintf(base_layer, sizeof(base_layer), "%s/layers/base", t);
    import(base_layer, tar);
    free(src);
    free(tar);
    src = sf_fmt("%s/src-%s", t, "top");
    tar = sf_fmt("%s/%s.tar", t, "top");
    tar_tree(src, tar);
    snprintf(top_layer, sizeof(top_layer), "%s/layers/top", t);
    import(top_layer, tar);
    free(src);
    free(tar);
}

static void layers_teardown(void)
{
    sf_teardown();
}

/* A Container document over layers (a JSON array of paths) with Storage.Path path (or none). */
static char *config(const char *layers, const char *path, const char *extra)
{
    char *storage = path ? hcs_asprintf(",\"Path\":\"%s\"", path) : strdup("");
    char *cfg = hcs_asprintf("{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":\"test\","
                             "\"Container\":{\"Storage\":{\"Layers\":%s%s}%s%s}}",
                             layers, storage, extra ? "," : "", extra ? extra : "");
    free(storage);
    return cfg;
}

/* [{"Path": top}, {"Path": base}] */
static char *both_layers(void)
{
    return sf_fmt("[{\"Path\":\"%s\"},{\"Path\":\"%s\"}]", top_layer, base_layer);
}

/* Stop and close sys, and wait until its monitor has removed everything (holds included). */
static void stop(HCS_SYSTEM sys)
{
    sf_destroy(sys);
    char *ids = sf_enumerate_until_empty();
    ck_assert_str_eq(ids, "");
    free(ids);
}

/* Run argv (a JSON array) in sys; its stdout (caller frees), asserting exit code 0. */
static char *run(HCS_SYSTEM sys, const char *argv)
{
    char *out = NULL, *err = NULL;
    int code = sf_run(sys, argv, NULL, &out, &err);
    ck_assert_msg(code == 0, "%s exited with %d: %s", argv, code, err);
    free(err);
    return out;
}

/* hcs_layer_destroy's message, NULL when it succeeded. */
static char *destroy(const char *layer)
{
    hcs_error *err = NULL;
    if (hcs_layer_destroy(layer, &err) == 0)
        return NULL;
    char *msg = strdup(err->message);
    hcs_err_free(err);
    return msg;
}

/* The backend the writable layer w was initialized with. */
static enum hcs_layer_backend backend_of(const char *w)
{
    hcs_layer_info info;
    hcs_error *err = NULL;
    ck_assert_msg(hcs_layer_info_read(w, &info, &err) == 0, "read %s: %s", w,
                  err ? err->message : "");
    ck_assert_int_eq(info.kind, HCS_LAYER_KIND_WRITABLE);
    enum hcs_layer_backend b = info.backend;
    hcs_layer_info_free(&info);
    return b;
}

/* Where the container's root writes land in the writable layer w. */
static char *written_path(const char *w, const char *name)
{
    const char *sub =
        backend_of(w) == HCS_LAYER_BACKEND_OVERLAY ? HCS_LAYER_FILES : HCS_LAYER_ROOTFS;
    char *dir = sf_fmt("%s/%s", w, sub);
    char *p = sf_fmt("%s/%s", dir, name);
    free(dir);
    return p;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The union as the container sees it: whiteouts and opaque folders of the top layer applied. */
static void check_union(HCS_SYSTEM sys)
{
    char *out = run(sys, "[\"ls\",\"-A\",\"/data\"]");
    ck_assert_str_eq(out, "keep.txt\n");
    free(out);
    out = run(sys, "[\"ls\",\"-A\",\"/opaque\"]");
    ck_assert_str_eq(out, "new.txt\n");
    free(out);
    out = run(sys, "[\"cat\",\"/data/keep.txt\",\"/etc/motd\"]");
    ck_assert_str_eq(out, "keep\ntop\n");
    free(out);
    char *err = NULL;
    ck_assert_int_ne(sf_run(sys, "[\"cat\",\"/data/gone.txt\"]", NULL, NULL, &err), 0);
    ck_assert_contains(err, "No such file");
    free(err);
}

START_TEST(layers__a_missing_storage_path_becomes_a_writable_layer_over_imported_layers)
{
    char *w = sf_fmt("%s/%s", hcs_test_root(), "w-new");
    char *layers = both_layers();
    char *cfg = config(layers, w, NULL);
    HCS_SYSTEM sys = sf_start_config("it-layers", cfg);
    check_union(sys);
    free(run(sys, "[\"sh\",\"-c\",\"echo written > /written.txt; rm /etc/motd\"]"));

    /* The writes landed in the writable layer; the imported layers are untouched. */
    char *written = written_path(w, "written.txt");
    char *s = read_file(written);
    ck_assert_msg(s != NULL && strcmp(s, "written\n") == 0, "%s holds %s", written,
                  s ? s : "(missing)");
    free(s);
    char *in_base = sf_fmt("%s/%s/written.txt", base_layer, HCS_LAYER_FILES);
    ck_assert_msg(access(in_base, F_OK) < 0, "%s was written into the layer", in_base);
    char *motd = sf_fmt("%s/%s/etc/motd", top_layer, HCS_LAYER_FILES);
    s = read_file(motd);
    ck_assert_msg(s != NULL && strcmp(s, "top\n") == 0, "%s holds %s", motd, s ? s : "(missing)");
    free(s);

    /* While the system lives, its layers cannot be destroyed; the refusal names it. */
    char *msg = destroy(base_layer);
    ck_assert_msg(msg != NULL, "%s was destroyed under a running system", base_layer);
    ck_assert_contains(msg, "it-layers");
    free(msg);
    msg = destroy(w);
    ck_assert_msg(msg != NULL, "%s was destroyed under a running system", w);
    ck_assert_contains(msg, "it-layers");
    free(msg);

    /* Closed, the system holds nothing. */
    stop(sys);
    msg = destroy(w);
    ck_assert_msg(msg == NULL, "destroy %s: %s", w, msg);
    msg = destroy(top_layer);
    ck_assert_msg(msg == NULL, "destroy %s: %s", top_layer, msg);
    msg = destroy(base_layer);
    ck_assert_msg(msg == NULL, "destroy %s: %s", base_layer, msg);
    ck_assert_msg(access(base_layer, F_OK) < 0, "%s is still there", base_layer);
    free(written);
    free(in_base);
    free(motd);
    free(cfg);
    free(layers);
    free(w);
}
END_TEST

START_TEST(layers__a_writable_layer_keeps_the_changes_of_one_system_for_the_next)
{
    char *w = sf_fmt("%s/%s", hcs_test_root(), "w-init");
    const char *parents[] = {top_layer, base_layer};
    hcs_error *err = NULL;
    ck_assert_msg(hcs_layer_init_writable(w, parents, 2, &err) == 0, "init %s: %s", w,
                  err ? err->message : "");
    char *layers = both_layers();
    char *cfg = config(layers, w, NULL);

    HCS_SYSTEM sys = sf_start_config("it-layers-1", cfg);
    check_union(sys);
    free(run(sys, "[\"sh\",\"-c\",\"echo one > /data/keep.txt; mkdir /made; echo m > /made/f\"]"));
    stop(sys);
    char *made = written_path(w, "made/f");
    char *s = read_file(made);
    ck_assert_msg(s != NULL && strcmp(s, "m\n") == 0, "%s holds %s", made, s ? s : "(missing)");
    free(s);

    sys = sf_start_config("it-layers-2", cfg);
    char *out = run(sys, "[\"cat\",\"/data/keep.txt\",\"/made/f\"]");
    ck_assert_str_eq(out, "one\nm\n");
    free(out);
    stop(sys);

    char *msg = destroy(w);
    ck_assert_msg(msg == NULL, "destroy %s: %s", w, msg);
    msg = destroy(base_layer);
    ck_assert_msg(msg == NULL, "destroy %s: %s", base_layer, msg);
    free(made);
    free(cfg);
    free(layers);
    free(w);
}
END_TEST

START_TEST(layers__an_attached_writable_layer_is_used_as_attached)
{
    char *w = sf_fmt("%s/%s", hcs_test_root(), "w-attached");
    const char *parents[] = {top_layer, base_layer};
    hcs_error *err = NULL;
    ck_assert_msg(hcs_layer_init_writable(w, parents, 2, &err) == 0, "init %s: %s", w,
                  err ? err->message : "");
    ck_assert_msg(hcs_layer_attach(w, NULL, 0, &err) == 0, "attach %s: %s", w,
                  err ? err->message : "");
    char *rootfs = sf_fmt("%s/%s", w, HCS_LAYER_ROOTFS);
    char *layers = both_layers();
    char *cfg = config(layers, w, NULL);
    HCS_SYSTEM sys = sf_start_config("it-layers-att", cfg);
    check_union(sys);
    /* The container's root is the attached view itself (one overlay writes into W/Files). */
    struct stat st;
    ck_assert_int_eq(stat(rootfs, &st), 0);
    char *dev = run(sys, "[\"stat\",\"-c\",\"%d\",\"/\"]");
    ck_assert_uint_eq(strtoull(dev, NULL, 10), (unsigned long long)st.st_dev);
    free(dev);
    free(run(sys, "[\"sh\",\"-c\",\"echo shared > /shared.txt\"]"));
    char *shared = sf_fmt("%s/shared.txt", rootfs);
    char *s = read_file(shared);
    ck_assert_msg(s != NULL && strcmp(s, "shared\n") == 0, "%s holds %s", shared,
                  s ? s : "(missing)");
    free(s);
    stop(sys);

    /* The system left it attached, as it found it. */
    hcs_layer_info info;
    ck_assert_int_eq(hcs_layer_info_read(w, &info, &err), 0);
    ck_assert(info.attached);
    hcs_layer_info_free(&info);
    ck_assert_msg(hcs_layer_detach(w, &err) == 0, "detach %s: %s", w, err ? err->message : "");
    char *msg = destroy(w);
    ck_assert_msg(msg == NULL, "destroy %s: %s", w, msg);
    free(shared);
    free(cfg);
    free(layers);
    free(rootfs);
    free(w);
}
END_TEST

START_TEST(layers__read_only_root_without_storage_path)
{
    char *layers = both_layers();
    char *cfg = config(layers, NULL, NULL);
    HCS_SYSTEM sys = sf_start_config("it-layers-ro", cfg);
    check_union(sys);
    char *err = NULL;
    ck_assert_int_ne(sf_run(sys, "[\"sh\",\"-c\",\"echo x > /new\"]", NULL, NULL, &err), 0);
    ck_assert_contains(err, "Read-only file system");
    free(err);
    char *msg = destroy(top_layer);
    ck_assert_msg(msg != NULL, "%s was destroyed under a running system", top_layer);
    ck_assert_contains(msg, "it-layers-ro");
    free(msg);
    stop(sys);
    msg = destroy(top_layer);
    ck_assert_msg(msg == NULL, "destroy %s: %s", top_layer, msg);
    free(cfg);
    free(layers);
}
END_TEST

/* Create must fail with hr and a message holding each of want (NULL-terminated). */
static void expect_refused(const char *id, const char *cfg, HRESULT hr, const char *const *want)
{
    HCS_SYSTEM sys = NULL;
    char *doc = NULL;
    HRESULT got = sf_try_create(id, cfg, &sys, &doc);
    ck_assert_msg(got == hr, "create %s: 0x%08X, expected 0x%08X: %s", id, (unsigned)got,
                  (unsigned)hr, doc ? doc : "");
    for (size_t i = 0; want[i] != NULL; i++)
        ck_assert_contains(doc, want[i]);
    HcsFree(doc);
    if (sys != NULL)
        HcsCloseComputeSystem(sys);
    char *ids = sf_enumerate_until_empty();
    ck_assert_str_eq(ids, "");
    free(ids);
}

START_TEST(layers__refusals_name_the_field_and_hold_nothing)
{
    /* A writable layer is not a read-only layer. */
    char *w = sf_fmt("%s/%s", hcs_test_root(), "w-parent");
    const char *parents[] = {base_layer};
    hcs_error *err = NULL;
    ck_assert_msg(hcs_layer_init_writable(w, parents, 1, &err) == 0, "init %s: %s", w,
                  err ? err->message : "");
    char *as_layer = sf_fmt("[{\"Path\":\"%s\"},{\"Path\":\"%s\"}]", w, base_layer);
    char *cfg = config(as_layer, NULL, NULL);
    const char *want1[] = {"Storage.Layers[0]", "is a writable layer", NULL};
    expect_refused("it-layers-bad1", cfg, HCS_E_INVALID_LAYER, want1);
    free(cfg);

    /* A missing layer, named by its index. */
    char *missing =
        sf_fmt("[{\"Path\":\"%s\"},{\"Path\":\"%s/nowhere\"}]", top_layer, hcs_test_root());
    cfg = config(missing, NULL, NULL);
    const char *want0[] = {"Storage.Layers[1]", "/nowhere", "No such file", NULL};
    expect_refused("it-layers-bad0", cfg, HCS_E_FILE_NOT_FOUND, want0);
    free(cfg);
    free(missing);

    /* A writable layer over other layers than Storage.Layers: both named. */
    char *layers = both_layers();
    cfg = config(layers, w, NULL);
    const char *want2[] = {"Storage.Path", top_layer, w, NULL};
    expect_refused("it-layers-bad2", cfg, HCS_E_INVALID_LAYER, want2);
    free(cfg);

    /* A folder with content but no layer.json. */
    char *full = sf_fmt("%s/%s", hcs_test_root(), "w-full");
    char *file = sf_fmt("%s/%s", full, "file");
    ck_assert_int_eq(mkdir(full, 0755), 0);
    FILE *f = fopen(file, "we");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    cfg = config(layers, full, NULL);
    const char *want3[] = {"Storage.Path must be an empty folder or a writable layer", full, NULL};
    expect_refused("it-layers-bad3", cfg, HCS_E_INVALID_LAYER, want3);
    free(cfg);
    ck_assert_msg(access(file, F_OK) == 0, "%s was removed", file);

    /* Failing after the layers were resolved (in the monitor's setup) releases them too. */
    char *fresh = sf_fmt("%s/%s", hcs_test_root(), "w-fresh");
    cfg = config(layers, fresh, "\"Networking\":{\"NetworkSharedContainerName\":\"it-nothere\"}");
    const char *want4[] = {"it-nothere", NULL};
    expect_refused("it-layers-bad4", cfg, HCS_E_SYSTEM_NOT_FOUND, want4);
    free(cfg);

    /* Nothing holds the layers. */
    char *msg = destroy(top_layer);
    ck_assert_msg(msg == NULL, "destroy %s: %s", top_layer, msg);
    msg = destroy(base_layer);
    ck_assert_msg(msg == NULL || strstr(msg, "it-layers") == NULL, "destroy %s: %s", base_layer,
                  msg);
    free(msg);
    free(fresh);
    free(full);
    free(file);
    free(layers);
    free(as_layer);
    free(w);
}
END_TEST

HCS_TEST_SUITE(system_layers_suite)
{
    Suite *s = suite_create("system_layers");
    TCase *tc = tcase_create("system_layers");
    tcase_add_checked_fixture(tc, layers_setup, layers_teardown);
    tcase_set_timeout(tc, 120);
    HCS_ADD_ROOT_TEST(tc,
                      layers__a_missing_storage_path_becomes_a_writable_layer_over_imported_layers);
    HCS_ADD_ROOT_TEST(tc, layers__a_writable_layer_keeps_the_changes_of_one_system_for_the_next);
    HCS_ADD_ROOT_TEST(tc, layers__an_attached_writable_layer_is_used_as_attached);
    HCS_ADD_ROOT_TEST(tc, layers__read_only_root_without_storage_path);
    HCS_ADD_ROOT_TEST(tc, layers__refusals_name_the_field_and_hold_nothing);
    suite_add_tcase(s, tc);
    return s;
}
