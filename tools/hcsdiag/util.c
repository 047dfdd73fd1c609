/*
 * util.c - what every hcsdiag command uses: messages and exit codes, option parsing, absolute
 * paths, layer GUIDs and LayerData documents.
 */
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
    snprintf(spec, sizeof(spec), ":%sh", shortopts);
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
