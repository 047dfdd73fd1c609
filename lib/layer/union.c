/*
 * union.c - the overlay union of layers: hcs_layer_mount_union, used by writable layers
 * (attached in the caller's mount namespace) and by the silo init (container roots, lib/ns).
 *
 * Layers are opened first (which checks them and pins them) and handed to the kernel by
 * descriptor, never by path in an option string: so ':' and ',' in paths need no escaping and
 * a chain of any length fits, whatever the 4096-byte limit of mount(2) options or the 256-byte
 * limit of an fsconfig string. Three ways, newest first (HCS_LAYER_UNION_AUTO tries them in turn):
 *   FD      fsconfig(FSCONFIG_SET_FD, "lowerdir+", fd) per layer (Linux 6.13+);
 *   PLUS    fsconfig(FSCONFIG_SET_STRING, "lowerdir+", "/proc/self/fd/N") per layer (6.8+);
 *   LEGACY  mount(2) with "lowerdir=/proc/self/fd/N:...", about 200 layers in one page.
 *
 * redirect_dir and metacopy are off so that the upper folder holds a self-contained diff (a
 * renamed folder is copied up whole, a changed file's data is in upper): it can be exported as
 * a layer and read without its lowers. index is off: no origin records tie upper to these very
 * lower folders, and the same lowers serve any number of unions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "union.h"

/* The options that make upper a self-contained diff, as key, value pairs. */
static const char *const fixed_options[][2] = {
    {"redirect_dir", "off"},
    {"metacopy", "off"},
    {"index", "off"},
};

/* The open folders of a union: layers nearest first, upper and work (or -1). */
typedef struct union_fds {
    int *layers;
    size_t n;
    int upper, work;
} union_fds;

static void union_fds_close(union_fds *f)
{
    for (size_t i = 0; f->layers != NULL && i < f->n; i++)
        if (f->layers[i] >= 0)
            close(f->layers[i]);
    free(f->layers);
    if (f->upper >= 0)
        close(f->upper);
    if (f->work >= 0)
        close(f->work);
}

static const char *what_of(const hcs_layer_union *u)
{
    return u->what != NULL ? u->what : "layers";
}

