/*
 * test_writable.c - writable layers: initialize, attach, write, detach, reattach; whiteouts and
 * opaque folders across layers; destroy and holders; the copy backend's changes; long chains;
 * the backend probe. Every test passes with either backend (HCS_LAYER_BACKEND=copy or not).
 */
#include <dirent.h>
#include <errno.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/context.h"
#include "common/util.h"
#include "layer/layer.h"
#include "layer/writable_internal.h"
#include "layer_fixture.h"
#include "store/store.h"

/* --- helpers ---------------------------------------------------------------------------------- */

/* Import an archive of entries as the layer lf.dir/name; returns the layer's path. */
static char *import_layer(const char *name, const lf_entry *entries)
{
    char *tar = lf_fmt("%s/%s.tar", lf.dir, name);
    char *layer = lf_fmt("%s/%s", lf.dir, name);
    lf_tar(tar, "none", entries);
    hcs_error *err = NULL;
    int rc = hcs_layer_import(layer, tar, NULL, NULL, &err);
    ck_assert_msg(rc == 0, "import %s: %s", tar, err ? err->message : "");
    free(tar);
    return layer;
}

static void assert_content(const char *path, const char *want)
{
    char *got = lf_read(path);
    ck_assert_msg(got != NULL, "%s cannot be read: %s", path, strerror(errno));
    ck_assert_msg(strcmp(got, want) == 0, "%s holds \"%s\", expected \"%s\"", path, got, want);
    free(got);
}

/* The names in a folder, sorted, space-separated ("" when empty; NULL when it cannot be read). */
static char *list(const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        return NULL;
    char *s = lf_fmt("%s", "");
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
            char *t = lf_fmt("%s%s%s", s, s[0] ? " " : "", names[i]->d_name);
            free(s);
            s = t;
        }
        free(names[i]);
    }
    free(names);
    return s;
}

static void assert_list(const char *dir, const char *want)
{
    char *got = list(dir);
    ck_assert_msg(got != NULL, "list %s: %s", dir, strerror(errno));
    ck_assert_msg(strcmp(got, want) == 0, "%s lists \"%s\", expected \"%s\"", dir, got, want);
    free(got);
}

static hcs_layer_info read_info(const char *path)
{
    hcs_layer_info info;
    hcs_error *err = NULL;
    ck_assert_msg(hcs_layer_info_read(path, &info, &err) == 0, "read %s: %s", path,
                  err ? err->message : "");
    return info;
}

static bool is_attached(const char *path)
{
    hcs_layer_info info = read_info(path);
    bool attached = info.attached;
    hcs_layer_info_free(&info);
    return attached;
}

static bool is_whiteout(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

/* Whether anything is mounted at or below dir in this mount namespace. */
static bool mounted_under(const char *dir)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    ck_assert_ptr_nonnull(f);
    char line[8192];
    size_t len = strlen(dir);
    bool found = false;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        char mp[4096];
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && strncmp(mp, dir, len) == 0 &&
            (mp[len] == '/' || mp[len] == '\0'))
            found = true;
    }
    fclose(f);
    return found;
}

/* A small base layer: files, a folder, a symlink, owners and modes. */
static char *base_layer(void)
{
    const lf_entry base[] = {
        {.path = "a", .type = 'f', .data = "base a"},
        {.path = "etc", .type = 'd'},
        {.path = "etc/hosts", .type = 'f', .data = "127.0.0.1 localhost\n"},
        {.path = "secret", .type = 'f', .data = "s", .mode = 0640, .uid = 1234, .gid = 5678},
        {.path = "link", .type = 'l', .data = "etc/hosts"},
        {0},
    };
    return import_layer("base", base);
}

/* --- init, attach, write, detach, reattach ------------------------------------------------- */

