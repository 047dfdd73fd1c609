/*
 * job.h - job objects: a compute system's processes in cgroups, with limits, statistics,
 * freeze/thaw and kill-all.
 *
 * Two backends behind one table, chosen once per process (hcs_job_backend()):
 *   v2  /sys/fs/cgroup is cgroup2 (pure v2 hosts): /sys/fs/cgroup/hcs/<name>, controllers
 *       enabled in hcs/cgroup.subtree_control; freeze = cgroup.freeze, kill = cgroup.kill.
 *   v1  cgroup v1 controllers (v1 and hybrid hosts): /sys/fs/cgroup/<controller>/hcs/<name>
 *       for memory, cpu, cpuacct, pids, freezer (cpu and cpuacct may share a mount); freeze =
 *       freezer.state; kill = freeze, SIGKILL every pid, thaw.
 * Every cgroup libhcs makes lives under its own parent "hcs" in each hierarchy; nothing else
 * is ever modified or removed. Environment HCS_CGROUP_ROOT (tests) replaces /sys/fs/cgroup.
 *
 * Thread safety: a job may be used from one thread at a time. Errors: 0 or -1 with *err.
 */
#ifndef HCS_JOB_JOB_H
#define HCS_JOB_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

typedef struct hcs_job hcs_job;

/* Limits; 0 means "no limit" for every field. */
typedef struct hcs_job_limits {
    uint64_t memory_bytes; /* Container.Memory.SizeInMB << 20; OOM-kill above it */
    uint32_t cpu_count;    /* Container.Processor.Count: at most this many CPUs of time */
    int64_t cpu_weight;    /* Container.Processor.Weight, 1..10000 (relative share) */
    int64_t cpu_maximum;   /* Container.Processor.Maximum, 1..10000 = percent x 100 of the host */
    int64_t pids_max;      /* OCI linux.resources.pids.limit (> 0) */
} hcs_job_limits;

typedef struct hcs_job_stats {
    uint64_t cpu_total_ns, cpu_user_ns, cpu_kernel_ns;
    uint64_t memory_usage_bytes, memory_peak_bytes;
    uint64_t pids_current;
} hcs_job_stats;

/* "v1" or "v2": the backend this host uses. */
const char *hcs_job_backend(void);

/*
 * Create the job's cgroups (name: a store id) with the limits applied. An existing cgroup of
 * that name (a leftover of a crashed monitor) is emptied and reused. Fails with
 * HCS_E_SERVICE_NOT_AVAILABLE naming what is missing when cgroups are not usable here.
 */
int hcs_job_create(const char *name, const hcs_job_limits *limits, hcs_job **out,
                   hcs_error **err);

/* Update limits of a live job (fields left 0 are left as they are). */
int hcs_job_set_limits(hcs_job *job, const hcs_job_limits *limits, hcs_error **err);

/* Move a process (and, as the kernel does, its future children) into the job. */
int hcs_job_add_pid(hcs_job *job, pid_t pid, hcs_error **err);

/* v2: an O_PATH fd of the cgroup for clone3(CLONE_INTO_CGROUP); -1 with v1. Owned by the job. */
int hcs_job_cgroup_fd(const hcs_job *job);

int hcs_job_stats_read(hcs_job *job, hcs_job_stats *out, hcs_error **err);

/* The pids in the job (host pid namespace); caller frees *pids. */
int hcs_job_pids(hcs_job *job, pid_t **pids, size_t *n, hcs_error **err);

int hcs_job_freeze(hcs_job *job, hcs_error **err);
int hcs_job_thaw(hcs_job *job, hcs_error **err);
bool hcs_job_frozen(hcs_job *job);

/* SIGKILL every process of the job, frozen or not. Does not wait or reap. */
int hcs_job_kill(hcs_job *job, hcs_error **err);

/* True once no process is left in the job. */
bool hcs_job_empty(hcs_job *job);

/*
 * Remove the job's cgroups (killing what is left and waiting up to a second for it to go) and
 * free it. NULL is ignored. After a failure the job is still freed; the error says what stayed.
 */
int hcs_job_destroy(hcs_job *job, hcs_error **err);

/* Remove the cgroups of a job by name (a crashed monitor's leftovers); absent is fine. */
int hcs_job_remove(const char *name, hcs_error **err);

#endif
