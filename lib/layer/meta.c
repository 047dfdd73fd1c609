/*
 * meta.c - layer.json: what a layer folder is (read-only, writable), its diff id, its parents.
 *
 *   {"SchemaVersion":1, "Kind":"ReadOnly", "DiffId":"sha256:...", "Size":123, "Entries":4,
 *    "Parents":["/abs/path", ...], "Backend":"overlay", "Attached":false}
 *
 * Written atomically and durably (the data root must survive a crash). Unknown fields are
 * ignored so that a newer libhcs may add some; a newer SchemaVersion is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "layer.h"

#define META_VERSION 1
#define META_MAX (1 << 20)

static const char *const kinds[] = {"Folder", "ReadOnly", "Writable"};
static const char *const backends[] = {"none", "overlay", "copy"};

const char *hcs_layer_backend_name(enum hcs_layer_backend b)
{
    return (size_t)b < HCS_ARRAY_SIZE(backends) ? backends[b] : "unknown";
}

void hcs_layer_digest_text(const uint8_t raw[32], char out[HCS_LAYER_DIGEST_LEN])
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256:", 7);
    for (size_t i = 0; i < 32; i++) {
        out[7 + 2 * i] = hex[raw[i] >> 4];
        out[8 + 2 * i] = hex[raw[i] & 15];
    }
    out[7 + 2 * 32] = '\0';
}

void hcs_layer_info_free(hcs_layer_info *info)
{
    if (info == NULL)
        return;
    free(info->diff_id);
    for (size_t i = 0; i < info->n_parents; i++)
        free(info->parents[i]);
    free(info->parents);
    memset(info, 0, sizeof(*info));
}

static int bad(hcs_error **err, const char *path, const char *what)
{
    return hcs_err_set(err, HCS_E_INVALID_LAYER, "%s/%s: %s", path, HCS_LAYER_META, what);
}

static int lookup(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (s != NULL && strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

static int parse(const char *path, const cJSON *doc, hcs_layer_info *out, hcs_error **err)
{
    uint64_t version = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "SchemaVersion");
    if (!cJSON_IsObject(doc) || hcs_json_u64(v, &version) < 0)
        return bad(err, path, "not a layer description (no SchemaVersion)");
    if (version > META_VERSION)
        return bad(err, path, "written by a newer libhcs (SchemaVersion is newer than 1)");
    int kind = lookup(kinds, HCS_ARRAY_SIZE(kinds),
                      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "Kind")));
    if (kind <= 0)
        return bad(err, path, "Kind must be \"ReadOnly\" or \"Writable\"");
    out->kind = (enum hcs_layer_kind)kind;
    const char *diff = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "DiffId"));
    if (diff != NULL && (out->diff_id = strdup(diff)) == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(doc, "Size");
    if (size != NULL && hcs_json_u64(size, &out->size) < 0)
        return bad(err, path, "Size is not a number of bytes");
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(doc, "Entries");
    if (entries != NULL && hcs_json_u64(entries, &out->entries) < 0)
        return bad(err, path, "Entries is not a count");
    const cJSON *parents = cJSON_GetObjectItemCaseSensitive(doc, "Parents");
    if (parents != NULL && !cJSON_IsArray(parents))
        return bad(err, path, "Parents is not an array of paths");
    size_t n = (size_t)cJSON_GetArraySize(parents);
    if ((out->parents = calloc(n ? n : 1, sizeof(*out->parents))) == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    const cJSON *p;
    cJSON_ArrayForEach(p, parents)
    {
        if (!cJSON_IsString(p) || p->valuestring[0] != '/')
            return bad(err, path, "Parents holds something other than an absolute path");
        if ((out->parents[out->n_parents++] = strdup(p->valuestring)) == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    const char *backend = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "Backend"));
    if (backend != NULL) {
        int b = lookup(backends, HCS_ARRAY_SIZE(backends), backend);
        if (b < 0)
            return bad(err, path, "Backend must be \"overlay\" or \"copy\"");
        out->backend = (enum hcs_layer_backend)b;
    }
    out->attached = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "Attached"));
    if (out->kind == HCS_LAYER_KIND_WRITABLE && out->backend == HCS_LAYER_BACKEND_NONE)
        return bad(err, path, "a writable layer without a Backend");
    return 0;
}

int hcs_layer_info_read(const char *path, hcs_layer_info *out, hcs_error **err)
{
    memset(out, 0, sizeof(*out));
    if (path == NULL || path[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "layer path \"%s\" is not absolute",
                           path ? path : "(null)");
    AUTOCLOSE int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return hcs_err_errno(err, errno, "layer %s", path);
    AUTOFREE char *text = NULL;
    size_t len = 0;
    AUTOERR hcs_error *rerr = NULL;
    if (hcs_read_file_at(dfd, HCS_LAYER_META, META_MAX, &text, &len, &rerr) < 0) {
        struct stat st;
        if (fstatat(dfd, HCS_LAYER_META, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
            return 0; /* a plain folder */
        hcs_err_move(err, &rerr);
        return -1;
    }
    AUTOJSON cJSON *doc = NULL;
    AUTOERR hcs_error *perr = NULL;
    if (hcs_json_parse(text, len, HCS_LAYER_META, &doc, &perr) < 0)
        return bad(err, path, "not valid JSON");
    if (parse(path, doc, out, err) < 0) {
        hcs_layer_info_free(out);
        return -1;
    }
    return 0;
}