START_TEST(writable__attach_write_detach_reattach_keeps_the_writes)
{
    char *base = base_layer();
    char *w = lf_fmt("%s/w", lf.dir);
    const char *parents[] = {base};
    LF_OK(hcs_layer_init_writable(w, parents, 1, &e_));

    hcs_layer_info info = read_info(w);
    ck_assert_int_eq(info.kind, HCS_LAYER_KIND_WRITABLE);
    ck_assert_int_eq(info.backend, hcs_layer_backend());
    ck_assert_uint_eq(info.n_parents, 1);
    ck_assert_str_eq(info.parents[0], base);
    ck_assert(!info.attached);
    hcs_layer_info_free(&info);
    assert_list(w, "Files Work layer.json rootfs");

    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    info = read_info(w);
    ck_assert(info.attached);
    hcs_layer_info_free(&info);
    char *rootfs = lf_fmt("%s/rootfs", w);
    assert_list(rootfs, "a etc link secret");
    assert_content(lf_fmt("%s/a", rootfs), "base a");
    char target[32] = "";
    ck_assert_int_eq(readlink(lf_fmt("%s/link", rootfs), target, sizeof(target) - 1), 9);
    ck_assert_str_eq(target, "etc/hosts");
    struct stat st;
    ck_assert_int_eq(lstat(lf_fmt("%s/secret", rootfs), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0640);
    ck_assert_uint_eq(st.st_uid, 1234);
    ck_assert_uint_eq(st.st_gid, 5678);
    ck_assert_int_eq(st.st_mtime, 1700000000);
    ck_assert_int_eq(lstat(lf_fmt("%s/link", rootfs), &st), 0);
    ck_assert(S_ISLNK(st.st_mode));

    lf_write(lf_fmt("%s/new", rootfs), "written", 0600);
    lf_write(lf_fmt("%s/a", rootfs), "changed a", 0644);
    ck_assert_int_eq(unlink(lf_fmt("%s/etc/hosts", rootfs)), 0);

    LF_OK(hcs_layer_detach(w, &e_));
    info = read_info(w);
    ck_assert(!info.attached);
    hcs_layer_info_free(&info);
    ck_assert(!mounted_under(rootfs));
    if (hcs_layer_backend() == HCS_LAYER_BACKEND_OVERLAY)
        assert_list(rootfs, ""); /* the view is gone; the writes are in Files/ */

    LF_OK(hcs_layer_attach(w, parents, 1, &e_));
    assert_content(lf_fmt("%s/new", rootfs), "written");
    assert_content(lf_fmt("%s/a", rootfs), "changed a");
    ck_assert(!lf_exists(lf_fmt("%s/etc/hosts", rootfs)));
    /* The parent is untouched. */
    assert_content(lf_fmt("%s/Files/a", base), "base a");
    assert_content(lf_fmt("%s/Files/etc/hosts", base), "127.0.0.1 localhost\n");
    ck_assert(!lf_exists(lf_fmt("%s/Files/new", base)));
    LF_OK(hcs_layer_detach(w, &e_));
}
END_TEST

START_TEST(writable__init_into_an_empty_folder_and_over_a_plain_folder)
{
    char *plain = lf_fmt("%s/plain", lf.dir);
    lf_write(lf_fmt("%s/usr/hello", plain), "plain hello", 0755);
    ck_assert_int_eq(chmod(plain, 0751), 0);
    ck_assert_int_eq(chown(plain, 0, 42), 0);
    char *w = lf_fmt("%s/empty", lf.dir);
    ck_assert_int_eq(mkdir(w, 0711), 0);
    const char *parents[] = {plain};
    LF_OK(hcs_layer_init_writable(w, parents, 1, &e_));
    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    assert_content(lf_fmt("%s/rootfs/usr/hello", w), "plain hello");
    /* The view's root has the attributes of the nearest parent's root. */
    struct stat st;
    ck_assert_int_eq(stat(lf_fmt("%s/rootfs", w), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0751);
    ck_assert_uint_eq(st.st_gid, 42);
    LF_OK(hcs_layer_detach(w, &e_));
    /* A plain folder used as a parent is never written to. */
    assert_list(plain, "usr");
}
END_TEST

/* --- whiteouts and opaque folders ------------------------------------------------------------ */

START_TEST(union__whiteouts_hide_and_opaque_folders_replace)
{
    const lf_entry base[] = {
        {.path = "gone", .type = 'f', .data = "base gone"},
        {.path = "dir", .type = 'd'},
        {.path = "dir/x", .type = 'f', .data = "base x"},
        {.path = "dir/y", .type = 'f', .data = "base y"},
        {.path = "opq", .type = 'd'},
        {.path = "opq/old", .type = 'f', .data = "old"},
        {.path = "opq/sub", .type = 'd'},
        {.path = "opq/sub/deep", .type = 'f', .data = "deep"},
        {.path = "keep", .type = 'd', .mode = 0750},
        {.path = "keep/k", .type = 'f', .data = "k"},
        {.path = "hard1", .type = 'f', .data = "linked"},
        {.path = "hard2", .type = 'h', .data = "hard1"},
        {.path = "over", .type = 'f', .data = "base over"},
        {0},
    };
    const lf_entry mid[] = {
        {.path = ".wh.gone", .type = 'f', .data = ""},
        {.path = "dir", .type = 'd'},
        {.path = "dir/.wh.x", .type = 'f', .data = ""},
        {.path = "opq", .type = 'd'},
        {.path = "opq/.wh..wh..opq", .type = 'f', .data = ""},
        {.path = "opq/new", .type = 'f', .data = "new"},
        {.path = "over", .type = 'f', .data = "mid over"},
        {.path = "attr",
         .type = 'f',
         .data = "x",
         .xattr_name = "user.color",
         .xattr_value = "blue"},
        {0},
    };
    char *l0 = import_layer("base", base);
    char *l1 = import_layer("mid", mid);
    /* The nearest layer is a plain folder with a whiteout of its own. */
    char *top = lf_fmt("%s/top", lf.dir);
    lf_write(lf_fmt("%s/dir/z", top), "top z", 0644);
    ck_assert_int_eq(mknod(lf_fmt("%s/dir/y", top), S_IFCHR | 0600, makedev(0, 0)), 0);

    char *w = lf_fmt("%s/w", lf.dir);
    const char *parents[] = {top, l1, l0};
    LF_OK(hcs_layer_init_writable(w, parents, 3, &e_));
    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    char *r = lf_fmt("%s/rootfs", w);
    assert_list(r, "attr dir hard1 hard2 keep opq over");
    assert_list(lf_fmt("%s/dir", r), "z");
    assert_list(lf_fmt("%s/opq", r), "new");
    assert_content(lf_fmt("%s/over", r), "mid over");
    assert_content(lf_fmt("%s/keep/k", r), "k");
    struct stat st, st2;
    ck_assert_int_eq(stat(lf_fmt("%s/keep", r), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0750);
    char color[16] = "";
    ck_assert_int_eq(getxattr(lf_fmt("%s/attr", r), "user.color", color, sizeof(color)), 4);
    ck_assert_str_eq(color, "blue");
    /* No overlay marker leaks into the view. */
    ck_assert_int_lt(getxattr(lf_fmt("%s/opq", r), "trusted.overlay.opaque", color, 4), 0);
    ck_assert_int_eq(stat(lf_fmt("%s/hard1", r), &st), 0);
    ck_assert_int_eq(stat(lf_fmt("%s/hard2", r), &st2), 0);
    ck_assert_msg(st.st_ino == st2.st_ino, "hard1 and hard2 are no longer one file");
    LF_OK(hcs_layer_detach(w, &e_));
}
END_TEST

START_TEST(view__keeps_holes_special_files_and_folder_times)
{
    char *plain = lf_fmt("%s/plain", lf.dir);
    lf_write(lf_fmt("%s/d/sparse", plain), "", 0644);
    int fd = open(lf_fmt("%s/d/sparse", plain), O_WRONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "end", 3, 64 << 20), 3);
    close(fd);
    ck_assert_int_eq(mkfifo(lf_fmt("%s/d/fifo", plain), 0640), 0);
    ck_assert_int_eq(mknod(lf_fmt("%s/d/null", plain), S_IFCHR | 0666, makedev(1, 3)), 0);
    ck_assert_int_eq(symlink("/nowhere/at/all", lf_fmt("%s/d/dangling", plain)), 0);
    struct timespec times[2] = {{.tv_sec = 1600000000, .tv_nsec = 123456789},
                                {.tv_sec = 1600000000, .tv_nsec = 123456789}};
    ck_assert_int_eq(utimensat(AT_FDCWD, lf_fmt("%s/d", plain), times, 0), 0);

    char *w = lf_fmt("%s/w", lf.dir);
    const char *parents[] = {plain};
    LF_OK(hcs_layer_init_writable(w, parents, 1, &e_));
    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    char *d = lf_fmt("%s/rootfs/d", w);
    struct stat st;
    ck_assert_int_eq(lstat(lf_fmt("%s/sparse", d), &st), 0);
    ck_assert_int_eq(st.st_size, (64 << 20) + 3);
    ck_assert_msg(st.st_blocks < 1024, "the hole was filled: %lld blocks", (long long)st.st_blocks);
    ck_assert_int_eq(lstat(lf_fmt("%s/fifo", d), &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 07777, 0640);
    ck_assert_int_eq(lstat(lf_fmt("%s/null", d), &st), 0);
    ck_assert(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
    char target[64] = "";
    ck_assert_int_eq(readlink(lf_fmt("%s/dangling", d), target, sizeof(target) - 1), 15);
    ck_assert_str_eq(target, "/nowhere/at/all");
    ck_assert_int_eq(lstat(d, &st), 0);
    ck_assert_int_eq(st.st_mtim.tv_sec, 1600000000);
    ck_assert_int_eq(st.st_mtim.tv_nsec, 123456789);
    LF_OK(hcs_layer_detach(w, &e_));
}
END_TEST

/* --- destroy and holders --------------------------------------------------------------------- */

START_TEST(destroy__refuses_what_is_in_use_and_then_leaves_nothing)
{
    char *base = base_layer();
    char *w = lf_fmt("%s/w", lf.dir);
    const char *parents[] = {base};
    LF_OK(hcs_layer_init_writable(w, parents, 1, &e_));
    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));

    char *msg = LF_FAILS(hcs_layer_destroy(w, &e_), HCS_E_INVALID_STATE);
    ck_assert_contains(msg, w);
    ck_assert_contains(msg, "attached");
    msg = LF_FAILS(hcs_layer_destroy(base, &e_), HCS_E_INVALID_STATE);
    ck_assert_contains(msg, base);
    ck_assert_contains(msg, lf_fmt("\"writable %s\"", w));
    assert_content(lf_fmt("%s/rootfs/a", w), "base a");

    LF_OK(hcs_layer_detach(w, &e_));
    LF_OK(hcs_layer_destroy(base, &e_));
    LF_OK(hcs_layer_destroy(w, &e_));
    ck_assert(!lf_exists(base));
    ck_assert(!lf_exists(w));
    assert_list(lf.dir, "base.tar"); /* no temporary folder left either */
}
END_TEST

START_TEST(destroy__refuses_a_plain_folder)
{
    char *plain = lf_fmt("%s/plain", lf.dir);
    lf_write(lf_fmt("%s/file", plain), "mine", 0644);
    char *msg = LF_FAILS(hcs_layer_destroy(plain, &e_), HCS_E_INVALID_LAYER);
    ck_assert_contains(msg, plain);
    ck_assert_contains(msg, "not a layer created by libhcs");
    assert_content(lf_fmt("%s/file", plain), "mine");
}
END_TEST

START_TEST(destroy__drops_stale_holders_and_keeps_live_ones)
{
    char *base = base_layer();
    LF_OK(hcs_layer_hold(base, lf_fmt("writable %s/never-made", lf.dir), &e_));
    char *run = hcs_ctx_runtime_root();
    LF_OK(hcs_layer_hold(base, lf_fmt("system %s gone-system", run), &e_));
    LF_OK(hcs_layer_hold(base, "someone else", &e_));
    /* Holding twice is one holder. */
    LF_OK(hcs_layer_hold(base, "someone else", &e_));
    ck_assert_int_eq(lf_sh("test $(ls %s/.holders | wc -l) -eq 3", base), 0);

    char *msg = LF_FAILS(hcs_layer_destroy(base, &e_), HCS_E_INVALID_STATE);
    ck_assert_contains(msg, "\"someone else\"");
    hcs_layer_release(base, "someone else");

    /* A compute system whose owner holds its lock is a live holder. */
    hcs_store_entry *sys = NULL;
    LF_OK(hcs_store_reserve("live-system", &sys, &e_));
    char *holder = lf_fmt("system %s live-system", run);
    LF_OK(hcs_layer_hold(base, holder, &e_));
    msg = LF_FAILS(hcs_layer_destroy(base, &e_), HCS_E_INVALID_STATE);
    ck_assert_contains(msg, holder);
    /* Its owner gone (the folder stays, as after a crash), the holder is stale. */
    int lock = sys->lock_fd;
    sys->lock_fd = -1;
    close(lock);
    LF_OK(hcs_store_release(sys, 0, &e_));
    LF_OK(hcs_layer_destroy(base, &e_));
    ck_assert(!lf_exists(base));
    free(run);
}
END_TEST

/* --- refusals of init and attach ------------------------------------------------------------- */

START_TEST(init__refuses_a_used_path_a_writable_parent_and_a_missing_one)
{
    char *base = base_layer();
    const char *parents[] = {base};
    char *full = lf_fmt("%s/full", lf.dir);
    lf_write(lf_fmt("%s/mine", full), "keep me", 0644);
    char *msg = LF_FAILS(hcs_layer_init_writable(full, parents, 1, &e_), HCS_E_ALREADY_EXISTS);
    ck_assert_contains(msg, full);
    assert_list(full, "mine");
    char *file = lf_fmt("%s/file", lf.dir);
    lf_write(file, "x", 0644);
    msg = LF_FAILS(hcs_layer_init_writable(file, parents, 1, &e_), HCS_E_ALREADY_EXISTS);
    ck_assert_contains(msg, file);

    char *w1 = lf_fmt("%s/w1", lf.dir);
    LF_OK(hcs_layer_init_writable(w1, parents, 1, &e_));
    char *w2 = lf_fmt("%s/w2", lf.dir);
    const char *bad[] = {base, w1};
    msg = LF_FAILS(hcs_layer_init_writable(w2, bad, 2, &e_), HCS_E_INVALID_LAYER);
    ck_assert_contains(msg, "LayerData.Layers[1]");
    ck_assert_contains(msg, w1);
    ck_assert(!lf_exists(w2));

    const char *missing[] = {base, lf_fmt("%s/nope", lf.dir)};
    msg = LF_FAILS(hcs_layer_init_writable(w2, missing, 2, &e_), HCS_E_FILE_NOT_FOUND);
    ck_assert_contains(msg, "LayerData.Layers[1]");
    ck_assert(!lf_exists(w2));
    /* An empty folder given is kept, and stays empty after a failure. */
    ck_assert_int_eq(mkdir(w2, 0755), 0);
    msg = LF_FAILS(hcs_layer_init_writable(w2, missing, 2, &e_), HCS_E_FILE_NOT_FOUND);
    assert_list(w2, "");
    msg = LF_FAILS(hcs_layer_init_writable(w2, NULL, 0, &e_), E_INVALIDARG);
    ck_assert_contains(msg, "at least one parent");
}
END_TEST

START_TEST(attach__refuses_another_chain_twice_and_a_read_only_layer)
{
    const lf_entry one[] = {{.path = "one", .type = 'f', .data = "1"}, {0}};
    const lf_entry two[] = {{.path = "two", .type = 'f', .data = "2"}, {0}};
    char *l1 = import_layer("l1", one);
    char *l2 = import_layer("l2", two);
    char *w = lf_fmt("%s/w", lf.dir);
    const char *chain[] = {l1, l2};
    LF_OK(hcs_layer_init_writable(w, chain, 2, &e_));

    const char *swapped[] = {l2, l1};
    char *msg = LF_FAILS(hcs_layer_attach(w, swapped, 2, &e_), E_INVALIDARG);
    ck_assert_contains(msg, "LayerData.Layers[0]");
    ck_assert_contains(msg, l2);
    msg = LF_FAILS(hcs_layer_attach(w, chain, 1, &e_), E_INVALIDARG);
    ck_assert_contains(msg, "LayerData.Layers[1]");
    ck_assert(!is_attached(w));
    ck_assert(!lf_exists(lf_fmt("%s/.holders", l1)) ||
              lf_sh("test -z \"$(ls %s/.holders)\"", l1) == 0);

    msg = LF_FAILS(hcs_layer_attach(l1, NULL, 0, &e_), HCS_E_INVALID_LAYER);
    ck_assert_contains(msg, l1);
    ck_assert_contains(msg, "not a writable layer");

    LF_OK(hcs_layer_attach(w, chain, 2, &e_));
    assert_list(lf_fmt("%s/rootfs", w), "one two");
    msg = LF_FAILS(hcs_layer_attach(w, NULL, 0, &e_), HCS_E_INVALID_STATE);
    ck_assert_contains(msg, "already attached");
    LF_OK(hcs_layer_detach(w, &e_));
    msg = LF_FAILS(hcs_layer_detach(w, &e_), HCS_E_INVALID_STATE);
    ck_assert_contains(msg, "not attached");
    ck_assert_contains(msg, w);
}
END_TEST

START_TEST(detach__refuses_while_the_view_is_in_use)
{
    char *base = base_layer();
    char *w = lf_fmt("%s/w", lf.dir);
    const char *parents[] = {base};
    LF_OK(hcs_layer_init_writable(w, parents, 1, &e_));
    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    char *rootfs = lf_fmt("%s/rootfs", w);
    int fd = open(lf_fmt("%s/a", rootfs), O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    if (hcs_layer_backend() == HCS_LAYER_BACKEND_OVERLAY) {
        char *msg = LF_FAILS(hcs_layer_detach(w, &e_), HRESULT_FROM_ERRNO(EBUSY));
        ck_assert_contains(msg, rootfs);
        ck_assert_contains(msg, "still uses it");
        ck_assert(is_attached(w));
        close(fd);
        LF_OK(hcs_layer_detach(w, &e_));
    } else {
        /* Nothing is mounted: the tree stays in rootfs, in use or not. */
        LF_OK(hcs_layer_detach(w, &e_));
        close(fd);
        assert_content(lf_fmt("%s/a", rootfs), "base a");
    }
    ck_assert(!is_attached(w));
}
END_TEST

START_TEST(attach__concurrent_attaches_attach_once)
{
    char *base = base_layer();
    char *w = lf_fmt("%s/w", lf.dir);
    const char *parents[] = {base};
    LF_OK(hcs_layer_init_writable(w, parents, 1, &e_));
    enum { N = 6 };
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            hcs_error *err = NULL;
            if (hcs_layer_attach(w, NULL, 0, &err) == 0)
                _exit(0);
            _exit(err != NULL && err->hr == HCS_E_INVALID_STATE ? 1 : 2);
        }
    }
    int attached = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        int st = 0;
        ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
        ck_assert(WIFEXITED(st));
        attached += WEXITSTATUS(st) == 0;
        refused += WEXITSTATUS(st) == 1;
    }
    ck_assert_int_eq(attached, 1);
    ck_assert_int_eq(refused, N - 1);
    if (hcs_layer_backend() == HCS_LAYER_BACKEND_OVERLAY)
        ck_assert_int_eq(lf_sh("test $(grep -c ' %s/rootfs ' /proc/self/mountinfo) -eq 1", w), 0);
    assert_content(lf_fmt("%s/rootfs/a", w), "base a");
    LF_OK(hcs_layer_detach(w, &e_));
}
END_TEST

