/* silo.c - the monitor's side of a silo: clone the init into namespaces, hand it its setup. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/prctl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "rpc/rpc.h"
#include "silo.h"

#define SETUP_TIMEOUT_MS 60000

/*
 * A sealed in-memory copy of our own binary. The init runs from it, so a container process
 * that opens /proc/1/exe reaches only this copy, which nobody can write (the runc
 * /proc/self/exe class of escape).
 */
static int sealed_self(hcs_error **err)
{
    AUTOCLOSE int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (src < 0)
        return hcs_err_errno(err, errno, "open /proc/self/exe");
    struct stat st;
    if (fstat(src, &st) < 0)
        return hcs_err_errno(err, errno, "stat /proc/self/exe");
    int mfd = memfd_create("hcs-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return hcs_err_errno(err, errno, "memfd_create");
    off_t off = 0;
    while (off < st.st_size) {
        ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(mfd);
            return hcs_err_errno(err, e, "copy the init binary");
        }
    }
    if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        int e = errno;
        close(mfd);
        return hcs_err_errno(err, e, "seal the init binary");
    }
    return mfd;
}

void hcs_silo_free(hcs_silo *silo)
{
    if (silo == NULL)
        return;
    if (silo->pidfd >= 0)
        close(silo->pidfd);
    if (silo->sock >= 0)
        close(silo->sock);
    free(silo);
}

static void kill_and_reap(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

int hcs_silo_create(hcs_job *job, const cJSON *setup, hcs_silo **out, hcs_error **err)
{
    AUTOCLOSE int exe = sealed_self(err);
    if (exe < 0)
        return -1;
    int sp[2];
    if (hcs_rpc_pair(sp, err) < 0)
        return -1;
    int go[2];
    if (pipe2(go, O_CLOEXEC) < 0) {
        close(sp[0]);
        close(sp[1]);
        return hcs_err_errno(err, errno, "create a pipe");
    }
    int pidfd = -1;
    struct clone_args args = {
        .flags =
            CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_PIDFD,
        .pidfd = (uint64_t)(uintptr_t)&pidfd,
        .exit_signal = SIGCHLD,
    };
    int cgfd = hcs_job_cgroup_fd(job);
    if (cgfd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgfd;
    }
    long pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid < 0) {
        int e = errno;
        close(sp[0]);
        close(sp[1]);
        close(go[0]);
        close(go[1]);
        return hcs_err_errno(err, e, "clone the silo init into new namespaces");
    }
    if (pid == 0) {
        /* The child: wait until we are in the job, then exec the init from the sealed copy. */
        close(sp[0]);
        close(go[1]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(126);
        if (unshare(CLONE_NEWCGROUP) < 0)
            _exit(125);
        if (dup2(sp[1], 3) < 0 || dup3(exe, 4, O_CLOEXEC) < 0)
            _exit(124);
        syscall(SYS_close_range, 5, ~0U, 0);
        char *argv[] = {(char *)"hcs-init", NULL};
        char *envp[] = {NULL};
        syscall(SYS_execveat, 4, "", argv, envp, AT_EMPTY_PATH);
        _exit(127);
    }
    close(sp[1]);
    close(go[0]);
    hcs_silo *s = calloc(1, sizeof(*s));
    int rc = 0;
    if (s == NULL) {
        hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        rc = -1;
    }
    if (rc == 0 && cgfd < 0)
        rc = hcs_job_add_pid(job, (pid_t)pid, err);
    if (rc == 0 && write(go[1], "g", 1) != 1)
        rc = hcs_err_errno(err, errno, "release the silo init");
    close(go[1]);
    cJSON *req = NULL;
    if (rc == 0) {
        req = cJSON_Duplicate(setup, 1);
        if (req == NULL) {
            rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        } else {
            cJSON_AddStringToObject(req, "Op", "Setup");
            hcs_json_add_u64(req, "Id", 1);
            rc = hcs_rpc_send(sp[0], req, NULL, 0, err);
        }
    }
    cJSON_Delete(req);
    if (rc == 0) {
        struct pollfd p = {sp[0], POLLIN, 0};
        int n = poll(&p, 1, SETUP_TIMEOUT_MS);
        if (n == 0)
            rc = hcs_err_set(err, HCS_E_CONNECTION_TIMEOUT,
                             "the silo init did not finish its setup in %d s",
                             SETUP_TIMEOUT_MS / 1000);
    }
    cJSON *ans = NULL;
    if (rc == 0)
        rc = hcs_rpc_recv(sp[0], &ans, NULL, NULL, err);
    if (rc == 0 && ans == NULL) {
        int status = 0;
        waitpid((pid_t)pid, &status, WNOHANG);
        rc = hcs_err_set(err, HCS_E_TERMINATED_DURING_START,
                         "the silo init exited during setup (status 0x%x)", status);
    }
    if (rc == 0) {
        int64_t result = 0;
        hcs_json_i64(cJSON_GetObjectItemCaseSensitive(ans, "Result"), &result);
        if (result < 0)
            rc = hcs_err_set(err, (HRESULT)result, "%s",
                             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ans, "Error"))
                                 ?: "the silo init failed its setup");
    }
    cJSON_Delete(ans);
    if (rc < 0) {
        kill_and_reap((pid_t)pid);
        if (pidfd >= 0)
            close(pidfd);
        close(sp[0]);
        free(s);
        return -1;
    }
    if (s == NULL) /* not reached: a NULL s set rc above */
        return -1;
    s->init_pid = (pid_t)pid;
    s->pidfd = pidfd;
    s->sock = sp[0];
    *out = s;
    return 0;
}
