/*
 * json.c - RegistryChanges documents applied to a system's registry, and registry queries
 * answered as JSON (values in the RegistryValue shape of the schema).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <nettle/base64.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "registry.h"

/* The schema's RegistryValueType names and the REG_* number each stands for. */
static const struct {
    const char *name;
    uint32_t type;
} value_types[] = {
    {"None", HCS_REG_NONE},
    {"String", HCS_REG_SZ},
    {"ExpandedString", HCS_REG_EXPAND_SZ},
    {"MultiString", HCS_REG_MULTI_SZ},
    {"Binary", HCS_REG_BINARY},
    {"DWord", HCS_REG_DWORD},
    {"QWord", HCS_REG_QWORD},
};

/* A batch being built: the changes and the data buffers they own. */
typedef struct {
    hcs_reg_change *changes;
    uint8_t **owned;
    size_t n, cap;
} batch;

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->owned[i]);
    free(b->owned);
    free(b->changes);
}

static int batch_add(batch *b, const hcs_reg_change *c, uint8_t *owned, hcs_error **err)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        hcs_reg_change *nc = reallocarray(b->changes, cap, sizeof(*nc));
        if (nc != NULL)
            b->changes = nc;
        uint8_t **no = nc ? reallocarray(b->owned, cap, sizeof(*no)) : NULL;
        if (no == NULL) {
            free(owned);
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        }
        b->owned = no;
        b->cap = cap;
    }
    b->changes[b->n] = *c;
    b->owned[b->n] = owned;
    b->n++;
    return 0;
}

static const char *str_of(const cJSON *obj, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

/* Key{Hive, Name} of a RegistryKey at path: the hive and the checked key path. */
static int parse_key(const cJSON *key, const char *path, enum hcs_reg_hive *h, const char **name,
                     hcs_error **err)
{
    const char *hive = str_of(key, "Hive");
    if (hive == NULL)
        return hcs_err_set(err, E_INVALIDARG, "%s.Hive: required field is missing", path);
    if (hcs_reg_hive_parse(hive, h, err) < 0)
        return hcs_err_wrap(err, "%s.Hive", path);
    *name = str_of(key, "Name");
    if (*name == NULL)
        return hcs_err_set(err, E_INVALIDARG, "%s.Name: required field is missing", path);
    char what[600];
    snprintf(what, sizeof(what), "%s.Name", path);
    return hcs_reg_key_check(what, *name, err);
}

/* Decode base64 text (nettle skips white space); bad text names the field. */
static int decode_base64(const char *text, const char *field, uint8_t **out, size_t *len,
                         hcs_error **err)
{
    size_t tlen = strlen(text);
    /* Refuse before allocating: the decoded size is about 3/4 of the text's. */
    if (tlen / 4 * 3 > (size_t)HCS_REG_MAX_DATA + 3)
        return hcs_err_set(err, E_INVALIDARG, "%s: %zu KiB is over the %u MiB limit", field,
                           tlen / 4 * 3 / 1024, HCS_REG_MAX_DATA >> 20);
    uint8_t *buf = malloc(BASE64_DECODE_LENGTH(tlen) + 1);
    if (buf == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "%s: out of memory", field);
    struct base64_decode_ctx ctx;
    base64_decode_init(&ctx);
    size_t n = BASE64_DECODE_LENGTH(tlen);
    if (!base64_decode_update(&ctx, &n, buf, tlen, text) || !base64_decode_final(&ctx)) {
        free(buf);
        return hcs_err_set(err, E_INVALIDARG, "%s: not valid base64", field);
    }
    if (n > HCS_REG_MAX_DATA) {
        free(buf);
        return hcs_err_set(err, E_INVALIDARG, "%s: %zu bytes is over the %u MiB limit", field, n,
                           HCS_REG_MAX_DATA >> 20);
    }
    *out = buf;
    *len = n;
    return 0;
}

/* A MultiString's StringValue: the strings separated by '\n' -> "a\0b\0" ("" is no string). */
static uint8_t *multi_sz(const char *s, size_t *len)
{
    size_t n = strlen(s);
    uint8_t *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    if (n == 0) {
        *len = 0;
        return d;
    }
    for (size_t i = 0; i < n; i++)
        d[i] = s[i] == '\n' ? 0 : (uint8_t)s[i];
    d[n] = 0;
    *len = n + 1;
    return d;
}

static void put_le(uint8_t *d, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)(v >> (8 * i));
}

