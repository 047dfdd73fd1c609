/*
 * job_v2.c - the cgroup v2 backend (pure v2 hosts; on a hybrid host the cgroup2 mount at
 * /sys/fs/cgroup/unified can be used with HCS_CGROUP_ROOT, for freeze and kill only).
 *
 * A job is <root>/hcs/<name>. memory, cpu and pids are enabled in <root>/cgroup.subtree_control
 * and <root>/hcs/cgroup.subtree_control where cgroup.controllers offers them; a controller
 * that is not there is an error only when a limit needs it. Freeze is cgroup.freeze (waiting
 * for "frozen 1" in cgroup.events); kill is cgroup.kill (Linux 5.14), else freeze, SIGKILL
 * every pid, thaw.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "common/util.h"
#include "job_internal.h"

#define FREEZE_WAIT_MS 2000

/* Does the space-separated list contain word? */
static bool words_has(const char *list, const char *word)
{
    size_t len = strlen(word);
    for (const char *p = list; *p != '\0';) {
        p += strspn(p, " \n");
        if (strncmp(p, word, len) == 0 && (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
            return true;
        p += strcspn(p, " \n");
    }
    return false;
}

/*
 * Enable memory, cpu and pids for the children of dir where dir's cgroup.controllers offers
 * them and they are not on yet. A failure is logged, not returned: only a limit that needs a
 * controller makes its absence an error (and names it then).
 */
static void enable_controllers(const char *dir)
{
    static const char *const wanted[] = {"memory", "cpu", "pids"};
    AUTOCLOSE int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    AUTOFREE char *available = NULL, *enabled = NULL;
    if (fd < 0 || hcs_job_read(fd, "cgroup.controllers", &available) < 0 ||
        hcs_job_read(fd, "cgroup.subtree_control", &enabled) < 0)
        return;
    char request[64] = "";
    for (size_t i = 0; i < HCS_ARRAY_SIZE(wanted); i++) {
        if (words_has(available, wanted[i]) && !words_has(enabled, wanted[i])) {
            size_t len = strlen(request);
            snprintf(request + len, sizeof(request) - len, "%s+%s", len ? " " : "", wanted[i]);
        }
    }
    if (request[0] != '\0' && hcs_job_write(fd, "cgroup.subtree_control", request) < 0)
        hcs_log(HCS_LOG_WARNING, "enable \"%s\" in %s/cgroup.subtree_control: %s", request, dir,
                strerror(errno));
}

static int v2_open(hcs_job *job, const char *root, bool create, bool *existed, hcs_error **err)
{
    if (create) {
        AUTOCLOSE int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
            return hcs_err_errno(err, errno, "create job %s: open cgroup2 root %s", job->name,
                                 root);
        if (!hcs_job_has_file(rootfd, "cgroup.controllers"))
            return hcs_err_set(err, HCS_E_SERVICE_NOT_AVAILABLE,
                               "create job %s: %s is not a cgroup2 mount (no cgroup.controllers)",
                               job->name, root);
        enable_controllers(root);
        if (hcs_job_make_parent(root, err) < 0)
            return -1;
        AUTOFREE char *parent = hcs_asprintf("%s/hcs", root);
        if (parent == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        enable_controllers(parent);
    }
    char *path = NULL;
    int fd = -1;
    if (hcs_job_make_dir(root, job->name, create, &path, &fd, existed, err) < 0)
        return -1;
    if (fd < 0)
        return 0;
    int i = hcs_job_add_dir(job, path, fd);
    /* A controller is usable when its files are in the job's cgroup. */
    static const char *const probe[HCS_JOB_NCTL] = {"memory.max", "cpu.max", "cpu.stat", "pids.max",
                                                    "cgroup.freeze"};
    for (int c = 0; c < HCS_JOB_NCTL; c++)
        job->ctl[c] = hcs_job_has_file(fd, probe[c]) ? i : -1;
    return 0;
}

static int v2_apply(hcs_job *job, const struct hcs_job_plan *p, hcs_error **err)
{
    char value[48];
    if (p->set_memory) {
        if (job->ctl[HCS_JOB_MEMORY] < 0) {
            if (p->memory_bytes != 0)
                return hcs_job_missing(job, HCS_JOB_MEMORY, "Memory.SizeInMB", err);
        } else {
            int fd = job->dirs[job->ctl[HCS_JOB_MEMORY]].fd;
            if (p->memory_bytes != 0)
                snprintf(value, sizeof(value), "%" PRIu64, p->memory_bytes);
            else
                snprintf(value, sizeof(value), "max");
            if (hcs_job_set(job, fd, "memory.max", value, err) < 0)
                return -1;
            /* Without swap accounting (CONFIG_MEMCG_SWAP off) there is no file to set. */
            if (hcs_job_has_file(fd, "memory.swap.max") &&
                hcs_job_set(job, fd, "memory.swap.max", p->memory_bytes != 0 ? "0" : "max", err) <
                    0)
                return -1;
        }
    }
    int cpu = job->ctl[HCS_JOB_CPU] >= 0 ? job->dirs[job->ctl[HCS_JOB_CPU]].fd : -1;
    if (p->set_cpu_quota) {
        if (cpu < 0 && p->cpu_quota_us > 0)
            return hcs_job_missing(job, HCS_JOB_CPU, p->cpu_quota_field, err);
        if (p->cpu_quota_us > 0)
            snprintf(value, sizeof(value), "%" PRId64 " %" PRId64, p->cpu_quota_us,
                     p->cpu_period_us);
        else
            snprintf(value, sizeof(value), "max %" PRId64, p->cpu_period_us);
        if (cpu >= 0 && hcs_job_set(job, cpu, "cpu.max", value, err) < 0)
            return -1;
    }
    if (p->set_cpu_weight) {
        if (cpu < 0 && p->cpu_weight != 0)
            return hcs_job_missing(job, HCS_JOB_CPU, "Processor.Weight", err);
        snprintf(value, sizeof(value), "%" PRIu64, p->cpu_weight != 0 ? p->cpu_weight : 100);
        if (cpu >= 0 && hcs_job_set(job, cpu, "cpu.weight", value, err) < 0)
            return -1;
    }
    return hcs_job_apply_pids(job, p, err);
}

static int v2_stats(hcs_job *job, hcs_job_stats *out, hcs_error **err)
{
    if (job->n_dirs == 0)
        return 0;
    int fd = job->dirs[0].fd;
    if (job->ctl[HCS_JOB_CPUACCT] >= 0) {
        AUTOFREE char *stat = NULL;
        if (hcs_job_read(fd, "cpu.stat", &stat) < 0)
            return hcs_err_errno(err, errno, "read cpu.stat of job %s", job->name);
        out->cpu_total_ns = hcs_job_keyed(stat, "usage_usec") * 1000;
        out->cpu_user_ns = hcs_job_keyed(stat, "user_usec") * 1000;
        out->cpu_kernel_ns = hcs_job_keyed(stat, "system_usec") * 1000;
    }
    if (job->ctl[HCS_JOB_MEMORY] >= 0) {
        if (hcs_job_read_u64(job, fd, "memory.current", &out->memory_usage_bytes, err) < 0)
            return -1;
        /* memory.peak: Linux 5.19 */
        if (hcs_job_has_file(fd, "memory.peak") &&
            hcs_job_read_u64(job, fd, "memory.peak", &out->memory_peak_bytes, err) < 0)
            return -1;
    }
    if (job->ctl[HCS_JOB_PIDS] >= 0)
        return hcs_job_read_u64(job, fd, "pids.current", &out->pids_current, err);
    AUTOFREE pid_t *pids = NULL;
    size_t n = 0;
    if (hcs_job_collect_pids(job, &job->dirs[0], &pids, &n, err) < 0)
        return -1;
    out->pids_current = n;
    return 0;
}

static int freeze_fd(const hcs_job *job, const char *what, hcs_error **err)
{
    if (job->ctl[HCS_JOB_FREEZER] < 0)
        return hcs_err_set(err, HCS_E_SERVICE_NOT_AVAILABLE,
                           "%s job %s: %s has no cgroup.freeze (Linux 5.2 or later needed)", what,
                           job->name, job->n_dirs > 0 ? job->dirs[0].path : "the cgroup");
    return job->dirs[job->ctl[HCS_JOB_FREEZER]].fd;
}

static bool events_frozen(int fd)
{
    AUTOFREE char *events = NULL;
    return hcs_job_read(fd, "cgroup.events", &events) == 0 && hcs_job_keyed(events, "frozen") == 1;
}

static int freeze_wait(hcs_job *job, bool rollback, hcs_error **err)
{
    int fd = freeze_fd(job, "freeze", err);
    if (fd < 0 || hcs_job_set(job, fd, "cgroup.freeze", "1", err) < 0)
        return -1;
    unsigned long long start = hcs_now_ms();
    for (unsigned attempt = 0; !events_frozen(fd); attempt++) {
        if (hcs_now_ms() - start >= FREEZE_WAIT_MS) {
            if (rollback)
                hcs_job_write(fd, "cgroup.freeze", "0");
            return hcs_err_set(err, HCS_E_WIN32_TIMEOUT,
                               "freeze job %s: %s/cgroup.events did not read \"frozen 1\" within "
                               "%d ms",
                               job->name, job->dirs[0].path, FREEZE_WAIT_MS);
        }
        hcs_job_poll_sleep(attempt);
    }
    return 0;
}

static int v2_freeze(hcs_job *job, hcs_error **err)
{
    return freeze_wait(job, true, err);
}

static int v2_thaw(hcs_job *job, hcs_error **err)
{
    int fd = freeze_fd(job, "thaw", err);
    if (fd < 0)
        return -1;
    return hcs_job_set(job, fd, "cgroup.freeze", "0", err);
}

static bool v2_frozen(hcs_job *job)
{
    return job->ctl[HCS_JOB_FREEZER] >= 0 && events_frozen(job->dirs[0].fd);
}

static int v2_kill(hcs_job *job, hcs_error **err)
{
    if (job->n_dirs == 0)
        return 0;
    if (hcs_job_write(job->dirs[0].fd, "cgroup.kill", "1") == 0)
        return 0;
    if (errno != ENOENT)
        return hcs_err_errno(err, errno, "kill job %s: write %s/cgroup.kill", job->name,
                             job->dirs[0].path);
    /* Before Linux 5.14: freeze so nothing forks, SIGKILL each process, thaw. */
    bool frozen = false;
    if (job->ctl[HCS_JOB_FREEZER] >= 0) {
        AUTOERR hcs_error *freeze_err = NULL;
        frozen = freeze_wait(job, false, &freeze_err) == 0;
    }
    int rc = 0;
    bool found = true;
    for (int round = 0; rc == 0 && found && round < (frozen ? 1 : 3); round++)
        rc = hcs_job_kill_listed(job, &found, err);
    if (job->ctl[HCS_JOB_FREEZER] >= 0 && v2_thaw(job, rc == 0 ? err : NULL) < 0)
        rc = -1;
    return rc;
}

static int v2_cgroup_fd(const hcs_job *job)
{
    return job->n_dirs > 0 ? job->dirs[0].fd : -1;
}

const struct hcs_job_ops hcs_job_v2_ops = {
    .name = "v2",
    .open = v2_open,
    .apply = v2_apply,
    .stats = v2_stats,
    .freeze = v2_freeze,
    .thaw = v2_thaw,
    .frozen = v2_frozen,
    .kill = v2_kill,
    .cgroup_fd = v2_cgroup_fd,
};