/* Open the folder path; what names it in messages ("Storage.Layers[3]", "upper folder"). */
static int open_folder(const char *what, const char *path, int *out, hcs_error **err)
{
    if (path == NULL || path[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "%s: %s: not an absolute path", what,
                           path ? path : "(null)");
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return hcs_err_errno(err, errno, "%s: %s", what, path);
    *out = fd;
    return 0;
}

static int open_union(const hcs_layer_union *u, union_fds *f, hcs_error **err)
{
    f->n = u->n_lowers;
    f->upper = f->work = -1;
    f->layers = malloc(f->n * sizeof(*f->layers));
    if (f->layers == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    for (size_t i = 0; i < f->n; i++)
        f->layers[i] = -1;
    for (size_t i = 0; i < f->n; i++) {
        char what[96];
        snprintf(what, sizeof(what), "%s[%zu]", what_of(u), i);
        if (open_folder(what, u->lowers[i], &f->layers[i], err) < 0)
            return -1;
    }
    if (u->upper == NULL)
        return 0;
    if (open_folder("upper folder", u->upper, &f->upper, err) < 0 ||
        open_folder("work folder", u->work, &f->work, err) < 0)
        return -1;
    return 0;
}

/* Read the fs context log of fsfd into buf as "; "-separated messages ("" when empty). */
void hcs_layer_fs_log(int fsfd, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (;;) {
        char line[512];
        ssize_t n = read(fsfd, line, sizeof(line) - 1);
        if (n <= 0)
            break;
        line[n] = '\0';
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        /* Lines are "e msg", "w msg" or "i msg"; keep the message. */
        const char *msg = (line[0] != '\0' && line[1] == ' ') ? line + 2 : line;
        int w = snprintf(buf + used, size - used, "%s%s", used ? "; " : "", msg);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
}

/* Append piece to s (capacity cap, *used bytes used) as far as it fits. */
static void append(char *s, size_t cap, size_t *used, const char *piece)
{
    size_t n = strlen(piece);
    if (n > cap - 1 - *used)
        n = cap - 1 - *used;
    memcpy(s + *used, piece, n);
    *used += n;
    s[*used] = '\0';
}

/* "lowerdir=/a:/b, upperdir=..., workdir=..." for messages, shortened past a few hundred bytes. */
static char *describe(const hcs_layer_union *u)
{
    const size_t cap = 2048;
    size_t used = 0;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    append(s, cap, &used, "lowerdir=");
    for (size_t i = 0; i < u->n_lowers; i++) {
        if (used > 600) {
            char more[48];
            snprintf(more, sizeof(more), ":... (%zu layers)", u->n_lowers);
            append(s, cap, &used, more);
            break;
        }
        if (i > 0)
            append(s, cap, &used, ":");
        append(s, cap, &used, u->lowers[i]);
    }
    if (u->upper != NULL) {
        append(s, cap, &used, ", upperdir=");
        append(s, cap, &used, u->upper);
        append(s, cap, &used, ", workdir=");
        append(s, cap, &used, u->work);
    }
    return s;
}

/*
 * The error for a failed overlay mount, as "mount overlay at T: [step: ]cause (options; kernel:
 * log)": the options name the real paths (the kernel saw /proc/self/fd/N or descriptors).
 */
static int overlay_error(hcs_error **err, int errnum, const hcs_layer_union *u, const char *step,
                         const char *log)
{
    char buf[128];
    const char *cause = strerror_r(errnum, buf, sizeof(buf));
    AUTOFREE char *desc = describe(u);
    return hcs_err_set(err, hcs_hresult_from_errno(errnum), "mount overlay at %s: %s%s%s (%s%s%s)",
                       u->target, step, step[0] ? ": " : "", cause, desc ? desc : "",
                       log && log[0] ? "; kernel: " : "", log ? log : "");
}

/* fsconfig key = the folder fd, by descriptor or as its /proc/self/fd path. */
static int set_folder(int fsfd, const char *key, int fd, bool by_fd)
{
    if (by_fd)
        return fsconfig(fsfd, FSCONFIG_SET_FD, key, NULL, fd);
    char path[32];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    return fsconfig(fsfd, FSCONFIG_SET_STRING, key, path, 0);
}

/* Returns 0 and *mnt, -1 with *err, or 1 when this kernel does not support the method. */
static int overlay_fsconfig(const hcs_layer_union *u, const union_fds *f, bool by_fd, int *mnt,
                            hcs_error **err)
{
    AUTOCLOSE int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
    if (fsfd < 0)
        return overlay_error(err, errno, u, "fsopen", NULL);
    char log[1024];
    for (size_t i = 0; i < f->n; i++) {
        if (set_folder(fsfd, "lowerdir+", f->layers[i], by_fd) < 0) {
            int e = errno;
            if (i == 0 && e == EINVAL)
                return 1; /* "lowerdir+" unknown, or no descriptor values: an older kernel */
            hcs_layer_fs_log(fsfd, log, sizeof(log));
            return hcs_err_errno(err, e, "mount overlay at %s: %s[%zu]: %s%s%s", u->target,
                                 what_of(u), i, u->lowers[i], log[0] ? ": " : "", log);
        }
    }
    if (f->upper >= 0) {
        static const char *const keys[] = {"upperdir", "workdir"};
        const int fds[] = {f->upper, f->work};
        const char *const paths[] = {u->upper, u->work};
        for (size_t k = 0; k < 2; k++) {
            if (set_folder(fsfd, keys[k], fds[k], by_fd) < 0) {
                int e = errno;
                hcs_layer_fs_log(fsfd, log, sizeof(log));
                return hcs_err_errno(err, e, "mount overlay at %s: %s %s%s%s", u->target, keys[k],
                                     paths[k], log[0] ? ": " : "", log);
            }
        }
    }
    for (size_t k = 0; k < HCS_ARRAY_SIZE(fixed_options); k++) {
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, fixed_options[k][0], fixed_options[k][1], 0) < 0) {
            int e = errno;
            hcs_layer_fs_log(fsfd, log, sizeof(log));
            return hcs_err_errno(err, e, "mount overlay at %s: option %s=%s%s%s", u->target,
                                 fixed_options[k][0], fixed_options[k][1], log[0] ? ": " : "", log);
        }
    }
    if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        int e = errno;
        hcs_layer_fs_log(fsfd, log, sizeof(log));
        return overlay_error(err, e, u, "", log);
    }
    AUTOCLOSE int m = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
    if (m < 0)
        return overlay_error(err, errno, u, "fsmount", NULL);
    if (move_mount(m, "", AT_FDCWD, u->target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return overlay_error(err, errno, u, "move_mount", NULL);
    *mnt = steal_fd(&m);
    return 0;
}

static int too_long(const hcs_layer_union *u, hcs_error **err)
{
    return hcs_err_set(err, HCS_E_NOT_SUPPORTED,
                       "mount overlay at %s: %zu layers do not fit the 4096-byte mount options of "
                       "this kernel (Linux 6.8 or later has no such limit)",
                       u->target, u->n_lowers);
}

static int overlay_legacy(const hcs_layer_union *u, const union_fds *f, int *mnt, hcs_error **err)
{
    /* mount(2) copies one page of options; the kernel's limit counts the final NUL. */
    char opts[4096];
    size_t used = 0;
    for (size_t i = 0; i < f->n; i++) {
        int w = snprintf(opts + used, sizeof(opts) - used, "%s/proc/self/fd/%d",
                         i ? ":" : "lowerdir=", f->layers[i]);
        if (w < 0 || (size_t)w >= sizeof(opts) - used)
            return too_long(u, err);
        used += (size_t)w;
    }
    if (f->upper >= 0) {
        int w = snprintf(opts + used, sizeof(opts) - used,
                         ",upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d", f->upper, f->work);
        if (w < 0 || (size_t)w >= sizeof(opts) - used)
            return too_long(u, err);
        used += (size_t)w;
    }
    for (size_t k = 0; k < HCS_ARRAY_SIZE(fixed_options); k++) {
        int w = snprintf(opts + used, sizeof(opts) - used, ",%s=%s", fixed_options[k][0],
                         fixed_options[k][1]);
        if (w < 0 || (size_t)w >= sizeof(opts) - used)
            return too_long(u, err);
        used += (size_t)w;
    }
    if (mount("overlay", u->target, "overlay", 0, opts) < 0)
        return overlay_error(err, errno, u, "", NULL);
    int m = open(u->target, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (m < 0)
        return hcs_err_errno(err, errno, "open the union at %s", u->target);
    *mnt = m;
    return 0;
}

static int check(const hcs_layer_union *u, hcs_error **err)
{
    if (u->lowers == NULL || u->n_lowers == 0)
        return hcs_err_set(err, E_INVALIDARG, "%s: at least one layer is needed", what_of(u));
    if (u->n_lowers > HCS_LAYER_MAX_LOWERS)
        return hcs_err_set(err, E_INVALIDARG, "%s: %zu layers; overlayfs stacks at most %d",
                           what_of(u), u->n_lowers, HCS_LAYER_MAX_LOWERS);
    if ((u->upper == NULL) != (u->work == NULL))
        return hcs_err_set(err, E_INVALIDARG,
                           "mount overlay: an upper folder needs a work folder and the reverse "
                           "(upper %s, work %s)",
                           u->upper ? u->upper : "none", u->work ? u->work : "none");
    if (u->target == NULL || u->target[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "mount overlay: the mount point %s is not absolute",
                           u->target ? u->target : "(null)");
    struct stat st;
    if (stat(u->target, &st) < 0)
        return hcs_err_errno(err, errno, "mount overlay: mount point %s", u->target);
    if (!S_ISDIR(st.st_mode))
        return hcs_err_set(err, E_INVALIDARG, "mount overlay: mount point %s is not a folder",
                           u->target);
    return 0;
}

int hcs_layer_union_mount(const hcs_layer_union *u, enum hcs_layer_union_method method, int *mnt,
                          hcs_error **err)
{
    if (mnt != NULL)
        *mnt = -1;
    if (check(u, err) < 0)
        return -1;
    union_fds f = {0};
    int m = -1;
    int rc = open_union(u, &f, err);
    if (rc == 0) {
        rc = 1;
        if (method == HCS_LAYER_UNION_AUTO || method == HCS_LAYER_UNION_FD)
            rc = overlay_fsconfig(u, &f, true, &m, err);
        if (rc == 1 && (method == HCS_LAYER_UNION_AUTO || method == HCS_LAYER_UNION_PLUS))
            rc = overlay_fsconfig(u, &f, false, &m, err);
        if (rc == 1 && (method == HCS_LAYER_UNION_AUTO || method == HCS_LAYER_UNION_LEGACY))
            rc = overlay_legacy(u, &f, &m, err);
        if (rc == 1)
            rc = hcs_err_set(err, HCS_E_NOT_SUPPORTED,
                             "mount overlay at %s: this kernel does not support the requested "
                             "way of passing layers",
                             u->target);
    }
    union_fds_close(&f);
    if (rc < 0)
        return -1;
    if (mnt != NULL)
        *mnt = m;
    else
        close(m);
    return 0;
}

int hcs_layer_mount_union(const hcs_layer_union *u, hcs_error **err)
{
    return hcs_layer_union_mount(u, HCS_LAYER_UNION_AUTO, NULL, err);
}