/* The Key and Name of a RegistryValue or RegistryValueName at path into c (Name: "" when absent,
 * the default value). */
static int key_and_name(const cJSON *v, const char *path, hcs_reg_change *c, hcs_error **err)
{
    char field[700];
    snprintf(field, sizeof(field), "%s.Key", path);
    if (parse_key(cJSON_GetObjectItemCaseSensitive(v, "Key"), field, &c->hive, &c->key, err) < 0)
        return -1;
    c->name = str_of(v, "Name");
    if (c->name == NULL)
        c->name = "";
    snprintf(field, sizeof(field), "%s.Name", path);
    return hcs_reg_value_check(field, c->name, HCS_REG_NONE, NULL, 0, err);
}

/* One DeleteValues[i] (path names it) -> a DELETE_VALUE change. */
static int delete_value(batch *b, const cJSON *v, const char *path, hcs_error **err)
{
    hcs_reg_change c = {.op = HCS_REG_DELETE_VALUE};
    if (key_and_name(v, path, &c, err) < 0)
        return -1;
    return batch_add(b, &c, NULL, err);
}

/* One AddValues[i] (path names it) -> a SET_VALUE change. */
static int add_value(batch *b, const cJSON *v, const char *path, hcs_error **err)
{
    char field[700];
    hcs_reg_change c = {.op = HCS_REG_SET_VALUE};
    if (key_and_name(v, path, &c, err) < 0)
        return -1;
    const char *tname = str_of(v, "Type");
    bool custom = tname != NULL && strcmp(tname, "CustomType") == 0;
    bool known = custom;
    for (size_t i = 0; !known && tname != NULL && i < HCS_ARRAY_SIZE(value_types); i++)
        if (strcmp(tname, value_types[i].name) == 0) {
            c.type = value_types[i].type;
            known = true;
        }
    if (!known)
        return hcs_err_set(err, E_INVALIDARG, "%s.Type: unknown value type \"%s\"", path,
                           tname ? tname : "(missing)");
    AUTOFREE uint8_t *data = NULL;
    const char *dfield = NULL;
    if (custom) {
        uint64_t t = 0;
        if (hcs_json_u64(cJSON_GetObjectItemCaseSensitive(v, "CustomType"), &t) < 0 ||
            t > UINT32_MAX)
            return hcs_err_set(err, E_INVALIDARG,
                               "%s.CustomType: a 32-bit unsigned type number is required", path);
        c.type = (uint32_t)t;
        dfield = "BinaryValue";
    } else if (c.type == HCS_REG_SZ || c.type == HCS_REG_EXPAND_SZ || c.type == HCS_REG_MULTI_SZ) {
        dfield = "StringValue";
    } else if (c.type == HCS_REG_DWORD) {
        dfield = "DWordValue";
    } else if (c.type == HCS_REG_QWORD) {
        dfield = "QWordValue";
    } else if (c.type == HCS_REG_BINARY) {
        dfield = "BinaryValue";
    }
    const cJSON *d = dfield ? cJSON_GetObjectItemCaseSensitive(v, dfield) : NULL;
    if (dfield != NULL && (d == NULL || cJSON_IsNull(d)))
        return hcs_err_set(err, E_INVALIDARG, "%s.%s: required for Type \"%s\"", path, dfield,
                           tname);
    snprintf(field, sizeof(field), "%s.%s", path, dfield ? dfield : "Type");
    if (dfield == NULL) {
        c.len = 0; /* None: no data */
    } else if (dfield[0] == 'S') {
        const char *s = cJSON_GetStringValue(d);
        if (s == NULL)
            return hcs_err_set(err, E_INVALIDARG, "%s: expected a string", field);
        size_t len = strlen(s);
        data = c.type == HCS_REG_MULTI_SZ ? multi_sz(s, &len) : (uint8_t *)strndup(s, len);
        if (data == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "%s: out of memory", field);
        c.len = len;
    } else if (dfield[0] == 'B') {
        const char *s = cJSON_GetStringValue(d);
        if (s == NULL)
            return hcs_err_set(err, E_INVALIDARG, "%s: expected a base64 string", field);
        if (decode_base64(s, field, &data, &c.len, err) < 0)
            return -1;
    } else {
        uint64_t x = 0;
        bool dword = c.type == HCS_REG_DWORD;
        if (hcs_json_u64(d, &x) < 0 || (dword && x > UINT32_MAX))
            return hcs_err_set(err, E_INVALIDARG, "%s: expected a %s unsigned integer", field,
                               dword ? "32-bit" : "64-bit");
        c.len = dword ? 4 : 8;
        data = malloc(8);
        if (data == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "%s: out of memory", field);
        put_le(data, x, c.len);
    }
    if (hcs_reg_value_check(field, c.name, c.type, data, c.len, err) < 0)
        return -1;
    c.data = data;
    return batch_add(b, &c, steal_ptr(&data), err);
}

