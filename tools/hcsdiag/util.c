/*
 * util.c - what every hcsdiag command uses: messages and exit codes, option parsing, absolute
 * paths, layer GUIDs and LayerData documents; for the compute-system commands, HRESULT names,
 * failure reports from ResultError documents, opening a system by id and finishing a call.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "hcsdiag.h"
#include "layer/layer.h"

int hd_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hcsdiag: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return HCSDIAG_FAIL;
}

int hd_usage(const hcsdiag_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hcsdiag: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fprintf(stderr, "usage: hcsdiag %s %s\n(hcsdiag %s --help for more)\n", cmd->name, cmd->args,
            cmd->name);
    return HCSDIAG_USAGE;
}

int hd_help(const hcsdiag_command *cmd)
{
    printf("usage: hcsdiag %s %s\n\n%s.\n", cmd->name, cmd->args, cmd->summary);
    if (cmd->help[0] != '\0')
        printf("\n%s", cmd->help);
    return HCSDIAG_OK;
}

int hd_fail_err(hcs_error *err)
{
    if (err == NULL)
        return hd_fail("failed (no error recorded)");
    hd_fail("%s (0x%08X)", err->message ? err->message : "out of memory", (unsigned)err->hr);
    hcs_err_free(err);
    return HCSDIAG_FAIL;
}

int hd_fail_api(const char *what, HRESULT hr)
{
    char *doc = NULL;
    HRESULT recorded = HcsGetErrorInfo(&doc);
    AUTOJSON cJSON *json = doc != NULL ? cJSON_Parse(doc) : NULL;
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(json, "ErrorMessage");
    if (cJSON_IsString(msg) && msg->valuestring[0] != '\0')
        hd_fail("%s: %s (0x%08X)", what, msg->valuestring, (unsigned)hr);
    else if (doc != NULL)
        hd_fail("%s: %s (0x%08X)", what, doc, (unsigned)hr);
    else
        hd_fail("%s failed (0x%08X)", what, (unsigned)(FAILED(recorded) ? recorded : hr));
    HcsFree(doc);
    return HCSDIAG_FAIL;
}

int hd_getopt(const hcsdiag_command *cmd, int argc, char **argv, const char *shortopts,
              const struct option *longopts, int *rc)
{
    static const struct option help_only[] = {{"help", no_argument, NULL, 'h'}, {0}};
    /* ':' first: a missing argument gives ':' (reported here), not a message from getopt. */
    char spec[64];
    bool in_order = shortopts[0] == '+';
    snprintf(spec, sizeof(spec), "%s:%sh", in_order ? "+" : "", shortopts + in_order);
    opterr = 0;
    int c = getopt_long(argc, argv, spec, longopts != NULL ? longopts : help_only, NULL);
    switch (c) {
    case 'h':
        *rc = hd_help(cmd);
        return -2;
    case ':':
        *rc = hd_usage(cmd, "%s needs a value", argv[optind - 1]);
        return -2;
    case '?':
        if (optopt != 0)
            *rc = hd_usage(cmd, "unknown option -%c", optopt);
        else
            *rc = hd_usage(cmd, "unknown option %s", argv[optind - 1]);
        return -2;
    default:
        return c;
    }
}

int hd_getopt_json(const hcsdiag_command *cmd, int argc, char **argv, bool *json)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
    int c, rc = 0;
    while ((c = hd_getopt(cmd, argc, argv, "", longopts, &rc)) != -1) {
        if (c == -2)
            return rc;
        if (c == 'j')
            *json = true;
    }
    return -1;
}

char *hd_abspath(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    if (strcmp(path, ".") == 0)
        return strdup(cwd);
    return hcs_asprintf("%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", path);
}

static unsigned nibble(char c)
{
    return c >= 'a' ? (unsigned)(c - 'a' + 10) : (unsigned)(c - '0');
}

void hd_layer_guid(const char *diff_id, char out[37])
{
    AUTOFREE char *text = hcs_asprintf("hcs-layer:%s", diff_id);
    char hex[HD_DIGEST_LEN];
    hd_sha256_text(text != NULL ? text : "", text != NULL ? strlen(text) : 0, hex);
    unsigned char b[16];
    for (size_t i = 0; i < 16; i++)
        b[i] = (unsigned char)(nibble(hex[7 + 2 * i]) << 4 | nibble(hex[8 + 2 * i]));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x50); /* version 5: name-based, SHA hash */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant: RFC 4122 */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

