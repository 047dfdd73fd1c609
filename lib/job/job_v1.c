/*
 * job_v1.c - the cgroup v1 backend (v1 and hybrid hosts).
 *
 * A job is <mount>/hcs/<name> in the hierarchies of memory, cpu, cpuacct, pids and freezer,
 * each found in /proc/self/mountinfo under the cgroup root (co-mounted controllers such as
 * "cpu,cpuacct" share one directory). memory, pids and freezer are required; cpu and cpuacct
 * are used when mounted. Freeze is freezer.state; kill is freeze, SIGKILL every pid, thaw (a
 * frozen task cannot fork, so none escapes, and a v1-frozen task only dies once thawed).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "job_internal.h"

#define FREEZE_WAIT_MS 2000

static const char *const ctl_names[HCS_JOB_NCTL] = {"memory", "cpu", "cpuacct", "pids", "freezer"};
static const bool ctl_required[HCS_JOB_NCTL] = {true, false, false, true, true};

/* Undo mountinfo's octal escapes ("\040" for a space) in place. */
static void unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r != '\0'; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static bool under(const char *path, const char *root)
{
    size_t len = strlen(root);
    return strncmp(path, root, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

/* Does the comma-separated list contain word? */
static bool list_has(const char *list, const char *word)
{
    size_t len = strlen(word);
    for (const char *p = list; p != NULL; p = strchr(p, ',')) {
        if (*p == ',')
            p++;
        if (strncmp(p, word, len) == 0 && (p[len] == ',' || p[len] == '\0'))
            return true;
    }
    return false;
}

/*
 * Fill mounts[] with the mount point of each controller's hierarchy under root, from
 * /proc/self/mountinfo: "id parent maj:min root mountpoint options [optional...] - fstype
 * source superoptions".
 */
static int find_mounts(const char *root, char *mounts[HCS_JOB_NCTL], hcs_error **err)
{
    AUTOFREE char *text = NULL;
    if (hcs_job_read(AT_FDCWD, "/proc/self/mountinfo", &text) < 0)
        return hcs_err_errno(err, errno, "read /proc/self/mountinfo");
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *fields[6] = {0}, *fs = NULL, *super = NULL, *fsave = NULL;
        int n = 0;
        bool after_dash = false;
        for (char *f = strtok_r(line, " ", &fsave); f != NULL; f = strtok_r(NULL, " ", &fsave)) {
            if (!after_dash && n < 6) {
                fields[n++] = f;
                continue;
            }
            if (!after_dash) {
                after_dash = strcmp(f, "-") == 0;
            } else if (fs == NULL) {
                fs = f;
            } else {
                /* f is the source; the superoptions follow it. */
                super = strtok_r(NULL, " ", &fsave);
                break;
            }
        }
        if (n < 6 || fs == NULL || super == NULL || strcmp(fs, "cgroup") != 0)
            continue;
        char *mp = fields[4];
        unescape(mp);
        if (!under(mp, root))
            continue;
        for (int c = 0; c < HCS_JOB_NCTL; c++) {
            if (mounts[c] == NULL && list_has(super, ctl_names[c])) {
                mounts[c] = strdup(mp);
                if (mounts[c] == NULL)
                    return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            }
        }
    }
    return 0;
}

/*
 * A fake tree (HCS_CGROUP_ROOT in tests) has plain directories named after controllers
 * ("memory", or "cpu,cpuacct" for co-mounted ones) and no mounts.
 */
static int find_fake_mounts(const char *root, char *mounts[HCS_JOB_NCTL], hcs_error **err)
{
    for (int c = 0; c < HCS_JOB_NCTL; c++) {
        if (mounts[c] != NULL)
            continue;
        const char *candidates[] = {ctl_names[c], "cpu,cpuacct", "cpuacct,cpu"};
        size_t n = c == HCS_JOB_CPU || c == HCS_JOB_CPUACCT ? 3 : 1;
        for (size_t i = 0; i < n && mounts[c] == NULL; i++) {
            AUTOFREE char *p = hcs_asprintf("%s/%s", root, candidates[i]);
            if (p == NULL)
                return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            struct stat st;
            if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
                mounts[c] = steal_ptr(&p);
        }
    }
    return 0;
}

static int v1_open(hcs_job *job, const char *root, bool create, bool *existed, hcs_error **err)
{
    char *mounts[HCS_JOB_NCTL] = {0};
    int rc = find_mounts(root, mounts, err);
    if (rc == 0 && strcmp(root, "/sys/fs/cgroup") != 0)
        rc = find_fake_mounts(root, mounts, err);
    for (int c = 0; rc == 0 && create && c < HCS_JOB_NCTL; c++)
        if (ctl_required[c] && mounts[c] == NULL)
            rc = hcs_err_set(err, HCS_E_SERVICE_NOT_AVAILABLE,
                             "create job %s: the cgroup v1 %s controller is not mounted under %s",
                             job->name, ctl_names[c], root);
    for (int c = 0; rc == 0 && c < HCS_JOB_NCTL; c++) {
        if (mounts[c] == NULL)
            continue;
        /* Co-mounted with a controller already opened: the same directory. */
        for (int prev = 0; prev < c; prev++)
            if (mounts[prev] != NULL && strcmp(mounts[prev], mounts[c]) == 0)
                job->ctl[c] = job->ctl[prev];
        if (job->ctl[c] >= 0)
            continue;
        char *path = NULL;
        int fd = -1;
        rc = hcs_job_make_dir(mounts[c], job->name, create, &path, &fd, existed, err);
        if (rc == 0 && fd >= 0)
            job->ctl[c] = hcs_job_add_dir(job, path, fd);
    }
    for (int c = 0; c < HCS_JOB_NCTL; c++)
        free(mounts[c]);
    return rc;
}

static int v1_apply_memory(hcs_job *job, const struct hcs_job_plan *p, hcs_error **err)
{
    if (job->ctl[HCS_JOB_MEMORY] < 0)
        return p->memory_bytes != 0 ? hcs_job_missing(job, HCS_JOB_MEMORY, "Memory.SizeInMB", err)
                                    : 0;
    int fd = job->dirs[job->ctl[HCS_JOB_MEMORY]].fd;
    char value[32];
    if (p->memory_bytes != 0)
        snprintf(value, sizeof(value), "%" PRIu64, p->memory_bytes);
    else
        snprintf(value, sizeof(value), "-1");
    if (!hcs_job_has_file(fd, "memory.memsw.limit_in_bytes")) /* no swap accounting */
        return hcs_job_set(job, fd, "memory.limit_in_bytes", value, err);
    /* The kernel keeps memsw >= limit: raise memsw first, lower it last. */
    uint64_t memsw;
    if (hcs_job_read_u64(job, fd, "memory.memsw.limit_in_bytes", &memsw, err) < 0)
        return -1;
    uint64_t want = p->memory_bytes != 0 ? p->memory_bytes : UINT64_MAX;
    if (want > memsw)
        return hcs_job_set(job, fd, "memory.memsw.limit_in_bytes", value, err) < 0 ||
                       hcs_job_set(job, fd, "memory.limit_in_bytes", value, err) < 0
                   ? -1
                   : 0;
    return hcs_job_set(job, fd, "memory.limit_in_bytes", value, err) < 0 ||
                   hcs_job_set(job, fd, "memory.memsw.limit_in_bytes", value, err) < 0
               ? -1
               : 0;
}

static int v1_apply(hcs_job *job, const struct hcs_job_plan *p, hcs_error **err)
{
    if (p->set_memory && v1_apply_memory(job, p, err) < 0)
        return -1;
    int cpu = job->ctl[HCS_JOB_CPU] >= 0 ? job->dirs[job->ctl[HCS_JOB_CPU]].fd : -1;
    char value[32];
    if (p->set_cpu_quota) {
        if (cpu < 0 && p->cpu_quota_us > 0)
            return hcs_job_missing(job, HCS_JOB_CPU, p->cpu_quota_field, err);
        if (cpu >= 0) {
            snprintf(value, sizeof(value), "%" PRId64, p->cpu_period_us);
            if (hcs_job_set(job, cpu, "cpu.cfs_period_us", value, err) < 0)
                return -1;
            snprintf(value, sizeof(value), "%" PRId64, p->cpu_quota_us);
            if (hcs_job_set(job, cpu, "cpu.cfs_quota_us", value, err) < 0)
                return -1;
        }
    }
    if (p->set_cpu_weight) {
        if (cpu < 0 && p->cpu_weight != 0)
            return hcs_job_missing(job, HCS_JOB_CPU, "Processor.Weight", err);
        snprintf(value, sizeof(value), "%" PRIu64, p->cpu_shares);
        if (cpu >= 0 && hcs_job_set(job, cpu, "cpu.shares", value, err) < 0)
            return -1;
    }
    return hcs_job_apply_pids(job, p, err);
}

static int v1_stats(hcs_job *job, hcs_job_stats *out, hcs_error **err)
{
    if (job->ctl[HCS_JOB_CPUACCT] >= 0) {
        int fd = job->dirs[job->ctl[HCS_JOB_CPUACCT]].fd;
        if (hcs_job_read_u64(job, fd, "cpuacct.usage", &out->cpu_total_ns, err) < 0)
            return -1;
        AUTOFREE char *stat = NULL;
        if (hcs_job_read(fd, "cpuacct.stat", &stat) < 0)
            return hcs_err_errno(err, errno, "read cpuacct.stat of job %s", job->name);
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t ns_per_tick = 1000000000ULL / (uint64_t)(hz > 0 ? hz : 100);
        out->cpu_user_ns = hcs_job_keyed(stat, "user") * ns_per_tick;
        out->cpu_kernel_ns = hcs_job_keyed(stat, "system") * ns_per_tick;
    }
    if (job->ctl[HCS_JOB_MEMORY] >= 0) {
        int fd = job->dirs[job->ctl[HCS_JOB_MEMORY]].fd;
        if (hcs_job_read_u64(job, fd, "memory.usage_in_bytes", &out->memory_usage_bytes, err) < 0 ||
            hcs_job_read_u64(job, fd, "memory.max_usage_in_bytes", &out->memory_peak_bytes, err) <
                0)
            return -1;
    }
    if (job->ctl[HCS_JOB_PIDS] >= 0 &&
        hcs_job_read_u64(job, job->dirs[job->ctl[HCS_JOB_PIDS]].fd, "pids.current",
                         &out->pids_current, err) < 0)
        return -1;
    return 0;
}

static int freezer_fd(const hcs_job *job, hcs_error **err)
{
    if (job->ctl[HCS_JOB_FREEZER] < 0)
        return hcs_job_missing(job, HCS_JOB_FREEZER, "freezing", err);
    return job->dirs[job->ctl[HCS_JOB_FREEZER]].fd;
}

static bool state_is(int fd, const char *state)
{
    AUTOFREE char *text = NULL;
    if (hcs_job_read(fd, "freezer.state", &text) < 0)
        return false;
    text[strcspn(text, "\n")] = '\0';
    return strcmp(text, state) == 0;
}

/* Ask for FROZEN and wait until the kernel reports it; on timeout thaw again if rollback. */
static int freeze_wait(hcs_job *job, bool rollback, hcs_error **err)
{
    int fd = freezer_fd(job, err);
    if (fd < 0)
        return -1;
    if (hcs_job_set(job, fd, "freezer.state", "FROZEN", err) < 0)
        return -1;
    unsigned long long start = hcs_now_ms();
    for (unsigned attempt = 0; !state_is(fd, "FROZEN"); attempt++) {
        if (hcs_now_ms() - start >= FREEZE_WAIT_MS) {
            if (rollback)
                hcs_job_write(fd, "freezer.state", "THAWED");
            return hcs_err_set(err, HCS_E_WIN32_TIMEOUT,
                               "freeze job %s: %s/freezer.state did not read FROZEN within %d ms",
                               job->name, job->dirs[job->ctl[HCS_JOB_FREEZER]].path,
                               FREEZE_WAIT_MS);
        }
        hcs_job_poll_sleep(attempt);
    }
    return 0;
}

static int v1_freeze(hcs_job *job, hcs_error **err)
{
    return freeze_wait(job, true, err);
}

static int v1_thaw(hcs_job *job, hcs_error **err)
{
    int fd = freezer_fd(job, err);
    if (fd < 0)
        return -1;
    return hcs_job_set(job, fd, "freezer.state", "THAWED", err);
}

static bool v1_frozen(hcs_job *job)
{
    return job->ctl[HCS_JOB_FREEZER] >= 0 &&
           state_is(job->dirs[job->ctl[HCS_JOB_FREEZER]].fd, "FROZEN");
}

static int v1_kill(hcs_job *job, hcs_error **err)
{
    if (job->ctl[HCS_JOB_FREEZER] < 0) {
        /* Only for a leftover missing its freezer directory: kill what is listed anywhere. */
        bool found;
        return hcs_job_kill_listed(job, &found, err);
    }
    AUTOERR hcs_error *freeze_err = NULL;
    bool frozen = freeze_wait(job, false, &freeze_err) == 0;
    /* Not frozen (a task stuck in the kernel): repeat, catching what forked meanwhile. */
    int rc = 0;
    bool found = true;
    for (int round = 0; rc == 0 && found && round < (frozen ? 1 : 3); round++)
        rc = hcs_job_kill_listed(job, &found, err);
    if (v1_thaw(job, rc == 0 ? err : NULL) < 0)
        rc = -1;
    return rc;
}

static int v1_cgroup_fd(const hcs_job *job)
{
    (void)job;
    return -1;
}

const struct hcs_job_ops hcs_job_v1_ops = {
    .name = "v1",
    .open = v1_open,
    .apply = v1_apply,
    .stats = v1_stats,
    .freeze = v1_freeze,
    .thaw = v1_thaw,
    .frozen = v1_frozen,
    .kill = v1_kill,
    .cgroup_fd = v1_cgroup_fd,
};
