/*
 * backend.c - which union this host gets for writable layers: overlayfs when it works here,
 * else the copying fallback. Chosen once per process.
 *
 * The probe mounts a small overlay (a lower folder with a file and a whiteout, an upper and a
 * work folder) in a temporary folder under the data root, where writable layers normally live,
 * and checks what a writable layer needs: the whiteout hides, a write lands in upper. Overlay
 * fails on some file systems (an upper on overlayfs itself, on NFS, no trusted xattrs in a
 * user namespace); there the copy backend still works. Nothing is left behind: the mount is
 * undone (lazily if it must be) and the folder removed.
 *
 * The answer is kept in the runtime root (tmpfs, so it is forgotten at reboot, when the kernel
 * may have changed) as "layer-backend": "<backend> <data root>". Every monitor is a new process,
 * and a probe costs a few milliseconds of every create otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "common/util.h"
#include "writable_internal.h"

static pthread_once_t backend_once = PTHREAD_ONCE_INIT;
static enum hcs_layer_backend backend_chosen = HCS_LAYER_BACKEND_NONE;

/* The probe's checks in the prepared folder tfd (lower/, upper/, work/, merged/). */
static bool probe_mounted(int tfd)
{
    struct stat st;
    /* The whiteout hides lower/gone; lower/file shows through. */
    if (fstatat(tfd, "merged/gone", &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
        return false;
    if (fstatat(tfd, "merged/file", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
        return false;
    /* A write lands in upper. */
    int fd = openat(tfd, "merged/new", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    bool written = write(fd, "x", 1) == 1;
    close(fd);
    return written && fstatat(tfd, "upper/new", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISREG(st.st_mode) && st.st_size == 1;
}

/* Prepare the probe's folders in tfd and try the mount; the caller removes the folder. */
static bool probe_in(int tfd, const char *tmp)
{
    static const char *const folders[] = {"lower", "upper", "work", "merged"};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(folders); i++)
        if (mkdirat(tfd, folders[i], 0755) < 0)
            return false;
    if (mknodat(tfd, "lower/gone", S_IFCHR | 0600, makedev(0, 0)) < 0)
        return false;
    int fd = openat(tfd, "lower/file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    close(fd);

    /* Folders by descriptor: the data root's path may hold ',' or ':'. */
    AUTOCLOSE int lower = openat(tfd, "lower", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    AUTOCLOSE int upper = openat(tfd, "upper", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    AUTOCLOSE int work = openat(tfd, "work", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lower < 0 || upper < 0 || work < 0)
        return false;
    char opts[160];
    snprintf(opts, sizeof(opts),
             "lowerdir=/proc/self/fd/%d,upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d", lower,
             upper, work);
    AUTOFREE char *merged = hcs_asprintf("%s/merged", tmp);
    if (merged == NULL)
        return false;
    if (mount("overlay", merged, "overlay", 0, opts) < 0) {
        hcs_log(HCS_LOG_INFO, "layer backend probe: overlay at %s: %s", merged, strerror(errno));
        return false;
    }
    bool ok = probe_mounted(tfd);
    if (umount2(merged, 0) < 0 && umount2(merged, MNT_DETACH) < 0) {
        hcs_log(HCS_LOG_WARNING, "layer backend probe: unmount %s: %s", merged, strerror(errno));
        return false;
    }
    return ok;
}

enum hcs_layer_backend hcs_layer_backend_probe(const char *dir)
{
    AUTOFREE char *tmp = hcs_asprintf("%s/.layer-probe-XXXXXX", dir);
    if (tmp == NULL || mkdtemp(tmp) == NULL) {
        hcs_log(HCS_LOG_WARNING, "layer backend probe: create a folder in %s: %s; using copy", dir,
                strerror(errno));
        return HCS_LAYER_BACKEND_COPY;
    }
    bool ok = false;
    int tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tfd >= 0) {
        ok = probe_in(tfd, tmp);
        close(tfd);
    }
    AUTOERR hcs_error *rerr = NULL;
    if (hcs_remove_tree_at(AT_FDCWD, tmp, &rerr) < 0)
        hcs_log(HCS_LOG_WARNING, "layer backend probe: remove %s: %s", tmp, rerr->message);
    return ok ? HCS_LAYER_BACKEND_OVERLAY : HCS_LAYER_BACKEND_COPY;
}

#define CACHE_NAME "layer-backend"

/* The answer of an earlier probe of data_root in this boot, if the runtime root has one. */
static bool cached(const char *data_root)
{
    AUTOFREE char *run = hcs_ctx_runtime_root();
    AUTOFREE char *path = run ? hcs_asprintf("%s/" CACHE_NAME, run) : NULL;
    AUTOFREE char *text = NULL;
    size_t len = 0;
    if (path == NULL || hcs_read_file_at(AT_FDCWD, path, 8192, &text, &len, NULL) < 0)
        return false;
    char *space = strchr(text, ' ');
    if (space == NULL || strcmp(space + 1, data_root) != 0)
        return false;
    *space = '\0';
    for (int b = HCS_LAYER_BACKEND_OVERLAY; b <= HCS_LAYER_BACKEND_COPY; b++)
        if (strcmp(text, hcs_layer_backend_name((enum hcs_layer_backend)b)) == 0) {
            backend_chosen = (enum hcs_layer_backend)b;
            return true;
        }
    return false;
}

/* Keep the probe's answer for the next process (best effort: a failure only costs a probe). */
static void remember(const char *data_root)
{
    AUTOFREE char *run = hcs_ctx_runtime_root();
    AUTOFREE char *text = hcs_asprintf("%s %s", hcs_layer_backend_name(backend_chosen), data_root);
    if (run == NULL || text == NULL || hcs_mkdir_p(run, 0700, NULL) < 0)
        return;
    AUTOCLOSE int rfd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rfd >= 0)
        (void)hcs_write_file_atomic(rfd, CACHE_NAME, text, strlen(text), 0600, false, NULL);
}

static void choose(void)
{
    const char *forced = getenv("HCS_LAYER_BACKEND");
    if (forced != NULL && strcasecmp(forced, "overlay") == 0) {
        backend_chosen = HCS_LAYER_BACKEND_OVERLAY;
        return;
    }
    if (forced != NULL && strcasecmp(forced, "copy") == 0) {
        backend_chosen = HCS_LAYER_BACKEND_COPY;
        return;
    }
    if (forced != NULL && forced[0] != '\0')
        hcs_log(HCS_LOG_WARNING,
                "HCS_LAYER_BACKEND=%s: expected \"overlay\" or \"copy\"; probing this host",
                forced);

    AUTOFREE char *root = hcs_ctx_data_root();
    if (root != NULL && cached(root))
        return;
    const char *dir = "/tmp";
    AUTOERR hcs_error *merr = NULL;
    if (root != NULL && hcs_mkdir_p(root, 0700, &merr) == 0)
        dir = root;
    else
        hcs_log(HCS_LOG_WARNING, "layer backend probe: data root %s: %s; probing in /tmp",
                root ? root : "(out of memory)", merr ? merr->message : "");
    backend_chosen = hcs_layer_backend_probe(dir);
    hcs_log(HCS_LOG_INFO, "layer backend: %s", hcs_layer_backend_name(backend_chosen));
    if (dir == root)
        remember(root);
}

enum hcs_layer_backend hcs_layer_backend(void)
{
    pthread_once(&backend_once, choose);
    return backend_chosen;
}
