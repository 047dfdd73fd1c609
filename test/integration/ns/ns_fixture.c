/* ns_fixture.c - folders, busybox layer, namespace runner and mount-leak check (ns_fixture.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "ns_fixture.h"

struct nsf_state nsf;

static int report_fd = -1;
static int mounts_before;

char *nsf_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = hcs_vasprintf(fmt, ap);
    va_end(ap);
    if (s == NULL)
        nsf_fail(__FILE__, __LINE__, "s != NULL", "out of memory");
    return s;
}

/*
 * Lines of the host's mount table, leaving out /run/netns itself: `ip netns add` (used by a
 * test) bind-mounts /run/netns onto itself the first time and never undoes it.
 */
static int count_mounts(void)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    ck_assert_ptr_nonnull(f);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, " /run/netns ") == NULL)
            n++;
    fclose(f);
    return n;
}

static void mkdirs(const char *path)
{
    hcs_error *e = NULL;
    if (hcs_mkdir_p(path, 0755, &e) < 0)
        nsf_fail(__FILE__, __LINE__, "mkdir", "%s", e->message);
}

void nsf_write(const char *path, const char *content)
{
    char *dir = nsf_fmt("%s", path);
    *strrchr(dir, '/') = '\0';
    if (dir[0] != '\0')
        mkdirs(dir);
    free(dir);
    FILE *f = fopen(path, "we");
    if (f == NULL)
        nsf_fail(__FILE__, __LINE__, "fopen", "create %s: %s", path, strerror(errno));
    fputs(content, f);
    fclose(f);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        nsf_fail(__FILE__, __LINE__, "open", "%s: %s (install busybox-static)", from,
                 strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (out < 0)
        nsf_fail(__FILE__, __LINE__, "open", "create %s: %s", to, strerror(errno));
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n)
            nsf_fail(__FILE__, __LINE__, "write", "%s: %s", to, strerror(errno));
    close(in);
    close(out);
}

void nsf_make_busybox_layer(const char *dir)
{
    static const char *const folders[] = {"bin", "dev", "proc", "sys", "tmp", "mnt", "etc"};
    static const char *const applets[] = {"sh", "ls", "cat", "echo", "touch", "mkdir", "stat"};
    for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
        char *p = nsf_fmt("%s/%s", dir, folders[i]);
        mkdirs(p);
        free(p);
    }
    char *bb = nsf_fmt("%s/bin/busybox", dir);
    copy_file("/bin/busybox", bb, 0755);
    free(bb);
    for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++) {
        char *p = nsf_fmt("%s/bin/%s", dir, applets[i]);
        if (symlink("busybox", p) < 0)
            nsf_fail(__FILE__, __LINE__, "symlink", "%s: %s", p, strerror(errno));
        free(p);
    }
    char *group = nsf_fmt("%s/etc/group", dir);
    nsf_write(group, "root:x:0:\ntty:x:5:\n");
    free(group);
}

void nsf_setup(void)
{
    mounts_before = count_mounts();
    hcs_test_roots_setup();
    memset(&nsf, 0, sizeof(nsf));
    snprintf(nsf.base, sizeof(nsf.base), "%s", hcs_test_root());
    snprintf(nsf.layer0, sizeof(nsf.layer0), "%s/layer0", nsf.base);
    snprintf(nsf.rw, sizeof(nsf.rw), "%s/rw", nsf.base);
    snprintf(nsf.rootfs, sizeof(nsf.rootfs), "%s/rootfs", nsf.base);
    snprintf(nsf.host_marker, sizeof(nsf.host_marker), "%s/host-marker", nsf.base);
    nsf_make_busybox_layer(nsf.layer0);
    mkdirs(nsf.rw);
    snprintf(nsf.upper, sizeof(nsf.upper), "%s/rw/upper", nsf.base);
    snprintf(nsf.work, sizeof(nsf.work), "%s/rw/work", nsf.base);
    mkdirs(nsf.upper);
    mkdirs(nsf.work);
    mkdirs(nsf.rootfs);
    nsf_write(nsf.host_marker, "host\n");
    nsf.layers[0] = nsf.layer0;
    nsf.root.layers = nsf.layers;
    nsf.root.n_layers = 1;
    nsf.root.upper = nsf.upper;
    nsf.root.work = nsf.work;
    nsf.root.mountpoint = nsf.rootfs;
}