static int info_write(const char *path, const hcs_layer_info *info, bool durable, hcs_error **err)
{
    if (info->kind != HCS_LAYER_KIND_READONLY && info->kind != HCS_LAYER_KIND_WRITABLE)
        return hcs_err_set(err, E_INVALIDARG, "%s: only read-only and writable layers have a %s",
                           path, HCS_LAYER_META);
    AUTOJSON cJSON *doc = cJSON_CreateObject();
    if (doc == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    hcs_json_add_u64(doc, "SchemaVersion", META_VERSION);
    cJSON_AddStringToObject(doc, "Kind", kinds[info->kind]);
    if (info->diff_id != NULL)
        cJSON_AddStringToObject(doc, "DiffId", info->diff_id);
    if (info->kind == HCS_LAYER_KIND_READONLY) {
        hcs_json_add_u64(doc, "Size", info->size);
        hcs_json_add_u64(doc, "Entries", info->entries);
    }
    cJSON *parents = cJSON_AddArrayToObject(doc, "Parents");
    for (size_t i = 0; parents != NULL && i < info->n_parents; i++)
        cJSON_AddItemToArray(parents, cJSON_CreateString(info->parents[i]));
    if (info->kind == HCS_LAYER_KIND_WRITABLE) {
        cJSON_AddStringToObject(doc, "Backend", hcs_layer_backend_name(info->backend));
        cJSON_AddBoolToObject(doc, "Attached", info->attached);
    }
    AUTOFREE char *text = hcs_json_print(doc);
    if (text == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    AUTOCLOSE int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return hcs_err_errno(err, errno, "layer %s", path);
    if (hcs_write_file_atomic(dfd, HCS_LAYER_META, text, strlen(text), 0644, durable, err) < 0)
        return hcs_err_wrap(err, "layer %s", path);
    return 0;
}

int hcs_layer_info_write(const char *path, const hcs_layer_info *info, hcs_error **err)
{
    return info_write(path, info, true, err);
}

int hcs_layer_info_update(const char *path, const hcs_layer_info *info, hcs_error **err)
{
    return info_write(path, info, false, err);
}

int hcs_layer_files_path(const char *path, char **out, hcs_error **err)
{
    hcs_layer_info info;
    if (hcs_layer_info_read(path, &info, err) < 0)
        return -1;
    enum hcs_layer_kind kind = info.kind;
    hcs_layer_info_free(&info);
    if (kind == HCS_LAYER_KIND_WRITABLE)
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "%s is a writable layer, not a read-only one (import a layer, or "
                           "export this one and import the archive)",
                           path);
    *out = kind == HCS_LAYER_KIND_READONLY ? hcs_asprintf("%s/%s", path, HCS_LAYER_FILES)
                                           : strdup(path);
    if (*out == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    return 0;
}
