/* properties.c - the Properties document of a compute system (HcsGetComputeSystemProperties). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "monitor_internal.h"

#define NS_PER_100NS 100ULL

/* Process details from /proc/<pid>: its pid inside the container, name, times, memory. */
static cJSON *process_details(pid_t host_pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)host_pid);
    AUTOFREE char *status = NULL;
    if (hcs_read_file_at(AT_FDCWD, path, 1 << 16, &status, NULL, NULL) < 0)
        return NULL;
    long long ns_pid = -1, rss_kb = 0, vm_kb = 0;
    char name[64] = "";
    for (char *line = strtok(status, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (strncmp(line, "Name:", 5) == 0)
            snprintf(name, sizeof(name), "%s", line + 5 + strspn(line + 5, " \t"));
        else if (strncmp(line, "NSpid:", 6) == 0) {
            char *last = strrchr(line, '\t');
            ns_pid = strtoll(last ? last + 1 : line + 6, NULL, 10);
        } else if (strncmp(line, "VmRSS:", 6) == 0)
            rss_kb = strtoll(line + 6, NULL, 10);
        else if (strncmp(line, "VmSize:", 7) == 0)
            vm_kb = strtoll(line + 7, NULL, 10);
    }
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)host_pid);
    AUTOFREE char *stat = NULL;
    unsigned long long utime = 0, stime = 0;
    if (hcs_read_file_at(AT_FDCWD, path, 1 << 16, &stat, NULL, NULL) == 0) {
        /* After "(comm)": the state is field 3; utime and stime are fields 14 and 15. */
        char *p = strrchr(stat, ')');
        char *save = NULL;
        int field = 2;
        for (char *tok = p ? strtok_r(p + 1, " ", &save) : NULL; tok != NULL;
             tok = strtok_r(NULL, " ", &save)) {
            if (++field == 14) {
                utime = strtoull(tok, NULL, 10);
            } else if (field == 15) {
                stime = strtoull(tok, NULL, 10);
                break;
            }
        }
    }
    unsigned long long tick_ns = 1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK);
    cJSON *d = cJSON_CreateObject();
    hcs_json_add_i64(d, "ProcessId", ns_pid);
    cJSON_AddStringToObject(d, "ImageName", name);
    hcs_json_add_u64(d, "UserTime100ns", utime * tick_ns / NS_PER_100NS);
    hcs_json_add_u64(d, "KernelTime100ns", stime * tick_ns / NS_PER_100NS);
    hcs_json_add_u64(d, "MemoryCommitBytes", (uint64_t)vm_kb * 1024);
    hcs_json_add_u64(d, "MemoryWorkingSetPrivateBytes", (uint64_t)rss_kb * 1024);
    return d;
}