void nsf_teardown(void)
{
    int after = count_mounts();
    hcs_test_roots_teardown();
    ck_assert_msg(after == mounts_before, "the host has %d mounts after the test, %d before", after,
                  mounts_before);
}

char *nsf_read(const char *path)
{
    char *s = NULL;
    hcs_error *e = NULL;
    if (hcs_read_file_at(AT_FDCWD, path, 1 << 20, &s, NULL, &e) < 0) {
        hcs_err_free(e);
        return NULL;
    }
    return s;
}

bool nsf_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

void nsf_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    char msg[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (report_fd < 0) {
        /* In the test process itself (fixture helpers): a normal Check failure. */
        ck_abort_msg("%s:%d: %s: %s", file, line, cond, msg);
        _exit(1); /* not reached */
    }
    dprintf(report_fd, "%s:%d: check `%s` failed: %s", file, line, cond, msg);
    _exit(1);
}

void nsf_run(nsf_body body, void *arg, nsf_result *out)
{
    int p[2];
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        close(p[0]);
        report_fd = p[1];
        if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID) < 0)
            nsf_fail(__FILE__, __LINE__, "unshare", "%s", strerror(errno));
        /* The first child of a new pid namespace is its pid 1: that one runs the body. */
        pid_t init = fork();
        if (init < 0)
            nsf_fail(__FILE__, __LINE__, "fork", "%s", strerror(errno));
        if (init == 0) {
            body(arg);
            _exit(0);
        }
        close(p[1]);
        int st = 0;
        while (waitpid(init, &st, 0) < 0 && errno == EINTR)
            ;
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
    close(p[1]);
    size_t used = 0;
    for (;;) {
        ssize_t n = read(p[0], out->msg + used, sizeof(out->msg) - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
        if (used == sizeof(out->msg) - 1)
            break;
    }
    out->msg[used] = '\0';
    close(p[0]);
    int st = 0;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    out->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void nsf_check_erofs(const char *file, int line, const char *path, int flags)
{
    int rc = flags == -1 ? mkdir(path, 0755) : open(path, flags | O_CLOEXEC, 0644);
    if (rc < 0 && errno == EROFS)
        return;
    if (rc < 0)
        nsf_fail(file, line, "EROFS", "%s %s: %s (expected EROFS)", flags == -1 ? "mkdir" : "open",
                 path, strerror(errno));
    nsf_fail(file, line, "EROFS", "%s %s succeeded (expected EROFS)",
             flags == -1 ? "mkdir" : "open for writing", path);
}

void nsf_enter(const hcs_ns_root *root)
{
    hcs_error *e = NULL;
    if (hcs_ns_enter_root(root, &e) < 0)
        nsf_fail(__FILE__, __LINE__, "hcs_ns_enter_root", "%s", e->message);
}

int nsf_exec(const char *const *argv, char *out, size_t size)
{
    int p[2];
    NSF_CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    NSF_CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(p[1], 1);
        char *args[16] = {NULL};
        for (size_t i = 0; i < 15 && argv[i] != NULL; i++)
            args[i] = strdup(argv[i]);
        execv(args[0], args);
        _exit(127);
    }
    close(p[1]);
    size_t used = 0;
    ssize_t n;
    while (used + 1 < size && (n = read(p[0], out + used, size - 1 - used)) > 0)
        used += (size_t)n;
    out[used] = '\0';
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *nsf_list(const char *path)
{
    DIR *d = opendir(path);
    NSF_CHECK(d != NULL, "opendir %s: %s", path, strerror(errno));
    char *names[512];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 512)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            names[n++] = nsf_fmt("%s", de->d_name);
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_str);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(names[i]) + 1;
    char *s = malloc(len);
    NSF_CHECK(s != NULL, "out of memory");
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(s, " ");
        strcat(s, names[i]);
        free(names[i]);
    }
    return s;
}