/* --- the copy backend's changes -------------------------------------------------------------- */

START_TEST(copy__changes_hold_changed_added_and_deleted_entries)
{
    const lf_entry base[] = {
        {.path = "changed", .type = 'f', .data = "before"},
        {.path = "same", .type = 'f', .data = "same"},
        {.path = "deleted", .type = 'f', .data = "bye"},
        {.path = "gone", .type = 'd'},
        {.path = "gone/a", .type = 'f', .data = "a"},
        {.path = "gone/b", .type = 'f', .data = "b"},
        {.path = "tree", .type = 'd'},
        {.path = "tree/untouched", .type = 'f', .data = "u"},
        {.path = "tree/link", .type = 'l', .data = "untouched"},
        {.path = "moded", .type = 'd'},
        {.path = "moded/f", .type = 'f', .data = "f"},
        {0},
    };
    char *l0 = import_layer("base", base);
    char *w = lf_fmt("%s/w", lf.dir);
    const char *parents[] = {l0};
    LF_OK(hcs_layer_init_writable(w, parents, 1, &e_));
    /* This test is about the copy backend whatever the host's: record it in layer.json. */
    hcs_layer_info info = read_info(w);
    info.backend = HCS_LAYER_BACKEND_COPY;
    LF_OK(hcs_layer_info_write(w, &info, &e_));
    hcs_layer_info_free(&info);

    /* Never attached: no changes. */
    char *out0 = lf_fmt("%s/out0", lf.dir);
    ck_assert_int_eq(mkdir(out0, 0755), 0);
    LF_OK(hcs_layer_copy_changes(w, out0, &e_));
    assert_list(out0, "");

    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    char *r = lf_fmt("%s/rootfs", w);
    lf_write(lf_fmt("%s/changed", r), "after", 0644);
    lf_write(lf_fmt("%s/added", r), "new", 0600);
    lf_write(lf_fmt("%s/tree/sub/deep", r), "deep", 0644);
    ck_assert_int_eq(unlink(lf_fmt("%s/deleted", r)), 0);
    ck_assert_int_eq(lf_sh("rm -r %s/gone", r), 0);
    ck_assert_int_eq(unlink(lf_fmt("%s/tree/link", r)), 0);
    ck_assert_int_eq(symlink("elsewhere", lf_fmt("%s/tree/link", r)), 0);
    ck_assert_int_eq(chmod(lf_fmt("%s/moded", r), 0700), 0);

    char *out = lf_fmt("%s/out", lf.dir);
    ck_assert_int_eq(mkdir(out, 0755), 0);
    LF_OK(hcs_layer_copy_changes(w, out, &e_));
    assert_list(out, "added changed deleted gone moded tree");
    assert_content(lf_fmt("%s/changed", out), "after");
    assert_content(lf_fmt("%s/added", out), "new");
    ck_assert(is_whiteout(lf_fmt("%s/deleted", out)));
    ck_assert(is_whiteout(lf_fmt("%s/gone", out)));
    assert_list(lf_fmt("%s/moded", out), "");
    struct stat st, st2;
    ck_assert_int_eq(stat(lf_fmt("%s/moded", out), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    assert_list(lf_fmt("%s/tree", out), "link sub");
    assert_content(lf_fmt("%s/tree/sub/deep", out), "deep");
    char target[32] = "";
    ck_assert_int_eq(readlink(lf_fmt("%s/tree/link", out), target, sizeof(target) - 1), 9);
    ck_assert_str_eq(target, "elsewhere");
    /* Changed files are hard links to rootfs. */
    ck_assert_int_eq(stat(lf_fmt("%s/changed", out), &st), 0);
    ck_assert_int_eq(stat(lf_fmt("%s/changed", r), &st2), 0);
    ck_assert(st.st_ino == st2.st_ino);

    /* The output folder must be empty. */
    char *msg = LF_FAILS(hcs_layer_copy_changes(w, out, &e_), HCS_E_ALREADY_EXISTS);
    ck_assert_contains(msg, out);
    LF_OK(hcs_layer_detach(w, &e_));
}
END_TEST

START_TEST(copy__changes_are_against_the_merged_parents)
{
    const lf_entry base[] = {
        {.path = "x", .type = 'f', .data = "base x"},
        {.path = "o", .type = 'd'},
        {.path = "o/old", .type = 'f', .data = "old"},
        {.path = "o/keep", .type = 'f', .data = "hidden by the opaque folder"},
        {0},
    };
    const lf_entry mid[] = {
        {.path = ".wh.x", .type = 'f', .data = ""},
        {.path = "o", .type = 'd'},
        {.path = "o/.wh..wh..opq", .type = 'f', .data = ""},
        {.path = "o/new", .type = 'f', .data = "new"},
        {0},
    };
    char *l0 = import_layer("base", base);
    char *l1 = import_layer("mid", mid);
    char *w = lf_fmt("%s/w", lf.dir);
    const char *parents[] = {l1, l0};
    LF_OK(hcs_layer_init_writable(w, parents, 2, &e_));
    hcs_layer_info info = read_info(w);
    info.backend = HCS_LAYER_BACKEND_COPY;
    LF_OK(hcs_layer_info_write(w, &info, &e_));
    hcs_layer_info_free(&info);
    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    char *r = lf_fmt("%s/rootfs", w);
    assert_list(r, "o");
    assert_list(lf_fmt("%s/o", r), "new");

    /* Back from a whiteout and from under an opaque folder: both are additions. */
    lf_write(lf_fmt("%s/x", r), "again", 0644);
    lf_write(lf_fmt("%s/o/old", r), "fresh", 0644);
    ck_assert_int_eq(unlink(lf_fmt("%s/o/new", r)), 0);
    char *out = lf_fmt("%s/out", lf.dir);
    ck_assert_int_eq(mkdir(out, 0755), 0);
    LF_OK(hcs_layer_copy_changes(w, out, &e_));
    assert_list(out, "o x");
    assert_content(lf_fmt("%s/x", out), "again");
    assert_list(lf_fmt("%s/o", out), "new old");
    ck_assert(is_whiteout(lf_fmt("%s/o/new", out)));
    assert_content(lf_fmt("%s/o/old", out), "fresh");
    LF_OK(hcs_layer_detach(w, &e_));
}
END_TEST

/* --- long chains ----------------------------------------------------------------------------- */

/*
 * n plain-folder layers, nearest first: layer i has "common" (= i) and "only/<i>"; every tenth
 * layer also hides the next layer's file with a whiteout. The nearest common wins.
 */
static void chain_test(size_t n)
{
    const char **parents = calloc(n, sizeof(*parents));
    ck_assert_ptr_nonnull(parents);
    for (size_t i = 0; i < n; i++) {
        char *dir = lf_fmt("%s/chain/%03zu", lf.dir, i);
        lf_write(lf_fmt("%s/only/%zu", dir, i), lf_fmt("%zu", i), 0644);
        lf_write(lf_fmt("%s/common", dir), lf_fmt("%zu", i), 0644);
        if (i % 10 == 0 && i + 1 < n)
            ck_assert_int_eq(
                mknod(lf_fmt("%s/only/%zu", dir, i + 1), S_IFCHR | 0600, makedev(0, 0)), 0);
        parents[i] = dir;
    }
    char *w = lf_fmt("%s/w", lf.dir);
    LF_OK(hcs_layer_init_writable(w, parents, n, &e_));
    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    char *r = lf_fmt("%s/rootfs", w);
    assert_content(lf_fmt("%s/common", r), "0");
    for (size_t i = 0; i < n; i++) {
        bool hidden = i > 0 && (i - 1) % 10 == 0;
        ck_assert_msg(lf_exists(lf_fmt("%s/only/%zu", r, i)) != hidden, "only/%zu %s", i,
                      hidden ? "is not hidden" : "is missing");
    }
    assert_content(lf_fmt("%s/only/%zu", r, n - 1), lf_fmt("%zu", n - 1));
    LF_OK(hcs_layer_detach(w, &e_));
    free(parents);
}

START_TEST(chain__fifty_layers)
{
    chain_test(50);
}
END_TEST

START_TEST(chain__three_hundred_layers)
{
    chain_test(300);
}
END_TEST

/* --- backend ------------------------------------------------------------------------------- */

/* hcs_layer_backend() in a new process with HCS_LAYER_BACKEND=value; its stderr into log. */
static enum hcs_layer_backend backend_with(const char *value, const char *log)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || dup2(fd, 2) < 0 || setenv("HCS_LAYER_BACKEND", value, 1) < 0)
            _exit(99);
        hcs_ctx_set_log_level(HCS_LOG_WARNING);
        _exit((int)hcs_layer_backend());
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    return (enum hcs_layer_backend)WEXITSTATUS(st);
}

