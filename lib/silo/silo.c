/* silo.c - the monitor's side of a silo: clone the init into namespaces, hand it its setup. */
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sched.h>
#include <sys/prctl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
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
 * How much of the ELF file src (size bytes) an exec needs: up to the end of the last segment's
 * file bytes and of the program header table. Sections (symbols, debug information: most of an
 * unstripped binary) are not needed to run it. 0 when the header does not describe a file we
 * understand (then the whole file is copied).
 */
static off_t image_size(int src, off_t size, ElfW(Ehdr) * eh)
{
    if (pread(src, eh, sizeof(*eh), 0) != (ssize_t)sizeof(*eh) ||
        memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_ident[EI_CLASS] != (__ELF_NATIVE_CLASS == 64 ? ELFCLASS64 : ELFCLASS32) ||
        eh->e_phentsize != sizeof(ElfW(Phdr)) || eh->e_phnum == 0 || eh->e_phnum > 256 ||
        eh->e_phoff > (ElfW(Off))size)
        return 0;
    ElfW(Phdr) ph[256];
    size_t len = (size_t)eh->e_phnum * sizeof(ph[0]);
    if (pread(src, ph, len, (off_t)eh->e_phoff) != (ssize_t)len)
        return 0;
    ElfW(Off) end = eh->e_phoff + len;
    for (size_t i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_filesz > (ElfW(Off))size || ph[i].p_offset > (ElfW(Off))size - ph[i].p_filesz)
            return 0;
        if (ph[i].p_offset + ph[i].p_filesz > end)
            end = ph[i].p_offset + ph[i].p_filesz;
    }
    return end < sizeof(*eh) ? 0 : (off_t)end;
}

/*
 * A sealed in-memory copy of our own binary. The init runs from it, so a container process
 * that opens /proc/1/exe reaches only this copy, which nobody can write (the runc
 * /proc/self/exe class of escape). Only the image an exec maps is copied, without the section
 * headers (which then name no sections): a third of an unstripped hcsmon.
 */