char *hd_layer_data(char *const *paths, size_t n)
{
    if (n == 0)
        return NULL;
    AUTOJSON cJSON *doc = cJSON_CreateObject();
    cJSON *version = cJSON_AddObjectToObject(doc, "SchemaVersion");
    cJSON_AddNumberToObject(version, "Major", 2);
    cJSON_AddNumberToObject(version, "Minor", 1);
    cJSON *layers = cJSON_AddArrayToObject(doc, "Layers");
    for (size_t i = 0; i < n; i++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddItemToArray(layers, l);
        hcs_layer_info info = {0};
        hcs_error *err = NULL;
        if (hcs_layer_info_read(paths[i], &info, &err) == 0 &&
            info.kind == HCS_LAYER_KIND_READONLY && info.diff_id != NULL) {
            char guid[37];
            hd_layer_guid(info.diff_id, guid);
            cJSON_AddStringToObject(l, "Id", guid);
        }
        /* No Id for a plain folder or an unreadable layer.json: the call itself reports it. */
        hcs_err_free(err);
        hcs_layer_info_free(&info);
        cJSON_AddStringToObject(l, "Path", paths[i]);
    }
    return cJSON_PrintUnformatted(doc);
}

const char *hd_size(uint64_t bytes, char *buf, size_t size)
{
    if (bytes < 1024)
        snprintf(buf, size, "%" PRIu64 " B", bytes);
    else if (bytes < 1024ULL * 1024)
        snprintf(buf, size, "%.1f KiB", (double)bytes / 1024);
    else if (bytes < 1024ULL * 1024 * 1024)
        snprintf(buf, size, "%.1f MiB", (double)bytes / (1024 * 1024));
    else
        snprintf(buf, size, "%.2f GiB", (double)bytes / (1024.0 * 1024 * 1024));
    return buf;
}

/* --- compute systems ---------------------------------------------------------------------------
 */

#define HR(name)                                                                                   \
    {                                                                                              \
        name, #name                                                                                \
    }
static const struct {
    HRESULT hr;
    const char *name;
} hresult_names[] = {
    HR(E_NOTIMPL),
    HR(E_POINTER),
    HR(E_FAIL),
    HR(E_ACCESSDENIED),
    HR(E_HANDLE),
    HR(E_OUTOFMEMORY),
    HR(E_INVALIDARG),
    HR(HCS_E_FILE_NOT_FOUND),
    HR(HCS_E_ALREADY_EXISTS),
    HR(HCS_E_NOT_SUPPORTED),
    HR(HCS_E_WIN32_TIMEOUT),
    HR(HCS_E_CANCELLED),
    HR(HCS_E_TERMINATED_DURING_START),
    HR(HCS_E_IMAGE_MISMATCH),
    HR(HCS_E_HYPERV_NOT_INSTALLED),
    HR(HCS_E_INVALID_STATE),
    HR(HCS_E_UNEXPECTED_EXIT),
    HR(HCS_E_TERMINATED),
    HR(HCS_E_CONNECT_FAILED),
    HR(HCS_E_CONNECTION_TIMEOUT),
    HR(HCS_E_CONNECTION_CLOSED),
    HR(HCS_E_UNKNOWN_MESSAGE),
    HR(HCS_E_UNSUPPORTED_PROTOCOL_VERSION),
    HR(HCS_E_INVALID_JSON),
    HR(HCS_E_SYSTEM_NOT_FOUND),
    HR(HCS_E_SYSTEM_ALREADY_EXISTS),
    HR(HCS_E_SYSTEM_ALREADY_STOPPED),
    HR(HCS_E_PROTOCOL_ERROR),
    HR(HCS_E_INVALID_LAYER),
    HR(HCS_E_WINDOWS_INSIDER_REQUIRED),
    HR(HCS_E_SERVICE_NOT_AVAILABLE),
    HR(HCS_E_OPERATION_NOT_STARTED),
    HR(HCS_E_OPERATION_ALREADY_STARTED),
    HR(HCS_E_OPERATION_PENDING),
    HR(HCS_E_OPERATION_TIMEOUT),
    HR(HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET),
    HR(HCS_E_OPERATION_RESULT_ALLOCATION_FAILED),
    HR(HCS_E_ACCESS_DENIED),
    HR(HCS_E_GUEST_CRITICAL_ERROR),
    HR(HCS_E_PROCESS_INFO_NOT_AVAILABLE),
    HR(HCS_E_SERVICE_DISCONNECT),
    HR(HCS_E_PROCESS_ALREADY_STOPPED),
    HR(HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION),
    HR(HCS_E_OPERATION_ALREADY_CANCELLED),
};
#undef HR