START_TEST(backend__environment_forces_it_and_a_bad_value_is_reported)
{
    char *log = lf_fmt("%s/stderr", lf.dir);
    ck_assert_int_eq(backend_with("copy", log), HCS_LAYER_BACKEND_COPY);
    ck_assert_int_eq(backend_with("overlay", log), HCS_LAYER_BACKEND_OVERLAY);
    enum hcs_layer_backend b = backend_with("bogus", log);
    ck_assert_msg(b == HCS_LAYER_BACKEND_OVERLAY || b == HCS_LAYER_BACKEND_COPY, "backend %d",
                  (int)b);
    char *text = lf_read(log);
    ck_assert_ptr_nonnull(text);
    ck_assert_contains(text, "HCS_LAYER_BACKEND=bogus");
    ck_assert_contains(text, "\"overlay\" or \"copy\"");
    free(text);
}
END_TEST

START_TEST(backend__probe_leaves_nothing_under_the_data_root)
{
    char *data = hcs_ctx_data_root();
    ck_assert_int_eq(hcs_mkdir_p(data, 0700, NULL), 0);
    enum hcs_layer_backend b = hcs_layer_backend_probe(data);
    ck_assert_msg(b == HCS_LAYER_BACKEND_OVERLAY || b == HCS_LAYER_BACKEND_COPY, "probe gave %d",
                  (int)b);
    assert_list(data, "");
    ck_assert(!mounted_under(data));

    /* The process' choice: forced by the environment, else the probe of the data root. */
    b = hcs_layer_backend();
    const char *forced = getenv("HCS_LAYER_BACKEND");
    if (forced != NULL && strcmp(forced, "copy") == 0)
        ck_assert_int_eq(b, HCS_LAYER_BACKEND_COPY);
    else if (forced != NULL && strcmp(forced, "overlay") == 0)
        ck_assert_int_eq(b, HCS_LAYER_BACKEND_OVERLAY);
    ck_assert_str_eq(hcs_layer_backend_name(b), b == HCS_LAYER_BACKEND_COPY ? "copy" : "overlay");
    assert_list(data, "");
    ck_assert(!mounted_under(data));
    free(data);
}
END_TEST