int hcs_reg_apply_json(hcs_reg_system *s, const cJSON *changes, const char *what, hcs_error **err)
{
    if (what == NULL)
        what = "RegistryChanges";
    if (!cJSON_IsObject(changes))
        return hcs_err_set(err, E_INVALIDARG, "%s: expected an object", what);
    batch b = {0};
    char path[600];
    int rc = 0;
    /* Deletions first: a document can clear a key and fill it again in one batch. */
    const cJSON *dels = cJSON_GetObjectItemCaseSensitive(changes, "DeleteKeys");
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, dels)
    {
        snprintf(path, sizeof(path), "%s.DeleteKeys[%zu]", what, i++);
        hcs_reg_change c = {.op = HCS_REG_DELETE_KEY};
        if (parse_key(it, path, &c.hive, &c.key, err) < 0 || c.key == NULL) {
            rc = -1;
            break;
        }
        if (c.key[0] == '\0') {
            rc = hcs_err_set(err, E_INVALIDARG, "%s.Name: the root of a hive cannot be deleted",
                             path);
            break;
        }
        if ((rc = batch_add(&b, &c, NULL, err)) < 0)
            break;
    }
    /* DeleteValues (libhcs extension): {Key, Name}; a missing Name is the default value. */
    const cJSON *dvals = cJSON_GetObjectItemCaseSensitive(changes, "DeleteValues");
    i = 0;
    if (rc == 0)
        cJSON_ArrayForEach(it, dvals)
        {
            snprintf(path, sizeof(path), "%s.DeleteValues[%zu]", what, i++);
            if ((rc = delete_value(&b, it, path, err)) < 0)
                break;
        }
    const cJSON *adds = cJSON_GetObjectItemCaseSensitive(changes, "AddValues");
    i = 0;
    if (rc == 0)
        cJSON_ArrayForEach(it, adds)
        {
            snprintf(path, sizeof(path), "%s.AddValues[%zu]", what, i++);
            if ((rc = add_value(&b, it, path, err)) < 0)
                break;
        }
    if (rc == 0 && b.n > 0 && hcs_reg_delta_apply(hcs_reg_system_delta(s), b.changes, b.n, err) < 0)
        rc = hcs_err_wrap(err, "%s", what);
    batch_free(&b);
    return rc;
}

/* --- queries ---------------------------------------------------------------------------------- */

static char *base64_of(const uint8_t *data, size_t len)
{
    char *s = malloc(BASE64_ENCODE_LENGTH(len) + 8);
    if (s == NULL)
        return NULL;
    struct base64_encode_ctx ctx;
    base64_encode_init(&ctx);
    size_t n = base64_encode_update(&ctx, s, len, data);
    n += base64_encode_final(&ctx, s + n);
    s[n] = '\0';
    return s;
}

static uint64_t get_le(const uint8_t *d, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = (v << 8) | d[i];
    return v;
}

struct query {
    enum hcs_reg_hive hive;
    const char *key;
    cJSON *subkeys, *values;
};

static int on_subkey(void *ctx, const char *name)
{
    struct query *q = ctx;
    cJSON *s = cJSON_CreateString(name);
    return s != NULL && cJSON_AddItemToArray(q->subkeys, s) ? 0 : -1;
}

