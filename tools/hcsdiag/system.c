/*
 * system.c - `hcsdiag list|create|start|shutdown|kill|pause|resume|wait`: the lifecycle of
 * compute systems through the public API. Systems outlive hcsdiag (each has its own monitor):
 * every command but list and create opens the system by id, acts, and closes its handle.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/cleanup.h"
#include "hcsdiag.h"

#define MAX_DOCUMENT (16u << 20)

/* The options and the one ID argument of a command that takes only --help besides. */
static int one_id(const hcsdiag_command *cmd, int argc, char **argv, const char **id, int *rc)
{
    int c;
    while ((c = hd_getopt(cmd, argc, argv, "", NULL, rc)) != -1)
        if (c == -2)
            return -1;
    if (argc - optind != 1) {
        *rc = hd_usage(cmd, argc - optind < 1 ? "ID is missing" : "too many arguments");
        return -1;
    }
    *id = argv[optind];
    return 0;
}

/* Open id, make the call, wait for it, close. */
static int simple_call(const hcsdiag_command *cmd, int argc, char **argv,
                       HRESULT (*call)(HCS_SYSTEM, HCS_OPERATION, const char *))
{
    const char *id = NULL;
    int rc = 0;
    if (one_id(cmd, argc, argv, &id, &rc) < 0)
        return rc;
    HCS_SYSTEM sys = NULL;
    if ((rc = hd_open_system(cmd->name, id, &sys)) != HCSDIAG_OK)
        return rc;
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    rc = op == NULL ? hd_fail("out of memory")
                    : hd_finish(cmd->name, id, op, call(sys, op, NULL), NULL);
    HcsCloseOperation(op);
    HcsCloseComputeSystem(sys);
    return rc;
}

/* --- list ----------------------------------------------------------------------------------- */

static const char *member(const cJSON *obj, const char *name)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, name));
    return s != NULL && s[0] != '\0' ? s : "-";
}

static int by_id(const void *a, const void *b)
{
    return strcmp(member(*(const cJSON *const *)a, "Id"), member(*(const cJSON *const *)b, "Id"));
}

int hcsdiag_list(const hcsdiag_command *cmd, int argc, char **argv)
{
    bool json = false;
    int rc = hd_getopt_json(cmd, argc, argv, &json);
    if (rc >= 0)
        return rc;
    if (argc - optind > 1)
        return hd_usage(cmd, "too many arguments (QUERY is one SystemQuery document)");
    const char *query = argc - optind == 1 ? argv[optind] : NULL;
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    if (op == NULL)
        return hd_fail("out of memory");
    char *doc = NULL;
    rc = hd_finish("list", NULL, op, HcsEnumerateComputeSystems(query, op), &doc);
    HcsCloseOperation(op);
    if (rc != HCSDIAG_OK)
        return rc;
    if (json) {
        printf("%s\n", doc != NULL ? doc : "[]");
        HcsFree(doc);
        return HCSDIAG_OK;
    }
    AUTOJSON cJSON *list = hd_json_parse(doc);
    HcsFree(doc);
    if (!cJSON_IsArray(list))
        return hd_fail("list: the enumeration result is not a JSON array");
    size_t n = (size_t)cJSON_GetArraySize(list);
    AUTOFREE const cJSON **items = calloc(n + 1, sizeof(*items));
    if (items == NULL)
        return hd_fail("out of memory");
    static const char *const columns[] = {"Id", "State", "Owner", "SystemType"};
    static const char *const headers[] = {"ID", "STATE", "OWNER", "TYPE"};
    int width[4];
    for (size_t k = 0; k < 4; k++)
        width[k] = (int)strlen(headers[k]);
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        items[i++] = item;
        for (size_t k = 0; k < 4; k++) {
            int w = (int)strlen(member(item, columns[k]));
            if (w > width[k])
                width[k] = w;
        }
    }
    qsort(items, n, sizeof(*items), by_id);
    printf("%-*s  %-*s  %-*s  %s\n", width[0], headers[0], width[1], headers[1], width[2],
           headers[2], headers[3]);
    for (i = 0; i < n; i++)
        printf("%-*s  %-*s  %-*s  %s\n", width[0], member(items[i], "Id"), width[1],
               member(items[i], "State"), width[2], member(items[i], "Owner"),
               member(items[i], "SystemType"));
    return HCSDIAG_OK;
}