const char *hd_hresult_text(HRESULT hr, char *buf, size_t size)
{
    for (size_t i = 0; i < HCS_ARRAY_SIZE(hresult_names); i++)
        if (hresult_names[i].hr == hr) {
            snprintf(buf, size, "%s 0x%08X", hresult_names[i].name, (unsigned)hr);
            return buf;
        }
    int e = HCS_HRESULT_ERRNO(hr);
    const char *ename = e != 0 ? strerrorname_np(e) : NULL;
    if (ename != NULL)
        snprintf(buf, size, "HRESULT_FROM_ERRNO(%s) 0x%08X", ename, (unsigned)hr);
    else
        snprintf(buf, size, "0x%08X", (unsigned)hr);
    return buf;
}

int hd_fail_system(const char *what, const char *id, HRESULT hr, const char *doc)
{
    char *recorded = NULL;
    if (doc == NULL) {
        HcsGetErrorInfo(&recorded);
        doc = recorded;
    }
    AUTOJSON cJSON *json = doc != NULL ? cJSON_Parse(doc) : NULL;
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "ErrorMessage"));
    if (msg == NULL || msg[0] == '\0')
        msg = doc != NULL && json == NULL ? doc : "(no message)";
    char name[96];
    hd_hresult_text(hr, name, sizeof(name));
    /* The library says `compute system "X" not found`; say which id the user gave, plainly. */
    if (hr == HCS_E_SYSTEM_NOT_FOUND && id != NULL)
        hd_fail("%s %s: %s: no compute system with id \"%s\" (%s; hcsdiag list shows the ids)",
                what, id, name, id, msg);
    else if (id != NULL)
        hd_fail("%s %s: %s: %s", what, id, name, msg);
    else
        hd_fail("%s: %s: %s", what, name, msg);
    HcsFree(recorded);
    return HCSDIAG_FAIL;
}

int hd_open_system(const char *what, const char *id, HCS_SYSTEM *sys)
{
    *sys = NULL;
    HRESULT hr = HcsOpenComputeSystem(id, HCS_GENERIC_ALL, sys);
    if (FAILED(hr)) {
        *sys = NULL;
        return hd_fail_system(what, id, hr, NULL);
    }
    return HCSDIAG_OK;
}

int hd_finish(const char *what, const char *id, HCS_OPERATION op, HRESULT hr, char **result)
{
    char *doc = NULL;
    if (result != NULL)
        *result = NULL;
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResult(op, HCS_INFINITE, &doc);
    else
        HcsGetOperationResult(op, &doc);
    if (FAILED(hr)) {
        int rc = hd_fail_system(what, id, hr, doc);
        HcsFree(doc);
        return rc;
    }
    if (result != NULL)
        *result = doc;
    else
        HcsFree(doc);
    return HCSDIAG_OK;
}

char *hd_read_input(const char *path, size_t max)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    const char *name = is_stdin ? "standard input" : path;
    if (fd < 0) {
        hd_fail("cannot open %s: %s", name, strerror(errno));
        return NULL;
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            hd_fail("%s: out of memory", name);
            break;
        }
        if (len + 1 == cap) {
            char *bigger = cap * 2 <= max ? realloc(buf, cap * 2) : NULL;
            if (bigger == NULL) {
                hd_fail("%s: over the %zu MiB a document may have", name, max >> 20);
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            hd_fail("cannot read %s: %s", name, strerror(errno));
            free(buf);
            buf = NULL;
            break;
        }
        if (n == 0) {
            buf[len] = '\0';
            break;
        }
        len += (size_t)n;
    }
    if (!is_stdin)
        close(fd);
    return buf;
}

cJSON *hd_json_parse(const char *text)
{
    cJSON *json = NULL;
    hcs_error *err = NULL;
    if (text == NULL || hcs_json_parse(text, strlen(text), "document", &json, &err) < 0) {
        hcs_err_free(err);
        return NULL;
    }
    return json;
}

void hd_print_json(const cJSON *json)
{
    AUTOFREE char *text = hcs_json_print(json);
    printf("%s\n", text != NULL ? text : "null");
}

int hd_seconds(const char *text, uint32_t max, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}
