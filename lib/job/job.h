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

/*
 * Limits; 0 means "no limit" for every field. Translation (period 100 ms):
 *   memory_bytes  v1 memory.limit_in_bytes and memory.memsw.limit_in_bytes (when the kernel has
 *                 swap accounting) so swap does not escape; v2 memory.max and memory.swap.max 0.
 *   cpu_count     quota = count x period (v1 cpu.cfs_quota_us, v2 cpu.max).
 *   cpu_maximum   quota = maximum / 10000 x online CPUs x period (at least 1 ms); with both
 *                 count and maximum the smaller quota wins.
 *   cpu_weight    v2 cpu.weight as is; v1 cpu.shares on two straight lines through
 *                 (1, 2), (100, 1024), (10000, 262144): weight 100 (the HCS default) is 1024
 *                 shares (the kernel's default), the ends of both ranges meet.
 *   pids_max      pids.max.
 * Errors: E_INVALIDARG naming the field for a value out of range; HCS_E_SERVICE_NOT_AVAILABLE
 * ("memory controller not available for Memory.SizeInMB ...") when a limit needs a controller
 * the job does not have; the kernel's refusal as "set <file> of job <name> to <value>: <cause>".
 */
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
 * The cgroup root in use: /sys/fs/cgroup, or HCS_CGROUP_ROOT. Chosen with the backend, once per
 * process; static storage. Environment (read once, with secure_getenv): HCS_CGROUP_ROOT (an
 * absolute path) and HCS_CGROUP_BACKEND=v1|v2 (forces a backend). A test that wants another
 * backend or root runs in a fresh process.
 */
const char *hcs_job_cgroup_root(void);

/*
 * Create the job's cgroups (name: a store id) with the limits applied. An existing cgroup of
 * that name (a leftover of a crashed monitor) is emptied and reused. Fails with
 * HCS_E_SERVICE_NOT_AVAILABLE naming what is missing when cgroups are not usable here.
 */
int hcs_job_create(const char *name, const hcs_job_limits *limits, hcs_job **out, hcs_error **err);

/*
 * Update limits of a live job (fields left 0 are left as they are; cpu_count and cpu_maximum
 * given together or alone replace the quota). v1 memory: lowering below the current usage that
 * cannot be reclaimed fails with "set memory.limit_in_bytes of job x to N: Device or resource
 * busy" and leaves the old limit.
 */
int hcs_job_set_limits(hcs_job *job, const hcs_job_limits *limits, hcs_error **err);

/* Move a process (and, as the kernel does, its future children) into the job. */
int hcs_job_add_pid(hcs_job *job, pid_t pid, hcs_error **err);

/*
 * Move the calling process into the job: for a child between clone and exec (a silo's init
 * joins before it runs anything), so nothing but plain system calls on descriptors the job
 * already holds - no allocation, no lock. 0, or -1 with errno.
 */
int hcs_job_join_self(const hcs_job *job);

/*
 * v2: an O_PATH | O_DIRECTORY | O_CLOEXEC fd of the cgroup for clone3(CLONE_INTO_CGROUP); -1
 * with v1. Owned by the job (valid until hcs_job_destroy).
 */
int hcs_job_cgroup_fd(const hcs_job *job);

/*
 * The directory of the job's cgroup that holds a controller's files ("memory", "cpu",
 * "cpuacct", "pids", "freezer"), or with controller NULL the one whose cgroup.procs
 * hcs_job_pids() reads. NULL when the controller is not available to the job. Valid until the
 * job is destroyed. For diagnostics (hcsdiag) and tests.
 */
const char *hcs_job_cgroup_path(const hcs_job *job, const char *controller);

/*
 * Statistics. v1: cpuacct.usage, cpuacct.stat (USER_HZ ticks converted to ns),
 * memory.usage_in_bytes / max_usage_in_bytes, pids.current. v2: cpu.stat, memory.current,
 * memory.peak (0 before Linux 5.19), pids.current (without the pids controller: the number of
 * processes). Counters of a controller the job does not have read 0.
 */
int hcs_job_stats_read(hcs_job *job, hcs_job_stats *out, hcs_error **err);

/*
 * The pids in the job (host pid namespace), including cgroups its processes made below the
 * job's own; caller frees *pids (never NULL on success, even when *n is 0).
 */
int hcs_job_pids(hcs_job *job, pid_t **pids, size_t *n, hcs_error **err);

/*
 * Freeze: v1 freezer.state FROZEN, v2 cgroup.freeze 1; returns once the kernel reports the
 * whole job frozen, or after 2 s with HCS_E_WIN32_TIMEOUT (the job is thawed again then).
 */
int hcs_job_freeze(hcs_job *job, hcs_error **err);
int hcs_job_thaw(hcs_job *job, hcs_error **err);
bool hcs_job_frozen(hcs_job *job);

/* SIGKILL every process of the job, frozen or not. Does not wait or reap. */
int hcs_job_kill(hcs_job *job, hcs_error **err);

/* True once no process is left in the job (in any hierarchy; zombies do not count). */
bool hcs_job_empty(hcs_job *job);

/*
 * Remove the job's cgroups (killing what is left and waiting up to a second for it to go, then
 * retrying a busy rmdir for up to another second) and free it. Cgroups the job's processes
 * made below its own are removed too; the "hcs" parents never are. NULL is ignored. After a
 * failure the job is still freed; the error says what stayed
 * ("remove cgroup /sys/fs/cgroup/memory/hcs/x: Device or resource busy").
 */
int hcs_job_destroy(hcs_job *job, hcs_error **err);

/* Remove the cgroups of a job by name (a crashed monitor's leftovers); absent is fine. */
int hcs_job_remove(const char *name, hcs_error **err);

#endif
