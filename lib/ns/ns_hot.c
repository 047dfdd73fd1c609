/*
 * ns_hot.c - mapped directories added to or removed from a running silo (HcsModifyComputeSystem).
 *
 * A forked helper clones the host folder as a detached mount in the host's mount namespace,
 * joins the silo's mount namespace (setns needs a single-threaded process: the fork) and
 * attaches it there, resolving the target inside the container's root.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "ns.h"
#include "ns_internal.h"

/* Run fn in a forked child; its error message comes back through a pipe. */
static int in_child(pid_t init_pid, const hcs_ns_mount *m, bool add, hcs_error **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return hcs_err_errno(err, errno, "create a pipe");
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return hcs_err_errno(err, e, "fork");
    }
    if (pid == 0) {
        close(p[0]);
        hcs_error *cerr = NULL;
        int mnt = -1, target = -1;
        struct stat st;
        if (add && stat(m->host_path, &st) < 0)
            hcs_err_errno(&cerr, errno, "HostPath %s", m->host_path);
        if (cerr == NULL && add &&
            hcs_ns_clone_tree(AT_FDCWD, m->host_path, true, m->read_only ? MOUNT_ATTR_RDONLY : 0,
                              &mnt, &cerr) < 0)
            hcs_err_wrap(&cerr, "HostPath %s", m->host_path);
        char ns[64];
        snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)init_pid);
        int nsfd = cerr == NULL ? open(ns, O_RDONLY | O_CLOEXEC) : -1;
        if (cerr == NULL && (nsfd < 0 || setns(nsfd, CLONE_NEWNS) < 0))
            hcs_err_errno(&cerr, errno, "join the container's mount namespace");
        int rootfd = cerr == NULL ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
        if (cerr == NULL && add) {
            if (hcs_ns_make_target(rootfd, "the container", m->container_path, S_ISDIR(st.st_mode),
                                   &target, &cerr) == 0 &&
                hcs_ns_attach(mnt, target) < 0)
                hcs_err_errno(&cerr, errno, "mount %s at %s in the container", m->host_path,
                              m->container_path);
        } else if (cerr == NULL) {
            /* After setns our root is the container's, so an absolute path cannot leave
             * it (and /proc there is the container's: no /proc/self/fd for our fds). */
            if (umount2(m->container_path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                hcs_err_errno(&cerr, errno, "unmount %s in the container", m->container_path);
        }
        if (cerr != NULL && write(p[1], cerr->message, strlen(cerr->message)) < 0)
            _exit(2);
        _exit(cerr != NULL ? 1 : 0);
    }
    close(p[1]);
    char msg[1024];
    ssize_t n;
    do
        n = read(p[0], msg, sizeof(msg) - 1);
    while (n < 0 && errno == EINTR);
    close(p[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (n > 0) {
        msg[n] = '\0';
        return hcs_err_set(err, E_INVALIDARG, "%s", msg);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return hcs_err_set(err, E_FAIL, "the mount helper failed (status 0x%x)", status);
    return 0;
}

int hcs_ns_hot_mount(pid_t init_pid, const hcs_ns_mount *m, hcs_error **err)
{
    return in_child(init_pid, m, true, err);
}

int hcs_ns_hot_unmount(pid_t init_pid, const char *container_path, hcs_error **err)
{
    hcs_ns_mount m = {.container_path = container_path};
    return in_child(init_pid, &m, false, err);
}