/* A value in the RegistryValue shape. */
static cJSON *value_json(enum hcs_reg_hive h, const char *key, const hcs_reg_value *v)
{
    AUTOJSON cJSON *o = cJSON_CreateObject();
    cJSON *k = cJSON_AddObjectToObject(o, "Key");
    if (k == NULL || !cJSON_AddStringToObject(k, "Hive", hcs_reg_hive_name(h)) ||
        !cJSON_AddStringToObject(k, "Name", key) || !cJSON_AddStringToObject(o, "Name", v->name))
        return NULL;
    const char *tname = NULL;
    for (size_t i = 0; i < HCS_ARRAY_SIZE(value_types); i++)
        if (value_types[i].type == v->type)
            tname = value_types[i].name;
    bool ok = true;
    switch (v->type) {
    case HCS_REG_SZ:
    case HCS_REG_EXPAND_SZ:
    case HCS_REG_MULTI_SZ: {
        size_t len = v->len;
        if (v->type == HCS_REG_MULTI_SZ && len > 0)
            len--; /* the last string's NUL */
        AUTOFREE char *s = malloc(len + 1);
        if (s == NULL)
            return NULL;
        for (size_t i = 0; i < len; i++)
            s[i] = (char)(v->data[i] == 0 ? '\n' : v->data[i]);
        s[len] = '\0';
        /* A string with a NUL inside (only a corrupt level has one) goes out as CustomType. */
        if (v->type != HCS_REG_MULTI_SZ && memchr(v->data, 0, v->len) != NULL)
            tname = NULL;
        else
            ok = cJSON_AddStringToObject(o, "StringValue", s) != NULL;
        break;
    }
    case HCS_REG_DWORD:
    case HCS_REG_QWORD:
        if (v->len != (v->type == HCS_REG_DWORD ? 4u : 8u))
            tname = NULL;
        else
            ok = hcs_json_add_u64(o, v->type == HCS_REG_DWORD ? "DWordValue" : "QWordValue",
                                  get_le(v->data, v->len)) != NULL;
        break;
    case HCS_REG_NONE:
        if (v->len > 0)
            tname = NULL;
        break;
    default:
        break;
    }
    if (!ok)
        return NULL;
    if (tname == NULL) {
        tname = "CustomType";
        ok = hcs_json_add_u64(o, "CustomType", v->type) != NULL;
    }
    if (ok && (strcmp(tname, "Binary") == 0 || strcmp(tname, "CustomType") == 0)) {
        AUTOFREE char *b64 = base64_of(v->data, v->len);
        ok = b64 != NULL && cJSON_AddStringToObject(o, "BinaryValue", b64) != NULL;
    }
    if (!ok || !cJSON_AddStringToObject(o, "Type", tname))
        return NULL;
    return steal_ptr(&o);
}

static int on_value(void *ctx, const hcs_reg_value *v)
{
    struct query *q = ctx;
    cJSON *o = value_json(q->hive, q->key, v);
    return o != NULL && cJSON_AddItemToArray(q->values, o) ? 0 : -1;
}

cJSON *hcs_reg_query_json(const hcs_reg_system *s, enum hcs_reg_hive h, const char *key,
                          hcs_error **err)
{
    if ((unsigned)h >= HCS_REG_N_HIVES)
        return hcs_err_set(err, E_INVALIDARG, "registry query: no hive %d", (int)h), NULL;
    if (key == NULL)
        key = "";
    if (hcs_reg_key_check("registry query", key, err) < 0)
        return NULL;
    const hcs_reg_view *v = hcs_reg_system_view(s);
    if (!hcs_reg_view_key_exists(v, h, key))
        return hcs_err_set(err, HCS_E_FILE_NOT_FOUND, "registry key %s\\%s does not exist",
                           hcs_reg_hive_name(h), key),
               NULL;
    AUTOJSON cJSON *o = cJSON_CreateObject();
    struct query q = {h, key, NULL, NULL};
    if (o == NULL || !cJSON_AddStringToObject(o, "Hive", hcs_reg_hive_name(h)) ||
        !cJSON_AddStringToObject(o, "Key", key) ||
        (q.subkeys = cJSON_AddArrayToObject(o, "Subkeys")) == NULL ||
        (q.values = cJSON_AddArrayToObject(o, "Values")) == NULL ||
        hcs_reg_view_subkeys(v, h, key, on_subkey, &q) != 0 ||
        hcs_reg_view_values(v, h, key, on_value, &q) != 0)
        return hcs_err_set(err, E_OUTOFMEMORY, "registry query %s\\%s: out of memory",
                           hcs_reg_hive_name(h), key),
               NULL;
    return steal_ptr(&o);
}