static int sealed_self(hcs_error **err)
{
    AUTOCLOSE int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (src < 0)
        return hcs_err_errno(err, errno, "open /proc/self/exe");
    struct stat st;
    if (fstat(src, &st) < 0)
        return hcs_err_errno(err, errno, "stat /proc/self/exe");
    ElfW(Ehdr) eh;
    off_t size = image_size(src, st.st_size, &eh);
    bool trimmed = size > 0 && size < st.st_size;
    if (!trimmed)
        size = st.st_size;
    int mfd = memfd_create("hcs-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return hcs_err_errno(err, errno, "memfd_create");
    off_t off = 0;
    while (off < size) {
        ssize_t n = sendfile(mfd, src, &off, (size_t)(size - off));
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(mfd);
            return hcs_err_errno(err, e, "copy the init binary");
        }
    }
    if (trimmed) {
        eh.e_shoff = 0;
        eh.e_shnum = 0;
        eh.e_shstrndx = SHN_UNDEF;
        if (pwrite(mfd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh)) {
            int e = errno;
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

int hcs_silo_kill(const hcs_silo *silo)
{
    if (silo == NULL || silo->pidfd < 0) {
        errno = ESRCH;
        return -1;
    }
    return (int)syscall(SYS_pidfd_send_signal, silo->pidfd, SIGKILL, NULL, 0);
}

/* What the init's child half needs between clone and exec (it shares our memory until then). */
struct init_child {
    const hcs_job *job;
    int sock, exe, errfd;
};

/* A failed step of the child, sent over its error pipe. */
struct init_failure {
    int errnum;
    char step[60];
};

/*
 * The init's child half, on its own stack in our memory, while we wait (CLONE_VFORK): join the
 * job, take a cgroup namespace rooted at its cgroup, exec the init from the sealed copy with the
 * silo socket at 3 and the copy at 4. Only system calls: no allocation, no lock, no error
 * objects. Every signal stays blocked (as we blocked them before the clone) until the exec'd
 * init sets its own mask, so no handler of ours ever runs here.
 */
static int init_child_main(void *arg)
{
    const struct init_child *a = arg;
    struct init_failure f = {0};
    const char *step = "join the job";
    int errfd = a->errfd, exe = -1, sock = -1;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (hcs_job_join_self(a->job) < 0)
        goto fail;
    step = "create the cgroup namespace";
    if (unshare(CLONE_NEWCGROUP) < 0)
        goto fail;
    step = "arrange the descriptors";
    /* Out of the way of 3 and 4 first, whatever numbers they had. */
    errfd = fcntl(a->errfd, F_DUPFD_CLOEXEC, 5);
    if (errfd < 0) {
        errfd = a->errfd;
        goto fail;
    }
    exe = fcntl(a->exe, F_DUPFD_CLOEXEC, 5);
    sock = fcntl(a->sock, F_DUPFD_CLOEXEC, 5);
    if (exe < 0 || sock < 0 || dup2(sock, 3) < 0 || dup3(exe, 4, O_CLOEXEC) < 0)
        goto fail;
    /* Everything else closes at the exec (the error pipe too, which tells our parent it worked). */
    syscall(SYS_close_range, 5, ~0U, CLOSE_RANGE_CLOEXEC);
    step = "exec the init";
    char *argv[] = {(char *)"hcs-init", NULL};
    char *envp[] = {NULL};
    syscall(SYS_execveat, 4, "", argv, envp, AT_EMPTY_PATH);
fail:
    f.errnum = errno;
    strncpy(f.step, step, sizeof(f.step) - 1);
    if (write(errfd, &f, sizeof(f)) < 0)
        _exit(127);
    _exit(127);
}

/*
 * Clone the init into new namespaces, sharing our memory until it execs (CLONE_VM|CLONE_VFORK,
 * as posix_spawn does): no copy of the monitor's address space is made and torn down again, a
 * millisecond on a machine where page tables are expensive. Returns the pid (and *pidfd) once
 * the init has exec'd, or -1 with *err.
 */
static pid_t clone_init(const hcs_job *job, int sock, int exe, int *pidfd, hcs_error **err)
{
    int ep[2];
    if (pipe2(ep, O_CLOEXEC) < 0)
        return hcs_err_errno(err, errno, "create a pipe");
    struct init_child a = {job, sock, exe, ep[1]};
    /* The child's stack: ours, below this frame, is idle while the child runs. */
    char stack[32768] __attribute__((aligned(16)));
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = clone(init_child_main, stack + sizeof(stack),
                      CLONE_VM | CLONE_VFORK | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS |
                          CLONE_NEWIPC | CLONE_NEWNET | CLONE_PIDFD | SIGCHLD,
                      &a, pidfd);
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(ep[1]);
    if (pid < 0) {
        close(ep[0]);
        return hcs_err_errno(err, clone_errno, "clone the silo init into new namespaces");
    }
    struct init_failure f;
    ssize_t n;
    do
        n = read(ep[0], &f, sizeof(f));
    while (n < 0 && errno == EINTR);
    close(ep[0]);
    if (n == 0)
        return pid; /* the pipe closed at the exec */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    close(*pidfd);
    *pidfd = -1;
    if (n != (ssize_t)sizeof(f))
        return hcs_err_set(err, HCS_E_TERMINATED_DURING_START,
                           "the silo init exited before its exec");
    f.step[sizeof(f.step) - 1] = '\0';
    return hcs_err_errno(err, f.errnum, "start the silo init: %s", f.step);
}

int hcs_silo_start(const hcs_job *job, hcs_silo **out, hcs_error **err)
{
    *out = NULL;
    AUTOCLOSE int exe = sealed_self(err);
    if (exe < 0)
        return -1;
    hcs_silo *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    int sp[2];
    if (hcs_rpc_pair(sp, err) < 0) {
        free(s);
        return -1;
    }
    s->pidfd = -1;
    s->init_pid = clone_init(job, sp[1], exe, &s->pidfd, err);
    close(sp[1]);
    if (s->init_pid < 0) {
        close(sp[0]);
        free(s);
        return -1;
    }
    s->sock = sp[0];
    *out = s;
    return 0;
}

int hcs_silo_setup(hcs_silo *silo, const cJSON *setup, hcs_error **err)
{
    AUTOJSON cJSON *req = cJSON_Duplicate(setup, 1);
    if (req == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    cJSON_AddStringToObject(req, "Op", "Setup");
    hcs_json_add_u64(req, "Id", 1);
    if (hcs_rpc_send(silo->sock, req, NULL, 0, err) < 0)
        return -1;
    struct pollfd p = {silo->sock, POLLIN, 0};
    int n;
    do
        n = poll(&p, 1, SETUP_TIMEOUT_MS);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return hcs_err_set(err, HCS_E_CONNECTION_TIMEOUT,
                           "the silo init did not finish its setup in %d s",
                           SETUP_TIMEOUT_MS / 1000);
    AUTOJSON cJSON *ans = NULL;
    if (hcs_rpc_recv(silo->sock, &ans, NULL, NULL, err) < 0)
        return -1;
    if (ans == NULL) {
        int status = 0;
        siginfo_t si = {0};
        if (waitid(P_PIDFD, (id_t)silo->pidfd, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
            status = si.si_status;
        return hcs_err_set(err, HCS_E_TERMINATED_DURING_START,
                           "the silo init exited during setup (status 0x%x)", status);
    }
    int64_t result = 0;
    hcs_json_i64(cJSON_GetObjectItemCaseSensitive(ans, "Result"), &result);
    if (result < 0)
        return hcs_err_set(err, (HRESULT)result, "%s",
                           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ans, "Error"))
                               ?: "the silo init failed its setup");
    return 0;
}

void hcs_silo_destroy(hcs_silo *silo)
{
    if (silo == NULL)
        return;
    hcs_silo_kill(silo);
    while (waitpid(silo->init_pid, NULL, __WALL) < 0 && errno == EINTR)
        ;
    hcs_silo_free(silo);
}