/* A reboot undoes an overlay attach but not the Attached mark: attach and destroy see through it.
 */
START_TEST(attach__after_the_view_vanished_attaches_again_and_holds_nothing)
{
    if (hcs_layer_backend() != HCS_LAYER_BACKEND_OVERLAY)
        return; /* the copy backend's view is a folder: it survives a reboot, attached */
    char *base = base_layer();
    char *w = lf_fmt("%s/w", lf.dir);
    const char *parents[] = {base};
    LF_OK(hcs_layer_init_writable(w, parents, 1, &e_));
    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    char *rootfs = lf_fmt("%s/rootfs", w);
    ck_assert_int_eq(umount2(rootfs, 0), 0); /* what a reboot does */
    ck_assert(is_attached(w));

    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    assert_content(lf_fmt("%s/a", rootfs), "base a");
    LF_OK(hcs_layer_detach(w, &e_));
    ck_assert_int_eq(umount2(rootfs, 0) < 0 ? errno : 0, EINVAL); /* nothing left mounted */

    /* Vanished again: the parent's holder is stale, so the parent can go. */
    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    ck_assert_int_eq(umount2(rootfs, 0), 0);
    LF_OK(hcs_layer_destroy(base, &e_));
    ck_assert(!lf_exists(base));
    free(rootfs);
    free(w);
    free(base);
}
END_TEST

