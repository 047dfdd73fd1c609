/*
 * test_root.c - hcs_ns_enter_root: the union of layers, the writable layer, read-only roots,
 * mapped directories, symlinks in the image that point out of the root, errors.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ns/ns_internal.h"
#include "ns_fixture.h"

/* --- the root shows the layer, not the host ---------------------------------------------- */

static void body_shows_layer(void *arg)
{
    (void)arg;
    nsf_enter(&nsf.root);
    char *ls = nsf_list("/");
    NSF_CHECK(strcmp(ls, "bin dev etc mnt proc sys tmp") == 0, "/ lists \"%s\"", ls);
    NSF_CHECK(strcmp(nsf_list("/tmp"), "") == 0, "/tmp is not the layer's empty folder");
    NSF_CHECK(!nsf_exists(nsf.host_marker), "the host file %s is visible", nsf.host_marker);
    NSF_CHECK(!nsf_exists(nsf.base), "the host folder %s is visible", nsf.base);

    /* /proc is this pid namespace's: we are pid 1 and the only process. */
    NSF_CHECK(getpid() == 1, "getpid() = %d", (int)getpid());
    char self[32] = "";
    NSF_CHECK(readlink("/proc/self", self, sizeof(self) - 1) > 0, "readlink /proc/self: %s",
              strerror(errno));
    NSF_CHECK(strcmp(self, "1") == 0, "/proc/self -> %s", self);
    char *procs = nsf_list("/proc");
    for (char *p = procs; *p != '\0'; p += strcspn(p, " "), p += strspn(p, " "))
        NSF_CHECK(!(p[0] >= '0' && p[0] <= '9') || strncmp(p, "1 ", 2) == 0 || strcmp(p, "1") == 0,
                  "/proc lists processes other than 1: %s", procs);

    /* Only mounts of the container's own tree are visible. */
    char *info = nsf_read("/proc/self/mountinfo");
    NSF_CHECK(info != NULL, "read /proc/self/mountinfo");
    for (char *line = strtok(info, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char mp[4096];
        NSF_CHECK(sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1, "mountinfo line %s", line);
        NSF_CHECK(strcmp(mp, "/") == 0 || strncmp(mp, "/proc", 5) == 0 ||
                      strncmp(mp, "/dev", 4) == 0 || strncmp(mp, "/sys", 4) == 0,
                  "unexpected mount in the container: %s", line);
    }

    /* Programs of the layer run. */
    char out[512];
    const char *argv[] = {"/bin/ls", "/", NULL};
    NSF_CHECK(nsf_exec(argv, out, sizeof(out)) == 0, "/bin/ls / failed");
    NSF_CHECK(strcmp(out, "bin\ndev\netc\nmnt\nproc\nsys\ntmp\n") == 0, "ls / printed %s", out);
}

START_TEST(enter_root__shows_the_layer_and_hides_the_host)
{
    nsf_assert_ok(body_shows_layer, NULL);
}
END_TEST

/* --- writes go to the writable layer ----------------------------------------------------- */

static void body_writes(void *arg)
{
    (void)arg;
    nsf_enter(&nsf.root);
    FILE *f = fopen("/hello.txt", "we");
    NSF_CHECK(f != NULL, "create /hello.txt: %s", strerror(errno));
    fputs("from the container\n", f);
    NSF_CHECK(fclose(f) == 0, "write /hello.txt");
    f = fopen("/etc/group", "ae");
    NSF_CHECK(f != NULL, "open /etc/group for append: %s", strerror(errno));
    fputs("users:x:100:\n", f);
    NSF_CHECK(fclose(f) == 0, "append to /etc/group");
}

START_TEST(enter_root__writes_go_to_the_writable_layer)
{
    nsf_assert_ok(body_writes, NULL);
    char *up = nsf_fmt("%s/upper/hello.txt", nsf.rw);
    char *s = nsf_read(up);
    ck_assert_msg(s != NULL && strcmp(s, "from the container\n") == 0, "%s holds %s", up,
                  s ? s : "(missing)");
    free(s);
    char *group = nsf_fmt("%s/upper/etc/group", nsf.rw);
    s = nsf_read(group);
    ck_assert_msg(s != NULL && strcmp(s, "root:x:0:\ntty:x:5:\nusers:x:100:\n") == 0, "%s holds %s",
                  group, s ? s : "(missing)");
    free(s);
    /* The layer is untouched. */
    char *in_layer = nsf_fmt("%s/hello.txt", nsf.layer0);
    ck_assert_msg(!nsf_exists(in_layer), "%s was written into the layer", in_layer);
    char *lgroup = nsf_fmt("%s/etc/group", nsf.layer0);
    s = nsf_read(lgroup);
    ck_assert_str_eq(s, "root:x:0:\ntty:x:5:\n");
    free(s);
    free(up);
    free(group);
    free(in_layer);
    free(lgroup);
}
END_TEST

/* --- layers union, nearest first --------------------------------------------------------- */

static void body_union(void *arg)
{
    hcs_ns_root *root = arg;
    nsf_enter(root);
    char *msg = nsf_read("/etc/msg");
    NSF_CHECK(msg != NULL && strcmp(msg, "top\n") == 0, "/etc/msg holds %s", msg ? msg : "?");
    NSF_CHECK(nsf_exists("/etc/only0"), "/etc/only0 of the lower layer is missing");
    NSF_CHECK(nsf_exists("/etc/only1"), "/etc/only1 of the upper layer is missing");
    NSF_CHECK(nsf_exists("/bin/busybox"), "/bin/busybox is missing");
    if (root->upper == NULL) {
        NSF_CHECK_EROFS("/new", O_WRONLY | O_CREAT);
        NSF_CHECK_EROFS("/tmp/x", -1);
    }
}

static void make_two_layers(const char **layers, char **layer1)
{
    *layer1 = nsf_fmt("%s/layer1", nsf.base);
    char *p = nsf_fmt("%s/etc/msg", *layer1);
    nsf_write(p, "top\n");
    free(p);
    p = nsf_fmt("%s/etc/only1", *layer1);
    nsf_write(p, "1\n");
    free(p);
    p = nsf_fmt("%s/etc/msg", nsf.layer0);
    nsf_write(p, "bottom\n");
    free(p);
    p = nsf_fmt("%s/etc/only0", nsf.layer0);
    nsf_write(p, "0\n");
    free(p);
    layers[0] = *layer1;
    layers[1] = nsf.layer0;
}

START_TEST(enter_root__unions_layers_nearest_first)
{
    const char *layers[2];
    char *layer1;
    make_two_layers(layers, &layer1);
    hcs_ns_root root = nsf.root;
    root.layers = layers;
    root.n_layers = 2;
    nsf_assert_ok(body_union, &root);
    free(layer1);
}
END_TEST

START_TEST(enter_root__layers_without_writable_folder_are_read_only)
{
    const char *layers[2];
    char *layer1;
    make_two_layers(layers, &layer1);
    hcs_ns_root root = nsf.root;
    root.layers = layers;
    root.n_layers = 2;
    root.upper = root.work = NULL;
    nsf_assert_ok(body_union, &root);
    free(layer1);
}
END_TEST

static void body_single_read_only(void *arg)
{
    (void)arg;
    hcs_ns_root root = nsf.root;
    root.upper = root.work = NULL;
    nsf_enter(&root);
    NSF_CHECK_EROFS("/new", O_WRONLY | O_CREAT);
    NSF_CHECK(nsf_exists("/proc/self/status"), "/proc is not mounted");
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    NSF_CHECK(fd >= 0 && write(fd, "x", 1) == 1, "write /dev/null: %s", strerror(errno));
    close(fd);
}

START_TEST(enter_root__single_layer_without_writable_folder_is_read_only)
{
    nsf_assert_ok(body_single_read_only, NULL);
    /* Nothing was created in the layer (mount points existed, the bind was read-only). */
    char *dev = nsf_fmt("%s/dev", nsf.layer0);
    DIR *d = opendir(dev);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        n += de->d_name[0] != '.';
    closedir(d);
    ck_assert_msg(n == 0, "%d entries appeared in the layer's dev/", n);
    free(dev);
}
END_TEST

/* --- a bound folder as the root (copy backend) ------------------------------------------- */

static void body_bound(void *arg)
{
    (void)arg;
    hcs_ns_root root = nsf.root;
    root.layers = NULL;
    root.n_layers = 0;
    root.upper = root.work = NULL;
    root.bind = nsf.layer0;
    nsf_enter(&root);
    FILE *f = fopen("/hello.txt", "we");
    NSF_CHECK(f != NULL, "create /hello.txt: %s", strerror(errno));
    fputs("bound\n", f);
    NSF_CHECK(fclose(f) == 0, "write /hello.txt");
    char out[512];
    const char *argv[] = {"/bin/cat", "/etc/group", NULL};
    NSF_CHECK(nsf_exec(argv, out, sizeof(out)) == 0, "/bin/cat /etc/group failed");
    NSF_CHECK(strcmp(out, "root:x:0:\ntty:x:5:\n") == 0, "cat printed %s", out);
    NSF_CHECK(!nsf_exists(nsf.host_marker), "the host file %s is visible", nsf.host_marker);
}

START_TEST(enter_root__a_bound_folder_is_a_read_write_root)
{
    nsf_assert_ok(body_bound, NULL);
    char *p = nsf_fmt("%s/hello.txt", nsf.layer0);
    char *s = nsf_read(p);
    ck_assert_msg(s != NULL && strcmp(s, "bound\n") == 0, "%s holds %s", p, s ? s : "(missing)");
    free(s);
    free(p);
}
END_TEST

/* --- upper holds a self-contained diff --------------------------------------------------- */

static void body_self_contained(void *arg)
{
    (void)arg;
    nsf_enter(&nsf.root);
    /* redirect_dir=off: a folder of a lower layer cannot be renamed in place (mv copies). */
    NSF_CHECK(rename("/etc", "/etc2") < 0 && errno == EXDEV,
              "rename of a lower folder: %s (expected EXDEV)", strerror(errno));
    /* metacopy=off: a metadata change copies the data up too. */
    NSF_CHECK(chmod("/etc/group", 0600) == 0, "chmod /etc/group: %s", strerror(errno));
}

START_TEST(union__upper_holds_a_self_contained_diff)
{
    nsf_assert_ok(body_self_contained, NULL);
    char *group = nsf_fmt("%s/etc/group", nsf.upper);
    struct stat st;
    ck_assert_msg(stat(group, &st) == 0, "%s is missing", group);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    char *s = nsf_read(group);
    ck_assert_msg(s != NULL && strcmp(s, "root:x:0:\ntty:x:5:\n") == 0, "%s holds %s", group,
                  s ? s : "(nothing)");
    ck_assert_msg(getxattr(group, "trusted.overlay.metacopy", NULL, 0) < 0,
                  "%s is a metadata-only copy", group);
    free(s);
    free(group);
}
END_TEST

/* --- an image symlink must not take a mount out of the root ------------------------------ */

static void body_symlinked_proc(void *arg)
{
    (void)arg;
    hcs_error *e = NULL;
    NSF_CHECK(hcs_ns_enter_root(&nsf.root, &e) < 0, "enter_root accepted /proc -> /etc");
    NSF_CHECK(strstr(e->message, "/proc is a symlink") != NULL && strstr(e->message, nsf.rootfs),
              "message: %s", e->message);
    /* Nothing landed on the host's /etc (nor on the root's etc). */
    char *info = nsf_read("/proc/self/mountinfo");
    NSF_CHECK(info != NULL, "read /proc/self/mountinfo");
    NSF_CHECK(strstr(info, " /etc ") == NULL, "something is mounted on /etc:\n%s", info);
    char *root_etc = nsf_fmt(" %s/etc ", nsf.rootfs);
    NSF_CHECK(strstr(info, root_etc) == NULL, "something is mounted on %s", root_etc);
}

START_TEST(enter_root__refuses_a_proc_symlink_in_the_image)
{
    char *proc = nsf_fmt("%s/proc", nsf.layer0);
    ck_assert_int_eq(rmdir(proc), 0);
    ck_assert_int_eq(symlink("/etc", proc), 0);
    nsf_assert_ok(body_symlinked_proc, NULL);
    free(proc);
}
END_TEST

struct escape {
    char *outside; /* host folder the image's symlinks point at */
    char *share;   /* host folder mapped through them */
};

static void body_escape(void *arg)
{
    const struct escape *x = arg;
    hcs_ns_mount mounts[] = {
        {x->share, "/mnt/abs/sub", false},
        {x->share, "/mnt/rel/sub2/deeper", true},
    };
    hcs_ns_root root = nsf.root;
    root.mounts = mounts;
    root.n_mounts = 2;
    nsf_enter(&root);
    char *s = nsf_read("/mnt/abs/sub/file");
    NSF_CHECK(s != NULL && strcmp(s, "shared\n") == 0, "/mnt/abs/sub/file holds %s",
              s ? s : "(missing)");
    s = nsf_read("/mnt/rel/sub2/deeper/file");
    NSF_CHECK(s != NULL && strcmp(s, "shared\n") == 0, "/mnt/rel/sub2/deeper/file holds %s",
              s ? s : "(missing)");
    /* The symlinks resolved inside the root: the mount points live at <root><outside>. */
    char *inside = nsf_fmt("%s/sub/file", x->outside);
    NSF_CHECK(nsf_exists(inside), "%s (inside the root) is missing", inside);
}

START_TEST(mapped__through_an_image_symlink_stays_inside_the_root)
{
    struct escape x;
    x.outside = nsf_fmt("%s/outside", nsf.base);
    x.share = nsf_fmt("%s/share", nsf.base);
    ck_assert_int_eq(mkdir(x.outside, 0755), 0);
    char *file = nsf_fmt("%s/file", x.share);
    nsf_write(file, "shared\n");
    /* mnt/abs -> <outside> (absolute host path); mnt/rel -> ../../../../../../..<outside> */
    char *abs = nsf_fmt("%s/mnt/abs", nsf.layer0);
    char *rel = nsf_fmt("%s/mnt/rel", nsf.layer0);
    char *rel_target = nsf_fmt("../../../../../../../../../..%s", x.outside);
    ck_assert_int_eq(symlink(x.outside, abs), 0);
    ck_assert_int_eq(symlink(rel_target, rel), 0);

    nsf_assert_ok(body_escape, &x);

    /* The host folder the symlinks name was not touched. */
    DIR *d = opendir(x.outside);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        ck_assert_msg(de->d_name[0] == '.', "%s/%s was created on the host", x.outside, de->d_name);
    closedir(d);
    /* The mount points were made in the writable layer, under the root. */
    char *upper = nsf_fmt("%s/upper%s/sub", nsf.rw, x.outside);
    ck_assert_msg(nsf_exists(upper), "%s is missing", upper);
    free(upper);
    free(file);
    free(abs);
    free(rel);
    free(rel_target);
    free(x.outside);
    free(x.share);
}
END_TEST

/* --- mapped directories ------------------------------------------------------------------ */

struct mapped {
    char *ro, *rw, *conf;
};

static void body_mapped(void *arg)
{
    const struct mapped *m = arg;
    hcs_ns_mount mounts[] = {
        {m->ro, "/mnt/ro", true},
        {m->rw, "/data/rw", false},
        {m->conf, "/opt/conf/app.conf", true},
    };
    hcs_ns_root root = nsf.root;
    root.mounts = mounts;
    root.n_mounts = 3;
    nsf_enter(&root);
    char *s = nsf_read("/mnt/ro/ro.txt");
    NSF_CHECK(s != NULL && strcmp(s, "read only\n") == 0, "/mnt/ro/ro.txt holds %s",
              s ? s : "(missing)");
    NSF_CHECK_EROFS("/mnt/ro/new", O_WRONLY | O_CREAT);
    NSF_CHECK_EROFS("/mnt/ro/ro.txt", O_WRONLY);
    FILE *f = fopen("/data/rw/new.txt", "we");
    NSF_CHECK(f != NULL, "create /data/rw/new.txt: %s", strerror(errno));
    fputs("written inside\n", f);
    NSF_CHECK(fclose(f) == 0, "write /data/rw/new.txt");
    s = nsf_read("/opt/conf/app.conf");
    NSF_CHECK(s != NULL && strcmp(s, "key=value\n") == 0, "/opt/conf/app.conf holds %s",
              s ? s : "(missing)");
    NSF_CHECK_EROFS("/opt/conf/app.conf", O_WRONLY);
    struct stat st;
    NSF_CHECK(stat("/opt/conf/app.conf", &st) == 0 && S_ISREG(st.st_mode),
              "/opt/conf/app.conf is not a file");
}

START_TEST(mapped__read_only_is_honoured_and_read_write_reaches_the_host)
{
    struct mapped m;
    m.ro = nsf_fmt("%s/share-ro", nsf.base);
    m.rw = nsf_fmt("%s/share-rw", nsf.base);
    m.conf = nsf_fmt("%s/app.conf", nsf.base);
    char *p = nsf_fmt("%s/ro.txt", m.ro);
    nsf_write(p, "read only\n");
    ck_assert_int_eq(mkdir(m.rw, 0755), 0);
    nsf_write(m.conf, "key=value\n");

    nsf_assert_ok(body_mapped, &m);

    char *written = nsf_fmt("%s/new.txt", m.rw);
    char *s = nsf_read(written);
    ck_assert_msg(s != NULL && strcmp(s, "written inside\n") == 0, "%s holds %s", written,
                  s ? s : "(missing)");
    char *ro_new = nsf_fmt("%s/new", m.ro);
    ck_assert(!nsf_exists(ro_new));
    free(s);
    free(written);
    free(ro_new);
    free(p);
    free(m.ro);
    free(m.rw);
    free(m.conf);
}
END_TEST

/* --- errors name what is wrong ----------------------------------------------------------- */

struct expect_error {
    hcs_ns_root root;
    const char *message; /* expected substring */
};

static void body_expect_error(void *arg)
{
    const struct expect_error *x = arg;
    hcs_error *e = NULL;
    NSF_CHECK(hcs_ns_enter_root(&x->root, &e) < 0, "enter_root succeeded; expected \"%s\"",
              x->message);
    NSF_CHECK(strstr(e->message, x->message) != NULL, "message \"%s\" lacks \"%s\"", e->message,
              x->message);
}

START_TEST(errors__name_the_layer_index_and_path)
{
    struct expect_error x = {.root = nsf.root};
    const char *layers[] = {nsf.layer0, "/nonexistent/hcs/layer"};
    x.root.layers = layers;
    x.root.n_layers = 2;
    x.message = "Storage.Layers[1]: /nonexistent/hcs/layer: No such file or directory";
    nsf_assert_ok(body_expect_error, &x);

    char *file = nsf_fmt("%s/bin/busybox", nsf.layer0);
    const char *layers2[] = {file, nsf.layer0};
    x.root.layers = layers2;
    char *want = nsf_fmt("Storage.Layers[0]: %s: Not a directory", file);
    x.message = want;
    nsf_assert_ok(body_expect_error, &x);

    x.root = nsf.root;
    x.root.upper = "/nonexistent/hcs/rw/upper";
    x.message = "upper folder: /nonexistent/hcs/rw/upper: No such file or directory";
    nsf_assert_ok(body_expect_error, &x);

    x.root = nsf.root;
    x.root.work = NULL;
    x.message = "Storage.Path: the upper folder";
    nsf_assert_ok(body_expect_error, &x);

    x.root = nsf.root;
    x.root.layers = NULL;
    x.root.n_layers = 0;
    x.root.upper = x.root.work = NULL;
    x.root.bind = "/nonexistent/hcs/rootfs";
    x.message = "Storage.Path: /nonexistent/hcs/rootfs: No such file or directory";
    nsf_assert_ok(body_expect_error, &x);

    x.root = nsf.root;
    hcs_ns_mount bad_host[] = {{"/nonexistent/hcs/share", "/mnt/x", false}};
    x.root.mounts = bad_host;
    x.root.n_mounts = 1;
    x.message = "MappedDirectories[0]: host path /nonexistent/hcs/share: No such file or directory";
    nsf_assert_ok(body_expect_error, &x);

    hcs_ns_mount over_root[] = {{nsf.layer0, "/", false}};
    x.root.mounts = over_root;
    x.message = "refusing to mount over the root itself";
    nsf_assert_ok(body_expect_error, &x);

    hcs_ns_mount relative[] = {{nsf.layer0, "mnt/x", false}};
    x.root.mounts = relative;
    x.message = "MappedDirectories[0]: container path mnt/x is not absolute";
    nsf_assert_ok(body_expect_error, &x);
    free(file);
    free(want);
}
END_TEST

/* --- long layer chains ------------------------------------------------------------------- */

#define CHAIN 60

struct chain {
    char *paths[CHAIN];
    const char *layers[CHAIN];
    size_t option_bytes; /* what "lowerdir=a:b:..." would take with the real paths */
};

/* 60 layers with long paths; layer i has layers/<i> and etc/who = i; the last is busybox. */
static void make_chain(struct chain *c)
{
    const char *dir = "layers-with-a-deliberately-long-folder-name-so-that-sixty-of-them-exceed-"
                      "one-page-of-mount-options";
    c->option_bytes = strlen("lowerdir=");
    for (int i = 0; i < CHAIN; i++) {
        c->paths[i] = nsf_fmt("%s/%s/layer-number-%02d", nsf.base, dir, i);
        c->layers[i] = c->paths[i];
        c->option_bytes += strlen(c->paths[i]) + 1;
        if (i == CHAIN - 1)
            nsf_make_busybox_layer(c->paths[i]);
        char *p = nsf_fmt("%s/layers/%d", c->paths[i], i);
        nsf_write(p, "x\n");
        free(p);
        p = nsf_fmt("%s/etc/who", c->paths[i]);
        char *content = nsf_fmt("%d\n", i);
        nsf_write(p, content);
        free(p);
        free(content);
    }
    ck_assert_msg(c->option_bytes > 4096, "the chain takes only %zu bytes", c->option_bytes);
}

static void free_chain(struct chain *c)
{
    for (int i = 0; i < CHAIN; i++)
        free(c->paths[i]);
}

static void body_chain(void *arg)
{
    struct chain *c = arg;
    hcs_ns_root root = nsf.root;
    root.layers = c->layers;
    root.n_layers = CHAIN;
    nsf_enter(&root);
    char *who = nsf_read("/etc/who");
    NSF_CHECK(who != NULL && strcmp(who, "0\n") == 0, "/etc/who holds %s", who ? who : "?");
    char *ls = nsf_list("/layers");
    int n = 0;
    for (char *p = ls; *p != '\0'; p += strcspn(p, " "), p += strspn(p, " "))
        n++;
    NSF_CHECK(n == CHAIN, "/layers lists %d entries: %s", n, ls);
    char out[64];
    const char *argv[] = {"/bin/echo", "ran", NULL};
    NSF_CHECK(nsf_exec(argv, out, sizeof(out)) == 0 && strcmp(out, "ran\n") == 0,
              "/bin/echo printed %s", out);
}

START_TEST(union__sixty_layers_beyond_one_page_of_options)
{
    struct chain c;
    make_chain(&c);
    nsf_assert_ok(body_chain, &c);
    free_chain(&c);
}
END_TEST

/* The kernel release as major * 100 + minor (6.18 -> 618). */
static int kernel_version(void)
{
    struct utsname u;
    int major = 0, minor = 0;
    if (uname(&u) == 0)
        sscanf(u.release, "%d.%d", &major, &minor);
    return major * 100 + minor;
}

struct method_case {
    struct chain *chain;
    enum hcs_layer_union_method method;
    int min_kernel; /* the method needs at least this kernel */
    char *mountpoint, *upper, *work;
};

static void body_method(void *arg)
{
    const struct method_case *m = arg;
    NSF_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make / private: %s",
              strerror(errno));
    hcs_ns_root root = {.layers = m->chain->layers,
                        .n_layers = CHAIN,
                        .upper = m->upper,
                        .work = m->work,
                        .mountpoint = m->mountpoint};
    int fd = -1;
    hcs_error *e = NULL;
    int rc = hcs_ns_mount_union(&root, m->method, &fd, &e);
    if (kernel_version() < m->min_kernel) {
        NSF_CHECK(rc < 0 && strstr(e->message, "does not support") != NULL,
                  "method %d on an older kernel: %s", (int)m->method, e ? e->message : "worked");
        return;
    }
    NSF_CHECK(rc == 0, "method %d: %s", (int)m->method, e ? e->message : "");
    char who[8] = "";
    int wfd = openat(fd, "etc/who", O_RDONLY | O_CLOEXEC);
    NSF_CHECK(wfd >= 0 && read(wfd, who, sizeof(who) - 1) > 0, "read etc/who: %s", strerror(errno));
    NSF_CHECK(strcmp(who, "0\n") == 0, "etc/who holds %s", who);
    char *layers = nsf_fmt("%s/layers", m->mountpoint);
    char *ls = nsf_list(layers);
    int n = 0;
    for (char *p = ls; *p != '\0'; p += strcspn(p, " "), p += strspn(p, " "))
        n++;
    NSF_CHECK(n == CHAIN, "layers/ lists %d entries: %s", n, ls);
    int nfd = openat(fd, "written", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    NSF_CHECK(nfd >= 0, "create a file in the union: %s", strerror(errno));
}

START_TEST(union__every_method_mounts_sixty_layers)
{
    struct chain c;
    make_chain(&c);
    const struct {
        enum hcs_layer_union_method method;
        const char *name;
        int min_kernel;
    } methods[] = {
        {HCS_LAYER_UNION_FD, "fd", 613},
        {HCS_LAYER_UNION_PLUS, "plus", 608},
        {HCS_LAYER_UNION_LEGACY, "legacy", 0},
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        struct method_case m = {
            .chain = &c, .method = methods[i].method, .min_kernel = methods[i].min_kernel};
        m.mountpoint = nsf_fmt("%s/mnt-%s", nsf.base, methods[i].name);
        char *rw = nsf_fmt("%s/rw-%s", nsf.base, methods[i].name);
        m.upper = nsf_fmt("%s/upper", rw);
        m.work = nsf_fmt("%s/work", rw);
        ck_assert_int_eq(mkdir(m.mountpoint, 0755), 0);
        ck_assert_int_eq(mkdir(rw, 0755), 0);
        ck_assert_int_eq(mkdir(m.upper, 0755), 0);
        ck_assert_int_eq(mkdir(m.work, 0755), 0);
        nsf_result r;
        nsf_run(body_method, &m, &r);
        ck_assert_msg(r.status == 0, "method %s: %s", methods[i].name, r.msg);
        if (kernel_version() >= m.min_kernel) {
            char *w = nsf_fmt("%s/written", m.upper);
            ck_assert_msg(nsf_exists(w), "method %s: %s is missing", methods[i].name, w);
            free(w);
        }
        free(m.mountpoint);
        free(m.upper);
        free(m.work);
        free(rw);
    }
    free_chain(&c);
}
END_TEST

static void body_odd_names(void *arg)
{
    hcs_ns_root *root = arg;
    nsf_enter(root);
    char *s = nsf_read("/odd");
    NSF_CHECK(s != NULL && strcmp(s, "odd\n") == 0, "/odd holds %s", s ? s : "(missing)");
    NSF_CHECK(nsf_exists("/bin/busybox"), "/bin/busybox is missing");
    FILE *f = fopen("/written", "we");
    NSF_CHECK(f != NULL && fclose(f) == 0, "create /written: %s", strerror(errno));
}

START_TEST(union__paths_with_colons_and_commas)
{
    char *odd = nsf_fmt("%s/la:yer,one", nsf.base);
    char *rw = nsf_fmt("%s/wri:ta,ble", nsf.base);
    char *p = nsf_fmt("%s/odd", odd);
    nsf_write(p, "odd\n");
    char *upper = nsf_fmt("%s/up:per", rw);
    char *work = nsf_fmt("%s/wo,rk", rw);
    ck_assert_int_eq(mkdir(rw, 0755), 0);
    ck_assert_int_eq(mkdir(upper, 0755), 0);
    ck_assert_int_eq(mkdir(work, 0755), 0);
    const char *layers[] = {odd, nsf.layer0};
    hcs_ns_root root = nsf.root;
    root.layers = layers;
    root.n_layers = 2;
    root.upper = upper;
    root.work = work;
    nsf_assert_ok(body_odd_names, &root);
    char *w = nsf_fmt("%s/written", upper);
    ck_assert_msg(nsf_exists(w), "%s is missing", w);
    free(w);
    free(p);
    free(odd);
    free(rw);
    free(upper);
    free(work);
}
END_TEST

HCS_TEST_SUITE(ns_root_suite)
{
    Suite *s = suite_create("ns_root");
    TCase *tc = tcase_create("root");
    tcase_add_checked_fixture(tc, nsf_setup, nsf_teardown);
    tcase_set_timeout(tc, 60);
    HCS_ADD_ROOT_TEST(tc, enter_root__shows_the_layer_and_hides_the_host);
    HCS_ADD_ROOT_TEST(tc, enter_root__writes_go_to_the_writable_layer);
    HCS_ADD_ROOT_TEST(tc, enter_root__unions_layers_nearest_first);
    HCS_ADD_ROOT_TEST(tc, enter_root__layers_without_writable_folder_are_read_only);
    HCS_ADD_ROOT_TEST(tc, enter_root__single_layer_without_writable_folder_is_read_only);
    HCS_ADD_ROOT_TEST(tc, enter_root__a_bound_folder_is_a_read_write_root);
    HCS_ADD_ROOT_TEST(tc, union__upper_holds_a_self_contained_diff);
    HCS_ADD_ROOT_TEST(tc, enter_root__refuses_a_proc_symlink_in_the_image);
    HCS_ADD_ROOT_TEST(tc, mapped__through_an_image_symlink_stays_inside_the_root);
    HCS_ADD_ROOT_TEST(tc, mapped__read_only_is_honoured_and_read_write_reaches_the_host);
    HCS_ADD_ROOT_TEST(tc, errors__name_the_layer_index_and_path);
    HCS_ADD_ROOT_TEST(tc, union__sixty_layers_beyond_one_page_of_options);
    HCS_ADD_ROOT_TEST(tc, union__every_method_mounts_sixty_layers);
    HCS_ADD_ROOT_TEST(tc, union__paths_with_colons_and_commas);
    suite_add_tcase(s, tc);
    return s;
}
