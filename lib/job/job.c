/*
 * job.c - job objects, the part both backends share: the one-time backend choice, job names,
 * translation of HCS limits into kernel values, pids, add/remove and the file helpers.
 *
 * The backend (v1 or v2) and the cgroup root are chosen once per process (pthread_once) from
 * statfs(/sys/fs/cgroup), or from the environment: HCS_CGROUP_ROOT replaces /sys/fs/cgroup and
 * HCS_CGROUP_BACKEND=v1|v2 forces a backend (both for tests). That choice is the module's only
 * global state; a test that needs another backend runs in a fresh process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "common/util.h"
#include "job_internal.h"

#define DEFAULT_ROOT "/sys/fs/cgroup"
#define CPU_PERIOD_US 100000
#define CPU_QUOTA_MIN_US 1000 /* the kernel refuses a smaller cfs quota */
#define DESTROY_WAIT_MS 1000
#define MAX_DEPTH 32 /* nested cgroups a job's processes may have made below its own */

/* ---- the one-time backend choice ------------------------------------------------------------ */

static pthread_once_t choice_once = PTHREAD_ONCE_INIT;
static const struct hcs_job_ops *chosen_ops;
static char chosen_root[PATH_MAX];

static void choose_backend(void)
{
    /* secure_getenv: a set-id program linking libhcs must not let its caller pick the root. */
    const char *root = secure_getenv("HCS_CGROUP_ROOT");
    if (root != NULL && root[0] == '/' && strlen(root) < sizeof(chosen_root)) {
        snprintf(chosen_root, sizeof(chosen_root), "%s", root);
        size_t len = strlen(chosen_root);
        while (len > 1 && chosen_root[len - 1] == '/')
            chosen_root[--len] = '\0';
    } else {
        if (root != NULL && root[0] != '\0')
            hcs_log(HCS_LOG_WARNING, "HCS_CGROUP_ROOT=%s is not an absolute path; using %s", root,
                    DEFAULT_ROOT);
        snprintf(chosen_root, sizeof(chosen_root), "%s", DEFAULT_ROOT);
    }
    const char *forced = secure_getenv("HCS_CGROUP_BACKEND");
    if (forced != NULL && strcmp(forced, "v1") == 0) {
        chosen_ops = &hcs_job_v1_ops;
        return;
    }
    if (forced != NULL && strcmp(forced, "v2") == 0) {
        chosen_ops = &hcs_job_v2_ops;
        return;
    }
    if (forced != NULL && forced[0] != '\0')
        hcs_log(HCS_LOG_WARNING, "HCS_CGROUP_BACKEND=%s is neither v1 nor v2; probing", forced);
    /* A cgroup2 root is a pure v2 host; a tmpfs of v1 mounts (hybrid or not) is v1. */
    struct statfs st;
    if (statfs(chosen_root, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
        chosen_ops = &hcs_job_v2_ops;
    else
        chosen_ops = &hcs_job_v1_ops;
}

static const struct hcs_job_ops *backend(void)
{
    pthread_once(&choice_once, choose_backend);
    return chosen_ops;
}

const char *hcs_job_backend(void)
{
    return backend()->name;
}

const char *hcs_job_cgroup_root(void)
{
    backend();
    return chosen_root;
}

/* ---- names and limits ------------------------------------------------------------------------ */

static int validate_name(const char *name, hcs_error **err)
{
    if (name == NULL || name[0] == '\0')
        return hcs_err_set(err, E_INVALIDARG, "job name is empty");
    if (strchr(name, '/') != NULL)
        return hcs_err_set(err, E_INVALIDARG, "job name \"%s\" contains '/'", name);
    if (name[0] == '.')
        return hcs_err_set(err, E_INVALIDARG, "job name \"%s\" starts with '.'", name);
    if (strlen(name) > NAME_MAX)
        return hcs_err_set(err, E_INVALIDARG, "job name \"%.32s...\" is longer than %d bytes", name,
                           NAME_MAX);
    return 0;
}

/*
 * Processor.Weight (1..10000, HCS default 100) to cgroup v1 cpu.shares (2..262144, kernel
 * default 1024): two straight lines through (1, 2), (100, 1024) and (10000, 262144), so the
 * ends of both ranges and the two defaults meet. One straight line from (1, 2) to (10000,
 * 262144) - the formula runc and crun use between shares and cpu.weight - would give weight 100
 * 2597 shares, so a container at the default weight would get 2.5 times the share of every
 * other process on the host.
 */
static uint64_t shares_from_weight(int64_t w)
{
    if (w <= 100)
        return 2 + (uint64_t)(w - 1) * (1024 - 2) / 99;
    return 1024 + (uint64_t)(w - 100) * (262144 - 1024) / 9900;
}

static int64_t online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

/* Check limits and translate them; reset also plans defaults for the fields left 0. */
static int make_plan(const hcs_job_limits *l, bool reset, struct hcs_job_plan *p, hcs_error **err)
{
    static const hcs_job_limits none;
    if (l == NULL)
        l = &none;
    memset(p, 0, sizeof(*p));
    p->reset = reset;
    if (l->cpu_weight < 0 || l->cpu_weight > 10000)
        return hcs_err_set(err, E_INVALIDARG,
                           "Processor.Weight %" PRId64 " is out of range (1 to 10000; 0 for the "
                           "default)",
                           l->cpu_weight);
    if (l->cpu_maximum < 0 || l->cpu_maximum > 10000)
        return hcs_err_set(err, E_INVALIDARG,
                           "Processor.Maximum %" PRId64 " is out of range (1 to 10000, hundredths "
                           "of a percent of the host's processors; 0 for no limit)",
                           l->cpu_maximum);
    if (l->pids_max < 0)
        return hcs_err_set(err, E_INVALIDARG,
                           "pids limit %" PRId64 " is not positive (0 for no limit)", l->pids_max);

    p->set_memory = reset || l->memory_bytes != 0;
    p->memory_bytes = l->memory_bytes;

    p->cpu_period_us = CPU_PERIOD_US;
    p->cpu_quota_us = -1;
    p->cpu_quota_field = "Processor.Count";
    if (l->cpu_count != 0)
        p->cpu_quota_us = (int64_t)l->cpu_count * CPU_PERIOD_US;
    if (l->cpu_maximum != 0) {
        int64_t q = l->cpu_maximum * online_cpus() * CPU_PERIOD_US / 10000;
        if (q < CPU_QUOTA_MIN_US)
            q = CPU_QUOTA_MIN_US;
        if (p->cpu_quota_us < 0 || q < p->cpu_quota_us) {
            p->cpu_quota_us = q;
            p->cpu_quota_field = "Processor.Maximum";
        }
    }
    p->set_cpu_quota = reset || p->cpu_quota_us > 0;

    p->set_cpu_weight = reset || l->cpu_weight != 0;
    p->cpu_weight = (uint64_t)l->cpu_weight;
    p->cpu_shares = shares_from_weight(l->cpu_weight != 0 ? l->cpu_weight : 100);

    p->set_pids = reset || l->pids_max != 0;
    p->pids_max = l->pids_max != 0 ? l->pids_max : -1;
    return 0;
}

int hcs_job_apply_pids(hcs_job *job, const struct hcs_job_plan *p, hcs_error **err)
{
    if (!p->set_pids)
        return 0;
    if (job->ctl[HCS_JOB_PIDS] < 0)
        return p->pids_max > 0 ? hcs_job_missing(job, HCS_JOB_PIDS, "pids.limit", err) : 0;
    char value[32];
    if (p->pids_max > 0)
        snprintf(value, sizeof(value), "%" PRId64, p->pids_max);
    else
        snprintf(value, sizeof(value), "max");
    return hcs_job_set(job, job->dirs[job->ctl[HCS_JOB_PIDS]].fd, "pids.max", value, err);
}

int hcs_job_missing(const hcs_job *job, int ctl, const char *field, hcs_error **err)
{
    static const char *const names[HCS_JOB_NCTL] = {"memory", "cpu", "cpuacct", "pids", "freezer"};
    return hcs_err_set(err, HCS_E_SERVICE_NOT_AVAILABLE,
                       "%s controller not available for %s (job %s, backend %s, cgroup root %s)",
                       names[ctl], field, job->name, job->ops->name, hcs_job_cgroup_root());
}

/* ---- file helpers ---------------------------------------------------------------------------- */

int hcs_job_write(int dirfd, const char *file, const char *value)
{
    int fd = openat(dirfd, file, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    size_t len = strlen(value);
    ssize_t w;
    do
        w = write(fd, value, len);
    while (w < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (w < 0) {
        errno = saved;
        return -1;
    }
    if ((size_t)w != len) {
        errno = EIO;
        return -1;
    }
    return 0;
}

int hcs_job_set(const hcs_job *job, int dirfd, const char *file, const char *value, hcs_error **err)
{
    if (hcs_job_write(dirfd, file, value) < 0)
        return hcs_err_errno(err, errno, "set %s of job %s to %s", file, job->name, value);
    return 0;
}

int hcs_job_read(int dirfd, const char *file, char **out)
{
    AUTOCLOSE int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    size_t cap = 4096, n = 0;
    AUTOFREE char *buf = malloc(cap);
    if (buf == NULL)
        return -1;
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= (64u << 20)) {
                errno = EFBIG;
                return -1;
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL)
                return -1;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *out = steal_ptr(&buf);
    return 0;
}

int hcs_job_read_u64(const hcs_job *job, int dirfd, const char *file, uint64_t *out,
                     hcs_error **err)
{
    AUTOFREE char *text = NULL;
    if (hcs_job_read(dirfd, file, &text) < 0)
        return hcs_err_errno(err, errno, "read %s of job %s", file, job->name);
    if (strncmp(text, "max", 3) == 0) {
        *out = UINT64_MAX;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || (*end != '\n' && *end != '\0'))
        return hcs_err_set(err, E_FAIL, "read %s of job %s: \"%.40s\" is not a number", file,
                           job->name, text);
    *out = v;
    return 0;
}

uint64_t hcs_job_keyed(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line != NULL && *line != '\0';) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
            return strtoull(line + klen + 1, NULL, 10);
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return 0;
}

bool hcs_job_has_file(int dirfd, const char *file)
{
    return faccessat(dirfd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

void hcs_job_poll_sleep(unsigned attempt)
{
    /*
     * 0.1, 0.2, 0.4 ... 12.8, then 20 ms: what is polled for (a frozen state, killed tasks
     * leaving, a busy rmdir) is usually over within a fraction of a millisecond.
     */
    long us = attempt < 8 ? 100L << attempt : 20000;
    struct timespec ts = {0, us * 1000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* ---- directories ----------------------------------------------------------------------------- */

int hcs_job_add_dir(hcs_job *job, char *path, int fd)
{
    if (job->n_dirs >= HCS_JOB_MAX_DIRS)
        return -1;
    job->dirs[job->n_dirs].path = path;
    job->dirs[job->n_dirs].fd = fd;
    return job->n_dirs++;
}

int hcs_job_make_parent(const char *mount, hcs_error **err)
{
    AUTOFREE char *parent = hcs_asprintf("%s/hcs", mount);
    if (parent == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (mkdir(parent, 0755) < 0 && errno != EEXIST)
        return hcs_err_errno(err, errno, "create cgroup %s", parent);
    return 0;
}

int hcs_job_make_dir(const char *mount, const char *name, bool create, char **path, int *fd,
                     bool *existed, hcs_error **err)
{
    *fd = -1;
    *path = NULL;
    if (create && hcs_job_make_parent(mount, err) < 0)
        return -1;
    AUTOFREE char *p = hcs_asprintf("%s/hcs/%s", mount, name);
    if (p == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (create && mkdir(p, 0755) < 0) {
        if (errno != EEXIST)
            return hcs_err_errno(err, errno, "create cgroup %s", p);
        *existed = true;
    }
    int f = open(p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (f < 0) {
        if (!create && errno == ENOENT)
            return 0;
        return hcs_err_errno(err, errno, "open cgroup %s", p);
    }
    if (!create)
        *existed = true;
    *fd = f;
    *path = steal_ptr(&p);
    return 0;
}

/* Directory entries of dirfd that are directories (child cgroups); NULL-terminated list. */
static char **child_dirs(int dirfd)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return NULL;
    }
    size_t n = 0, cap = 4;
    char **v = calloc(cap, sizeof(*v));
    struct dirent *de;
    while (v != NULL && (de = readdir(d)) != NULL) {
        if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n + 1 >= cap) {
            char **nv = realloc(v, cap * 2 * sizeof(*v));
            if (nv == NULL)
                break;
            v = nv;
            cap *= 2;
        }
        v[n] = strdup(de->d_name);
        if (v[n] != NULL)
            v[++n] = NULL;
    }
    closedir(d);
    return v;
}

static void free_list(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

struct pid_list {
    pid_t *v;
    size_t n, cap;
};

static int collect_at(const hcs_job *job, int dirfd, const char *path, int depth,
                      struct pid_list *l, hcs_error **err)
{
    AUTOFREE char *text = NULL;
    if (hcs_job_read(dirfd, "cgroup.procs", &text) < 0) {
        /* ENODEV: the cgroup was removed under us (a leftover cleaned by someone else). */
        if (errno == ENOENT || errno == ENODEV)
            return 0;
        return hcs_err_errno(err, errno, "list processes of job %s: read %s/cgroup.procs",
                             job->name, path);
    }
    for (char *s = text, *end; *s != '\0'; s = end) {
        long v = strtol(s, &end, 10);
        if (end == s)
            break;
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 16;
            pid_t *nv = realloc(l->v, cap * sizeof(*nv));
            if (nv == NULL)
                return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            l->v = nv;
            l->cap = cap;
        }
        if (v > 0)
            l->v[l->n++] = (pid_t)v;
    }
    if (depth >= MAX_DEPTH)
        return 0;
    char **subs = child_dirs(dirfd);
    int rc = 0;
    for (size_t i = 0; rc == 0 && subs != NULL && subs[i] != NULL; i++) {
        AUTOCLOSE int sub = openat(dirfd, subs[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        AUTOFREE char *subpath = hcs_asprintf("%s/%s", path, subs[i]);
        if (sub >= 0 && subpath != NULL)
            rc = collect_at(job, sub, subpath, depth + 1, l, err);
    }
    free_list(subs);
    return rc;
}

int hcs_job_collect_pids(const hcs_job *job, const struct hcs_job_dir *dir, pid_t **pids, size_t *n,
                         hcs_error **err)
{
    struct pid_list l = {calloc(1, sizeof(pid_t)), 0, 1};
    if (l.v == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (dir->fd >= 0 && collect_at(job, dir->fd, dir->path, 0, &l, err) < 0) {
        free(l.v);
        return -1;
    }
    *pids = l.v;
    *n = l.n;
    return 0;
}

int hcs_job_kill_listed(hcs_job *job, bool *found, hcs_error **err)
{
    *found = false;
    for (int i = 0; i < job->n_dirs; i++) {
        AUTOFREE pid_t *pids = NULL;
        size_t n = 0;
        if (hcs_job_collect_pids(job, &job->dirs[i], &pids, &n, err) < 0)
            return -1;
        for (size_t k = 0; k < n; k++) {
            *found = true;
            if (kill(pids[k], SIGKILL) < 0 && errno != ESRCH)
                return hcs_err_errno(err, errno, "kill process %d of job %s", (int)pids[k],
                                     job->name);
        }
    }
    return 0;
}

/* rmdir dirfd/name, retrying while the kernel still reports the cgroup busy. */
static int rmdir_retry(int dirfd, const char *name, unsigned long long deadline)
{
    for (unsigned attempt = 0;; attempt++) {
        if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY || hcs_now_ms() >= deadline)
            return -1;
        hcs_job_poll_sleep(attempt);
    }
}

/* Remove the cgroups below dirfd (made by the job's processes), deepest first. */
static int rmdir_below(int dirfd, const char *path, int depth, unsigned long long deadline,
                       hcs_error **err)
{
    if (depth >= MAX_DEPTH)
        return 0;
    char **subs = child_dirs(dirfd);
    int rc = 0;
    for (size_t i = 0; rc == 0 && subs != NULL && subs[i] != NULL; i++) {
        AUTOFREE char *subpath = hcs_asprintf("%s/%s", path, subs[i]);
        AUTOCLOSE int sub = openat(dirfd, subs[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0 || subpath == NULL)
            continue;
        rc = rmdir_below(sub, subpath, depth + 1, deadline, err);
        if (rc == 0 && rmdir_retry(dirfd, subs[i], deadline) < 0)
            rc = hcs_err_errno(err, errno, "remove cgroup %s", subpath);
    }
    free_list(subs);
    return rc;
}

static bool dir_empty(const hcs_job *job, const struct hcs_job_dir *dir)
{
    AUTOFREE pid_t *pids = NULL;
    size_t n = 0;
    if (hcs_job_collect_pids(job, dir, &pids, &n, NULL) < 0)
        return false;
    return n == 0;
}

/* Kill what is left and wait (up to DESTROY_WAIT_MS) until no process is in the job. */
static int empty_job(hcs_job *job, hcs_error **err)
{
    AUTOERR hcs_error *kill_err = NULL;
    job->ops->kill(job, &kill_err);
    unsigned long long start = hcs_now_ms();
    for (unsigned attempt = 0; !hcs_job_empty(job); attempt++) {
        if (hcs_now_ms() - start >= DESTROY_WAIT_MS) {
            AUTOFREE pid_t *pids = NULL;
            size_t n = 0;
            hcs_job_pids(job, &pids, &n, NULL);
            if (kill_err != NULL)
                return hcs_err_set(err, kill_err->hr, "job %s: %zu process(es) left, first %d: %s",
                                   job->name, n, n ? (int)pids[0] : 0, kill_err->message);
            return hcs_err_set(err, HCS_E_WIN32_TIMEOUT,
                               "job %s: %zu process(es) still running %d ms after SIGKILL, "
                               "first %d",
                               job->name, n, DESTROY_WAIT_MS, n ? (int)pids[0] : 0);
        }
        /* A process that forked while the kill went on is caught by the next round. */
        if (attempt % 10 == 9) {
            bool found;
            hcs_job_kill_listed(job, &found, NULL);
        }
        hcs_job_poll_sleep(attempt);
    }
    return 0;
}

/* Empty the job and remove its directories (never the "hcs" parents). */
static int remove_dirs(hcs_job *job, hcs_error **err)
{
    /*
     * Nothing listed, nothing to kill: skip the backend's kill, whose freeze (v1, and v2 before
     * cgroup.kill) costs a millisecond or more per freezer transition. The usual case: a silo's
     * job after its init has died, which took its whole pid namespace with it.
     */
    int rc = hcs_job_empty(job) ? 0 : empty_job(job, err);
    unsigned long long deadline = hcs_now_ms() + DESTROY_WAIT_MS;
    for (int i = 0; i < job->n_dirs; i++) {
        struct hcs_job_dir *d = &job->dirs[i];
        if (d->fd < 0)
            continue;
        if (rmdir_below(d->fd, d->path, 0, deadline, err) < 0) {
            rc = -1;
            continue;
        }
        if (rmdir_retry(AT_FDCWD, d->path, deadline) < 0)
            rc = hcs_err_errno(err, errno, "remove cgroup %s", d->path);
    }
    return rc;
}

/* ---- the job API ----------------------------------------------------------------------------- */

static hcs_job *job_new(const char *name)
{
    hcs_job *job = calloc(1, sizeof(*job));
    if (job == NULL)
        return NULL;
    job->ops = backend();
    job->name = strdup(name);
    if (job->name == NULL) {
        free(job);
        return NULL;
    }
    for (int i = 0; i < HCS_JOB_NCTL; i++)
        job->ctl[i] = -1;
    return job;
}

static void job_free(hcs_job *job)
{
    for (int i = 0; i < job->n_dirs; i++) {
        if (job->dirs[i].fd >= 0)
            close(job->dirs[i].fd);
        free(job->dirs[i].path);
    }
    free(job->name);
    free(job);
}

int hcs_job_create(const char *name, const hcs_job_limits *limits, hcs_job **out, hcs_error **err)
{
    *out = NULL;
    struct hcs_job_plan plan;
    if (validate_name(name, err) < 0 || make_plan(limits, false, &plan, err) < 0)
        return -1;
    hcs_job *job = job_new(name);
    if (job == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    bool existed = false;
    if (job->ops->open(job, hcs_job_cgroup_root(), true, &existed, err) < 0) {
        remove_dirs(job, NULL);
        job_free(job);
        return -1;
    }
    /* A crashed monitor's leftover: empty it and start from the kernel's defaults. */
    if (existed) {
        hcs_log(HCS_LOG_INFO, "job %s: reusing a leftover cgroup", name);
        if (empty_job(job, err) < 0 || make_plan(limits, true, &plan, err) < 0) {
            job_free(job);
            return hcs_err_wrap(err, "reuse leftover cgroup of job %s", name);
        }
    }
    if (job->ops->apply(job, &plan, err) < 0) {
        remove_dirs(job, NULL);
        job_free(job);
        return -1;
    }
    *out = job;
    return 0;
}

int hcs_job_set_limits(hcs_job *job, const hcs_job_limits *limits, hcs_error **err)
{
    struct hcs_job_plan plan;
    if (make_plan(limits, false, &plan, err) < 0)
        return -1;
    return job->ops->apply(job, &plan, err);
}

int hcs_job_add_pid(hcs_job *job, pid_t pid, hcs_error **err)
{
    char value[24];
    snprintf(value, sizeof(value), "%d", (int)pid);
    for (int i = 0; i < job->n_dirs; i++)
        if (hcs_job_write(job->dirs[i].fd, "cgroup.procs", value) < 0)
            return hcs_err_errno(err, errno, "add process %d to job %s (%s)", (int)pid, job->name,
                                 job->dirs[i].path);
    return 0;
}

int hcs_job_join_self(const hcs_job *job)
{
    /* "0" is the writer itself, whatever pid namespace it is in. */
    for (int i = 0; i < job->n_dirs; i++)
        if (hcs_job_write(job->dirs[i].fd, "cgroup.procs", "0") < 0)
            return -1;
    return 0;
}

int hcs_job_cgroup_fd(const hcs_job *job)
{
    return job->ops->cgroup_fd(job);
}

const char *hcs_job_cgroup_path(const hcs_job *job, const char *controller)
{
    static const char *const names[HCS_JOB_NCTL] = {"memory", "cpu", "cpuacct", "pids", "freezer"};
    if (controller == NULL) {
        if (job->n_dirs == 0)
            return NULL;
        return job->dirs[job->ctl[HCS_JOB_FREEZER] >= 0 ? job->ctl[HCS_JOB_FREEZER] : 0].path;
    }
    for (int i = 0; i < HCS_JOB_NCTL; i++)
        if (strcmp(controller, names[i]) == 0)
            return job->ctl[i] >= 0 ? job->dirs[job->ctl[i]].path : NULL;
    return NULL;
}

int hcs_job_stats_read(hcs_job *job, hcs_job_stats *out, hcs_error **err)
{
    memset(out, 0, sizeof(*out));
    return job->ops->stats(job, out, err);
}

int hcs_job_pids(hcs_job *job, pid_t **pids, size_t *n, hcs_error **err)
{
    *pids = NULL;
    *n = 0;
    int main_dir = job->ctl[HCS_JOB_FREEZER] >= 0 ? job->ctl[HCS_JOB_FREEZER] : 0;
    if (job->n_dirs == 0) {
        *pids = calloc(1, sizeof(pid_t));
        return *pids != NULL ? 0 : hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    return hcs_job_collect_pids(job, &job->dirs[main_dir], pids, n, err);
}

int hcs_job_freeze(hcs_job *job, hcs_error **err)
{
    return job->ops->freeze(job, err);
}

int hcs_job_thaw(hcs_job *job, hcs_error **err)
{
    return job->ops->thaw(job, err);
}

bool hcs_job_frozen(hcs_job *job)
{
    return job->ops->frozen(job);
}

int hcs_job_kill(hcs_job *job, hcs_error **err)
{
    return job->ops->kill(job, err);
}

bool hcs_job_empty(hcs_job *job)
{
    for (int i = 0; i < job->n_dirs; i++)
        if (!dir_empty(job, &job->dirs[i]))
            return false;
    return true;
}

int hcs_job_destroy(hcs_job *job, hcs_error **err)
{
    if (job == NULL)
        return 0;
    int rc = remove_dirs(job, err);
    job_free(job);
    return rc;
}

int hcs_job_remove(const char *name, hcs_error **err)
{
    if (validate_name(name, err) < 0)
        return -1;
    hcs_job *job = job_new(name);
    if (job == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    bool existed = false;
    int rc = job->ops->open(job, hcs_job_cgroup_root(), false, &existed, err);
    if (rc == 0 && job->n_dirs > 0)
        rc = remove_dirs(job, err);
    job_free(job);
    return rc;
}