HCS_TEST_SUITE(writable_suite)
{
    Suite *s = suite_create("layer_writable");
    TCase *tc = tcase_create("writable");
    tcase_add_checked_fixture(tc, lf_setup, lf_teardown);
    tcase_set_timeout(tc, 60);
    HCS_ADD_ROOT_TEST(tc, writable__attach_write_detach_reattach_keeps_the_writes);
    HCS_ADD_ROOT_TEST(tc, writable__init_into_an_empty_folder_and_over_a_plain_folder);
    HCS_ADD_ROOT_TEST(tc, union__whiteouts_hide_and_opaque_folders_replace);
    HCS_ADD_ROOT_TEST(tc, view__keeps_holes_special_files_and_folder_times);
    HCS_ADD_ROOT_TEST(tc, destroy__refuses_what_is_in_use_and_then_leaves_nothing);
    HCS_ADD_ROOT_TEST(tc, destroy__refuses_a_plain_folder);
    HCS_ADD_ROOT_TEST(tc, destroy__drops_stale_holders_and_keeps_live_ones);
    HCS_ADD_ROOT_TEST(tc, init__refuses_a_used_path_a_writable_parent_and_a_missing_one);
    HCS_ADD_ROOT_TEST(tc, attach__refuses_another_chain_twice_and_a_read_only_layer);
    HCS_ADD_ROOT_TEST(tc, detach__refuses_while_the_view_is_in_use);
    HCS_ADD_ROOT_TEST(tc, attach__concurrent_attaches_attach_once);
    HCS_ADD_ROOT_TEST(tc, copy__changes_hold_changed_added_and_deleted_entries);
    HCS_ADD_ROOT_TEST(tc, copy__changes_are_against_the_merged_parents);
    HCS_ADD_ROOT_TEST(tc, chain__fifty_layers);
    HCS_ADD_ROOT_TEST(tc, chain__three_hundred_layers);
    HCS_ADD_ROOT_TEST(tc, attach__after_the_view_vanished_attaches_again_and_holds_nothing);
    HCS_ADD_ROOT_TEST(tc, backend__probe_leaves_nothing_under_the_data_root);
    HCS_ADD_ROOT_TEST(tc, backend__environment_forces_it_and_a_bad_value_is_reported);
    suite_add_tcase(s, tc);
    return s;
}