/* --- create --------------------------------------------------------------------------------- */

/* A random RFC 4122 version 4 GUID, lowercase, into out (37 bytes). */
static int random_guid(char out[37])
{
    unsigned char b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

int hcsdiag_create(const hcsdiag_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {{"start", no_argument, NULL, 's'},
                                             {"id", required_argument, NULL, 'i'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    bool start = false;
    const char *id = NULL;
    int c, rc = 0;
    while ((c = hd_getopt(cmd, argc, argv, "", longopts, &rc)) != -1) {
        if (c == -2)
            return rc;
        if (c == 's')
            start = true;
        else if (c == 'i')
            id = optarg;
    }
    if (argc - optind != 1)
        return hd_usage(cmd, argc - optind < 1 ? "FILE is missing (- for standard input)"
                                               : "too many arguments");
    char guid[37];
    if (id == NULL) {
        if (random_guid(guid) < 0)
            return hd_fail("create: cannot make a random id: getrandom failed");
        id = guid;
    }
    AUTOFREE char *doc = hd_read_input(argv[optind], MAX_DOCUMENT);
    if (doc == NULL)
        return HCSDIAG_FAIL;
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    if (op == NULL)
        return hd_fail("out of memory");
    HCS_SYSTEM sys = NULL;
    rc = hd_finish("create", id, op, HcsCreateComputeSystem(id, doc, op, NULL, &sys), NULL);
    if (rc == HCSDIAG_OK && start) {
        rc = hd_finish("start", id, op, HcsStartComputeSystem(sys, op, NULL), NULL);
        if (rc != HCSDIAG_OK) {
            /* create --start is one step: do not leave a created, never started system. */
            if (SUCCEEDED(HcsTerminateComputeSystem(sys, op, NULL)))
                HcsWaitForOperationResult(op, HCS_INFINITE, NULL);
            HcsWaitForComputeSystemExit(sys, 10000, NULL);
            hd_fail("create %s: the system did not start and was removed again", id);
        }
    }
    if (rc == HCSDIAG_OK)
        printf("%s\n", id);
    HcsCloseComputeSystem(sys);
    HcsCloseOperation(op);
    return rc;
}

/* --- start, pause, resume ------------------------------------------------------------------- */

int hcsdiag_start(const hcsdiag_command *cmd, int argc, char **argv)
{
    return simple_call(cmd, argc, argv, HcsStartComputeSystem);
}

int hcsdiag_pause(const hcsdiag_command *cmd, int argc, char **argv)
{
    return simple_call(cmd, argc, argv, HcsPauseComputeSystem);
}

int hcsdiag_resume(const hcsdiag_command *cmd, int argc, char **argv)
{
    return simple_call(cmd, argc, argv, HcsResumeComputeSystem);
}

/* --- shutdown, kill, wait ------------------------------------------------------------------- */

/* "ID: stopped (GracefulExit)", or the SystemExitStatus document with --json. */
static void print_exit(const char *id, const char *status, bool json)
{
    if (json) {
        printf("%s\n", status != NULL ? status : "{}");
        return;
    }
    AUTOJSON cJSON *doc = hd_json_parse(status);
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "ExitType"));
    int64_t hr = 0;
    hcs_json_i64(cJSON_GetObjectItemCaseSensitive(doc, "Status"), &hr);
    printf("%s: stopped (%s)", id, type != NULL ? type : "unknown exit type");
    if (hr != 0) {
        char name[96];
        printf(", status %s", hd_hresult_text((HRESULT)hr, name, sizeof(name)));
    }
    printf("\n");
}

/* A stop command's options (--json; --timeout SECONDS when it takes one), and its system. */
typedef struct {
    const char *id;
    bool json, timed;
    uint32_t seconds;
    HCS_SYSTEM sys;
} stop_cmd;

/*
 * Parse the options (--timeout up to max seconds when max > 0) and the one ID, then open the
 * system as what: 0, or -1 when the command returns *rc now (--help, a usage error, a failure).
 */
static int stop_open(const hcsdiag_command *cmd, int argc, char **argv, uint32_t max,
                     const char *what, stop_cmd *s, int *rc)
{
    static const struct option with_timeout[] = {{"json", no_argument, NULL, 'j'},
                                                 {"timeout", required_argument, NULL, 't'},
                                                 {"help", no_argument, NULL, 'h'},
                                                 {0}};
    static const struct option json_only[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
    int c;
    *rc = HCSDIAG_OK;
    while ((c = hd_getopt(cmd, argc, argv, "", max > 0 ? with_timeout : json_only, rc)) != -1) {
        if (c == -2)
            return -1;
        if (c == 'j') {
            s->json = true;
        } else if (c == 't') {
            if (hd_seconds(optarg, max, &s->seconds) < 0) {
                *rc = hd_usage(cmd, "--timeout %s: expected a whole number of seconds, 0 to %u",
                               optarg, max);
                return -1;
            }
            s->timed = true;
        }
    }
    if (argc - optind != 1) {
        *rc = hd_usage(cmd, argc - optind < 1 ? "ID is missing" : "too many arguments");
        return -1;
    }
    s->id = argv[optind];
    *rc = hd_open_system(what, s->id, &s->sys);
    return *rc == HCSDIAG_OK ? 0 : -1;
}

/* Wait for the system's exit (timeout_ms), report it, close the system. */
static int report_exit(const char *what, stop_cmd *s, uint32_t timeout_ms)
{
    char *status = NULL;
    HRESULT hr = HcsWaitForComputeSystemExit(s->sys, timeout_ms, &status);
    int rc = HCSDIAG_OK;
    if (FAILED(hr))
        rc = hd_fail_system(what, s->id, hr, status);
    else
        print_exit(s->id, status, s->json);
    HcsFree(status);
    HcsCloseComputeSystem(s->sys);
    return rc;
}

/* Make the stop call (options: its document or NULL), wait for it, then report the exit. */
static int stop_call(const char *what, stop_cmd *s,
                     HRESULT (*call)(HCS_SYSTEM, HCS_OPERATION, const char *), const char *options)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    int rc = op == NULL ? hd_fail("out of memory")
                        : hd_finish(what, s->id, op, call(s->sys, op, options), NULL);
    HcsCloseOperation(op);
    if (rc != HCSDIAG_OK) {
        HcsCloseComputeSystem(s->sys);
        return rc;
    }
    return report_exit(what, s, HCS_INFINITE);
}

int hcsdiag_shutdown(const hcsdiag_command *cmd, int argc, char **argv)
{
    stop_cmd s = {0};
    int rc = 0;
    if (stop_open(cmd, argc, argv, 86400, "shutdown", &s, &rc) < 0)
        return rc;
    char options[64] = "";
    if (s.timed)
        snprintf(options, sizeof(options), "{\"GracePeriodSeconds\":%u}", s.seconds);
    return stop_call("shutdown", &s, HcsShutDownComputeSystem, options);
}

int hcsdiag_kill(const hcsdiag_command *cmd, int argc, char **argv)
{
    stop_cmd s = {0};
    int rc = 0;
    if (stop_open(cmd, argc, argv, 0, cmd->name, &s, &rc) < 0)
        return rc;
    return stop_call(cmd->name, &s, HcsTerminateComputeSystem, NULL);
}

int hcsdiag_wait(const hcsdiag_command *cmd, int argc, char **argv)
{
    stop_cmd s = {0};
    int rc = 0;
    if (stop_open(cmd, argc, argv, (HCS_INFINITE - 1) / 1000, "wait", &s, &rc) < 0)
        return rc;
    return report_exit("wait", &s, s.timed ? s.seconds * 1000 : HCS_INFINITE);
}