static void rfc3339_now(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int add_statistics(cJSON *props, hcs_error **err)
{
    hcs_monitor *m = hcs_mon();
    hcs_job_stats st = {0};
    if (m->job != NULL && hcs_job_stats_read(m->job, &st, err) < 0)
        return -1;
    cJSON *s = cJSON_AddObjectToObject(props, "Statistics");
    char now[40];
    rfc3339_now(now, sizeof(now));
    cJSON_AddStringToObject(s, "Timestamp", now);
    unsigned long long up = m->started_ms ? hcs_now_ms() - m->started_ms : 0;
    hcs_json_add_u64(s, "Uptime100ns", up * 10000ULL);
    cJSON *p = cJSON_AddObjectToObject(s, "Processor");
    hcs_json_add_u64(p, "TotalRuntime100ns", st.cpu_total_ns / NS_PER_100NS);
    hcs_json_add_u64(p, "RuntimeUser100ns", st.cpu_user_ns / NS_PER_100NS);
    hcs_json_add_u64(p, "RuntimeKernel100ns", st.cpu_kernel_ns / NS_PER_100NS);
    cJSON *mem = cJSON_AddObjectToObject(s, "Memory");
    hcs_json_add_u64(mem, "MemoryUsageCommitBytes", st.memory_usage_bytes);
    hcs_json_add_u64(mem, "MemoryUsageCommitPeakBytes", st.memory_peak_bytes);
    hcs_json_add_u64(mem, "MemoryUsagePrivateWorkingSetBytes", st.memory_usage_bytes);
    hcs_json_add_u64(s, "ProcessCount", st.pids_current); /* libhcs extension */
    return 0;
}

static int add_process_list(cJSON *props, hcs_error **err)
{
    hcs_monitor *m = hcs_mon();
    cJSON *list = cJSON_AddArrayToObject(props, "ProcessList");
    if (m->job == NULL)
        return 0;
    pid_t *pids = NULL;
    size_t n = 0;
    if (hcs_job_pids(m->job, &pids, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        cJSON *d = process_details(pids[i]);
        if (d != NULL)
            cJSON_AddItemToArray(list, d);
    }
    free(pids);
    return 0;
}

static void add_memory(cJSON *props)
{
    hcs_monitor *m = hcs_mon();
    hcs_job_stats st = {0};
    if (m->job != NULL)
        hcs_job_stats_read(m->job, &st, NULL);
    cJSON *mem = cJSON_AddObjectToObject(props, "Memory");
    const hcs_doc_container *c = m->doc->container;
    if (c != NULL && c->memory != NULL && c->memory->size_in_mb.set)
        hcs_json_add_u64(mem, "SizeInMB", c->memory->size_in_mb.value);
    hcs_json_add_u64(mem, "UsageBytes", st.memory_usage_bytes);
    hcs_json_add_u64(mem, "PeakUsageBytes", st.memory_peak_bytes);
}

/* "Registry" (libhcs extension): the key RegistryQuery names, as hcs_reg_query_json answers. */
static int add_registry(cJSON *props, const cJSON *query, hcs_error **err)
{
    hcs_monitor *m = hcs_mon();
    const cJSON *rq = cJSON_GetObjectItemCaseSensitive(query, "RegistryQuery");
    const char *hive = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq, "Hive"));
    const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq, "Name"));
    enum hcs_reg_hive h;
    if (m->reg == NULL)
        return hcs_err_set(err, HCS_E_SYSTEM_ALREADY_STOPPED,
                           "RegistryQuery: compute system \"%s\" has stopped", m->id);
    if (hive == NULL)
        return hcs_err_set(err, HCS_E_INVALID_JSON,
                           "RegistryQuery.Hive: required field is missing");
    if (hcs_reg_hive_parse(hive, &h, err) < 0)
        return hcs_err_wrap(err, "RegistryQuery.Hive");
    if (hcs_reg_key_check("RegistryQuery.Name", key ? key : "", err) < 0)
        return -1;
    cJSON *answer = hcs_reg_query_json(m->reg, h, key ? key : "", err);
    if (answer == NULL)
        return hcs_err_wrap(err, "RegistryQuery");
    cJSON_AddItemToObject(props, "Registry", answer);
    return 0;
}

cJSON *hcs_mon_properties(const cJSON *query, hcs_error **err)
{
    hcs_monitor *m = hcs_mon();
    AUTOJSON cJSON *props = cJSON_CreateObject();
    cJSON_AddStringToObject(props, "Id", m->id);
    cJSON_AddStringToObject(props, "SystemType", "Container");
    cJSON_AddStringToObject(props, "Name", m->id);
    cJSON_AddStringToObject(props, "Owner", m->doc->owner ? m->doc->owner : "");
    cJSON_AddStringToObject(props, "RuntimeOsType", "Linux");
    cJSON_AddStringToObject(props, "State", m->state);
    bool stopped = strcmp(m->state, "Stopped") == 0;
    cJSON_AddBoolToObject(props, "Stopped", stopped);
    if (stopped)
        cJSON_AddStringToObject(props, "ExitType", m->exit_type ? m->exit_type : "None");
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(query, "PropertyTypes");
    const cJSON *t;
    cJSON_ArrayForEach(t, types)
    {
        const char *name = cJSON_GetStringValue(t);
        if (name == NULL)
            continue;
        if (strcmp(name, "Statistics") == 0 && add_statistics(props, err) < 0)
            return NULL;
        if (strcmp(name, "ProcessList") == 0 && add_process_list(props, err) < 0)
            return NULL;
        if (strcmp(name, "Memory") == 0)
            add_memory(props);
        if (strcmp(name, "Registry") == 0 && add_registry(props, query, err) < 0)
            return NULL;
        if (strcmp(name, "TerminateOnLastHandleClosed") == 0)
            cJSON_AddBoolToObject(props, "TerminateOnLastHandleClosed", m->terminate_on_last_close);
    }
    return steal_ptr(&props);
}
