/*
 * job_internal.h - what job.c shares with its backends (job_v1.c, job_v2.c). Private to lib/job.
 *
 * A job is a set of cgroup directories, one per hierarchy it uses (v2: one; v1: one per mount of
 * memory, cpu, cpuacct, pids, freezer, where co-mounted controllers share a directory). job.c
 * owns the choice of backend, the name rules, the translation of limits into kernel values
 * (struct hcs_job_plan) and everything that is the same in both backends (adding a pid,
 * listing pids, removing directories); a backend writes the plan into its files and implements
 * freeze, thaw, kill and statistics.
 */
#ifndef HCS_JOB_JOB_INTERNAL_H
#define HCS_JOB_JOB_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "job.h"

/* Controllers a job may use; the index of job->ctl[]. */
enum hcs_job_ctl {
    HCS_JOB_MEMORY,
    HCS_JOB_CPU,
    HCS_JOB_CPUACCT,
    HCS_JOB_PIDS,
    HCS_JOB_FREEZER,
    HCS_JOB_NCTL
};

#define HCS_JOB_MAX_DIRS HCS_JOB_NCTL

struct hcs_job_dir {
    char *path; /* absolute: <mount>/hcs/<name> */
    int fd;     /* O_PATH | O_DIRECTORY of path; -1 when the directory does not exist */
};

struct hcs_job {
    const struct hcs_job_ops *ops;
    char *name;
    struct hcs_job_dir dirs[HCS_JOB_MAX_DIRS];
    int n_dirs;
    /* Index in dirs[] of the directory holding each controller's files, -1 if not available. */
    int ctl[HCS_JOB_NCTL];
};

/*
 * Limits translated into kernel values. Only fields whose set_* flag is true are written. "No
 * limit" is memory_bytes 0, cpu_quota_us -1 and pids_max -1.
 */
struct hcs_job_plan {
    bool set_memory;
    uint64_t memory_bytes;
    bool set_cpu_quota;
    int64_t cpu_quota_us, cpu_period_us;
    const char *cpu_quota_field; /* the document field the quota comes from, for messages */
    bool set_cpu_weight;
    uint64_t cpu_weight; /* v2 cpu.weight, 1..10000; 0 = the default (100) */
    uint64_t cpu_shares; /* v1 cpu.shares, 2..262144 (the default 1024 when cpu_weight is 0) */
    bool set_pids;
    int64_t pids_max;
    bool reset; /* also writing defaults (a reused cgroup): missing controllers are no error */
};

struct hcs_job_ops {
    const char *name; /* "v1" or "v2" */
    /*
     * Find or create (create=true) the job's directories under root and fill job->dirs and
     * job->ctl. With create=false only existing directories are opened (absent is no error).
     * Sets *existed when a directory of that name was already there.
     */
    int (*open)(hcs_job *job, const char *root, bool create, bool *existed, hcs_error **err);
    int (*apply)(hcs_job *job, const struct hcs_job_plan *plan, hcs_error **err);
    int (*stats)(hcs_job *job, hcs_job_stats *out, hcs_error **err);
    int (*freeze)(hcs_job *job, hcs_error **err);
    int (*thaw)(hcs_job *job, hcs_error **err);
    bool (*frozen)(hcs_job *job);
    int (*kill)(hcs_job *job, hcs_error **err);
    int (*cgroup_fd)(const hcs_job *job);
};

extern const struct hcs_job_ops hcs_job_v1_ops;
extern const struct hcs_job_ops hcs_job_v2_ops;

/* "<controller> controller not available for <field> (job ...)", HCS_E_SERVICE_NOT_AVAILABLE. */
/* pids.max from the plan (the same file and values in both backends). */
int hcs_job_apply_pids(hcs_job *job, const struct hcs_job_plan *p, hcs_error **err);

int hcs_job_missing(const hcs_job *job, int ctl, const char *field, hcs_error **err);

/* Create <mount>/hcs (0755) if missing. */
int hcs_job_make_parent(const char *mount, hcs_error **err);

/* Add a directory to job->dirs (takes path and fd); its index, or -1 when full. */
int hcs_job_add_dir(hcs_job *job, char *path, int fd);

/*
 * Make (if create) and open <parent>/hcs/<name>. *fd is -1 when !create and it is absent.
 * Errors: "create cgroup /sys/fs/cgroup/memory/hcs/x: Permission denied".
 */
int hcs_job_make_dir(const char *parent, const char *name, bool create, char **path, int *fd,
                     bool *existed, hcs_error **err);

/* Write value to dirfd/file in one write(2). 0, or -1 with errno. */
int hcs_job_write(int dirfd, const char *file, const char *value);

/* "set <file> of job <name> to <value>: <strerror>" when the write fails. */
int hcs_job_set(const hcs_job *job, int dirfd, const char *file, const char *value,
                hcs_error **err);

/* Read dirfd/file whole (NUL-terminated; caller frees). 0, or -1 with errno. */
int hcs_job_read(int dirfd, const char *file, char **out);

/* Read an unsigned number ("max" reads as UINT64_MAX) from dirfd/file; errors name the job. */
int hcs_job_read_u64(const hcs_job *job, int dirfd, const char *file, uint64_t *out,
                     hcs_error **err);

/* The value of "key <number>" in a flat-keyed file (cpu.stat, cgroup.events); 0 if absent. */
uint64_t hcs_job_keyed(const char *text, const char *key);

/* True when dirfd/file exists. */
bool hcs_job_has_file(int dirfd, const char *file);

/* The pids in dir and every cgroup below it (caller frees *pids, never NULL on success). */
int hcs_job_collect_pids(const hcs_job *job, const struct hcs_job_dir *dir, pid_t **pids, size_t *n,
                         hcs_error **err);

/* SIGKILL every pid in every directory of the job (and below). Sets *found when any was. */
int hcs_job_kill_listed(hcs_job *job, bool *found, hcs_error **err);

/* Sleep for a poll step that grows with the attempt number (0.1 ms doubling up to 20 ms). */
void hcs_job_poll_sleep(unsigned attempt);

#endif
