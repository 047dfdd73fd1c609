/* schema.c - the table-driven document walker (see schema.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "schema.h"

#define MAX_FIELDS 128

static int parse_value(const hcs_field *f, int kind, const cJSON *j, hcs_walk *w, void *dst);
static void free_value(const hcs_field *f, int kind, void *dst);

/* --- paths and messages -------------------------------------------------------------------- */

static size_t walk_push(hcs_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t walk_push(hcs_walk *w, const char *fmt, ...)
{
    size_t old = w->len;
    va_list ap;
    va_start(ap, fmt);
    /* The analyzer loses track of va_start here (a known false positive). */
    int n = vsnprintf(w->path + w->len, sizeof(w->path) - w->len, fmt, ap); // NOLINT
    va_end(ap);
    if (n > 0)
        w->len += (size_t)n < sizeof(w->path) - w->len ? (size_t)n : sizeof(w->path) - w->len - 1;
    return old;
}

static size_t walk_push_field(hcs_walk *w, const char *name)
{
    return w->len == 0 ? walk_push(w, "%s", name) : walk_push(w, ".%s", name);
}

static void walk_pop(hcs_walk *w, size_t old)
{
    w->len = old;
    w->path[old] = '\0';
}

int hcs_walk_fail(hcs_walk *w, const char *child, HRESULT hr, const char *fmt, ...)
{
    size_t old = w->len;
    if (child != NULL && child[0] != '\0')
        walk_push_field(w, child);
    va_list ap;
    va_start(ap, fmt);
    AUTOFREE char *msg = hcs_vasprintf(fmt, ap);
    va_end(ap);
    hcs_err_set(w->err, hr, "%s: %s", w->len ? w->path : w->doc, msg ? msg : "invalid");
    walk_pop(w, old);
    return -1;
}

static int fail_got(hcs_walk *w, const cJSON *j, const char *expected)
{
    AUTOFREE char *got = hcs_json_describe(j);
    return hcs_walk_fail(w, NULL, HCS_E_INVALID_JSON, "expected %s, got %s", expected,
                         got ? got : "?");
}

bool hcs_doc_absent(const char *text)
{
    if (text == NULL)
        return true;
    return text[strspn(text, " \t\r\n")] == '\0';
}

const char *hcs_enum_name(const char *const *values, int v)
{
    if (values == NULL || v <= 0)
        return NULL;
    for (int i = 0; values[i] != NULL; i++)
        if (i + 1 == v)
            return values[i];
    return NULL;
}

/* " (did you mean "X"?)" or " (known: A, B, C)", from candidate names. */
static char *suggest(const char *bad, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = hcs_edit_distance(bad, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    size_t len = strlen(bad);
    if (best != NULL && best_d == 0)
        return hcs_asprintf("; did you mean \"%s\"? (names are case-sensitive)", best);
    if (best != NULL && (best_d <= 2 || best_d <= len / 3))
        return hcs_asprintf("; did you mean \"%s\"?", best);
    char *list = NULL;
    size_t list_len = 0;
    FILE *f = open_memstream(&list, &list_len);
    if (f == NULL)
        return NULL;
    if (n > 0)
        fputs("; expected one of: ", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "\"%s\"%s", names[i], i + 1 < n ? ", " : "");
    if (fclose(f) != 0) {
        free(list);
        return NULL;
    }
    return list;
}

/* --- storage ---------------------------------------------------------------------------------- */

static size_t storage_size(int kind, const hcs_type *t)
{
    switch (kind) {
    case HK_BOOL:
    case HK_MARKER:
        return sizeof(hcs_opt_bool);
    case HK_STRING:
        return sizeof(char *);
    case HK_U8:
    case HK_U16:
    case HK_U32:
    case HK_U64:
        return sizeof(hcs_opt_u64);
    case HK_I32:
    case HK_I64:
        return sizeof(hcs_opt_i64);
    case HK_ENUM:
        return sizeof(int);
    case HK_OBJECT:
        return t ? t->size : 0; /* inline in arrays and maps */
    case HK_ARRAY:
        return sizeof(hcs_array);
    case HK_MAP:
        return sizeof(hcs_map);
    case HK_ANY:
        return sizeof(cJSON *);
    default:
        return 0;
    }
}

/* --- values ----------------------------------------------------------------------------------- */

static int parse_unsigned(const hcs_field *f, int kind, const cJSON *j, hcs_walk *w, void *dst)
{
    uint64_t max = kind == HK_U8    ? UINT8_MAX
                   : kind == HK_U16 ? UINT16_MAX
                   : kind == HK_U32 ? UINT32_MAX
                                    : UINT64_MAX;
    uint64_t min = 0;
    if (f->min < f->max) {
        min = f->min > 0 ? (uint64_t)f->min : 0;
        max = (uint64_t)f->max < max ? (uint64_t)f->max : max;
    }
    uint64_t v;
    if (!cJSON_IsNumber(j) || hcs_json_u64(j, &v) < 0)
        return fail_got(w, j, "an unsigned integer");
    if (v < min || v > max) {
        char buf[96];
        snprintf(buf, sizeof(buf), "an integer from %" PRIu64 " to %" PRIu64, min, max);
        return fail_got(w, j, buf);
    }
    if (dst != NULL) {
        ((hcs_opt_u64 *)dst)->set = true;
        ((hcs_opt_u64 *)dst)->value = v;
    }
    return 0;
}

static int parse_signed(const hcs_field *f, int kind, const cJSON *j, hcs_walk *w, void *dst)
{
    int64_t min = kind == HK_I32 ? INT32_MIN : INT64_MIN;
    int64_t max = kind == HK_I32 ? INT32_MAX : INT64_MAX;
    if (f->min < f->max) {
        min = f->min > min ? f->min : min;
        max = f->max < max ? f->max : max;
    }
    int64_t v;
    if (!cJSON_IsNumber(j) || hcs_json_i64(j, &v) < 0) {
        if (f->note != NULL) {
            char buf[128];
            snprintf(buf, sizeof(buf), "an integer (%s)", f->note);
            return fail_got(w, j, buf);
        }
        return fail_got(w, j, "an integer");
    }
    if (v < min || v > max) {
        char buf[96];
        snprintf(buf, sizeof(buf), "an integer from %" PRId64 " to %" PRId64, min, max);
        return fail_got(w, j, buf);
    }
    if (dst != NULL) {
        ((hcs_opt_i64 *)dst)->set = true;
        ((hcs_opt_i64 *)dst)->value = v;
    }
    return 0;
}

static int parse_enum(const hcs_field *f, const cJSON *j, hcs_walk *w, void *dst)
{
    size_t n = 0;
    while (f->values[n] != NULL)
        n++;
    if (!cJSON_IsString(j)) {
        AUTOFREE char *list = suggest("", f->values, n); /* "; expected one of: ..." */
        AUTOFREE char *got = hcs_json_describe(j);
        return hcs_walk_fail(w, NULL, HCS_E_INVALID_JSON, "expected a string (one of: %s), got %s",
                             list ? list + strlen("; expected one of: ") : "", got ? got : "?");
    }
    const char *s = j->valuestring;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, f->values[i]) != 0)
            continue;
        for (size_t k = 0; f->unsupported && f->unsupported[k]; k++)
            if (strcmp(s, f->unsupported[k]) == 0)
                return hcs_walk_fail(w, NULL, HCS_E_INVALID_JSON,
                                     "\"%s\" is not supported on Linux%s%s", s, f->note ? ": " : "",
                                     f->note ? f->note : "");
        if (dst != NULL)
            *(int *)dst = (int)i + 1;
        return 0;
    }
    AUTOFREE char *hint = suggest(s, f->values, n);
    return hcs_walk_fail(w, NULL, HCS_E_INVALID_JSON, "unknown value \"%s\"%s", s,
                         hint ? hint : "");
}

static int parse_object(const hcs_type *t, const cJSON *j, hcs_walk *w, void *obj);

static int parse_string(const hcs_field *f, bool element, const cJSON *j, hcs_walk *w, void *dst)
{
    /* On an array field, HF_NONEMPTY is about the array, not its strings. */
    bool nonempty = (f->flags & HF_NONEMPTY) && !element;
    if (!cJSON_IsString(j) || (nonempty && j->valuestring[0] == '\0') ||
        ((f->flags & HF_ABSOLUTE) && j->valuestring[0] != '/')) {
        char what[160];
        snprintf(what, sizeof(what), "%s%s%s%s",
                 (f->flags & HF_ABSOLUTE) ? "an absolute path"
                 : nonempty               ? "a non-empty string"
                                          : "a string",
                 f->note ? " (" : "", f->note ? f->note : "", f->note ? ")" : "");
        return fail_got(w, j, what);
    }
    if (dst != NULL && (*(char **)dst = strdup(j->valuestring)) == NULL)
        return hcs_walk_fail(w, NULL, E_OUTOFMEMORY, "out of memory");
    return 0;
}

static int parse_object_field(const hcs_field *f, const cJSON *j, hcs_walk *w, void *dst,
                              bool inline_storage)
{
    const hcs_type *t = f->type;
    if (!cJSON_IsObject(j))
        return fail_got(w, j, "an object");
    if (f->flags & HF_KEEP_JSON) {
        void *tmp = t->size ? calloc(1, t->size) : NULL;
        if (t->size && tmp == NULL)
            return hcs_walk_fail(w, NULL, E_OUTOFMEMORY, "out of memory");
        int rc = parse_object(t, j, w, tmp);
        hcs_schema_free(t, tmp);
        if (rc < 0)
            return rc;
        if (dst != NULL) {
            *(cJSON **)dst = cJSON_Duplicate(j, 1);
            if (*(cJSON **)dst == NULL)
                return hcs_walk_fail(w, NULL, E_OUTOFMEMORY, "out of memory");
        }
        return 0;
    }
    if (t->size == 0)
        return parse_object(t, j, w, NULL);
    if (dst == NULL) {
        /* Validated but not stored: the type's check still needs a struct to look at. */
        void *tmp = calloc(1, t->size);
        if (tmp == NULL)
            return hcs_walk_fail(w, NULL, E_OUTOFMEMORY, "out of memory");
        int rc = parse_object(t, j, w, tmp);
        hcs_schema_free(t, tmp);
        return rc;
    }
    if (inline_storage)
        return parse_object(t, j, w, dst);
    void *o = calloc(1, t->size);
    if (o == NULL)
        return hcs_walk_fail(w, NULL, E_OUTOFMEMORY, "out of memory");
    *(void **)dst = o; /* stored first so that a failure frees it with the parent */
    return parse_object(t, j, w, o);
}

static int parse_array(const hcs_field *f, const cJSON *j, hcs_walk *w, void *dst)
{
    if (!cJSON_IsArray(j))
        return fail_got(w, j, "an array");
    size_t n = (size_t)cJSON_GetArraySize(j);
    if ((f->flags & HF_NONEMPTY) && n == 0)
        return hcs_walk_fail(w, NULL, HCS_E_INVALID_JSON, "expected a non-empty array, got []");
    if (f->max_items > 0 && (n < f->min_items || n > f->max_items)) {
        if (f->min_items == f->max_items)
            return hcs_walk_fail(w, NULL, HCS_E_INVALID_JSON,
                                 "expected an array of %zu elements, got %zu", f->min_items, n);
        return hcs_walk_fail(w, NULL, HCS_E_INVALID_JSON,
                             "expected an array of %zu to %zu elements, got %zu", f->min_items,
                             f->max_items, n);
    }
    size_t esz = storage_size(f->elem, f->type);
    hcs_array *a = dst;
    if (a != NULL && n > 0 && esz > 0) {
        a->items = calloc(n, esz);
        if (a->items == NULL)
            return hcs_walk_fail(w, NULL, E_OUTOFMEMORY, "out of memory");
    }
    size_t i = 0;
    for (const cJSON *c = j->child; c != NULL; c = c->next, i++) {
        size_t old = walk_push(w, "[%zu]", i);
        void *item = a && a->items ? (char *)a->items + i * esz : NULL;
        if (a != NULL)
            a->n = i + 1; /* so a failure frees what was filled */
        int rc = cJSON_IsNull(c) ? fail_got(w, c, "a value") : parse_value(f, f->elem, c, w, item);
        walk_pop(w, old);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static bool numeric_key(const char *k)
{
    if (k[0] == '\0' || strlen(k) > 10 || strspn(k, "0123456789") != strlen(k))
        return false;
    return strtoull(k, NULL, 10) <= UINT32_MAX && (k[0] != '0' || k[1] == '\0');
}

static int parse_map(const hcs_field *f, const cJSON *j, hcs_walk *w, void *dst)
{
    if (!cJSON_IsObject(j))
        return fail_got(w, j, "an object");
    size_t n = (size_t)cJSON_GetArraySize(j);
    size_t esz = storage_size(f->elem, f->type);
    hcs_map *m = dst;
    if (m != NULL && n > 0) {
        m->keys = calloc(n, sizeof(char *));
        m->values = esz ? calloc(n, esz) : NULL;
        if (m->keys == NULL || (esz && m->values == NULL))
            return hcs_walk_fail(w, NULL, E_OUTOFMEMORY, "out of memory");
    }
    size_t i = 0;
    for (const cJSON *c = j->child; c != NULL; c = c->next, i++) {
        size_t old = walk_push(w, "[\"%s\"]", c->string);
        int rc = 0;
        if ((f->flags & HF_NUMERIC_KEYS) && !numeric_key(c->string))
            rc = hcs_walk_fail(w, NULL, HCS_E_INVALID_JSON,
                               "expected a decimal number as the key, got \"%s\"", c->string);
        for (const cJSON *p = j->child; rc == 0 && p != c; p = p->next)
            if (strcmp(p->string, c->string) == 0)
                rc = hcs_walk_fail(w, NULL, HCS_E_INVALID_JSON, "key given twice");
        if (rc == 0 && f->kind == HK_MAP && c->string[0] == '\0' && !(f->flags & HF_NUMERIC_KEYS))
            rc = hcs_walk_fail(w, NULL, HCS_E_INVALID_JSON, "empty key");
        if (rc == 0 && m != NULL) {
            m->n = i + 1;
            m->keys[i] = strdup(c->string);
            if (m->keys[i] == NULL)
                rc = hcs_walk_fail(w, NULL, E_OUTOFMEMORY, "out of memory");
        }
        if (rc == 0) {
            void *v = m && m->values ? (char *)m->values + i * esz : NULL;
            rc = cJSON_IsNull(c) ? fail_got(w, c, "a value") : parse_value(f, f->elem, c, w, v);
        }
        walk_pop(w, old);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int parse_value(const hcs_field *f, int kind, const cJSON *j, hcs_walk *w, void *dst)
{
    bool element = kind != f->kind; /* an array or map element */
    switch (kind) {
    case HK_BOOL:
        if (!cJSON_IsBool(j))
            return fail_got(w, j, "true or false");
        if (dst != NULL) {
            ((hcs_opt_bool *)dst)->set = true;
            ((hcs_opt_bool *)dst)->value = cJSON_IsTrue(j);
        }
        return 0;
    case HK_STRING:
        return parse_string(f, element, j, w, dst);
    case HK_U8:
    case HK_U16:
    case HK_U32:
    case HK_U64:
        return parse_unsigned(f, kind, j, w, dst);
    case HK_I32:
    case HK_I64:
        return parse_signed(f, kind, j, w, dst);
    case HK_ENUM:
        return parse_enum(f, j, w, dst);
    case HK_OBJECT:
        return parse_object_field(f, j, w, dst, element);
    case HK_ARRAY:
        return parse_array(f, j, w, dst);
    case HK_MAP:
        return parse_map(f, j, w, dst);
    case HK_ANY:
        if (dst != NULL && (*(cJSON **)dst = cJSON_Duplicate(j, 1)) == NULL)
            return hcs_walk_fail(w, NULL, E_OUTOFMEMORY, "out of memory");
        return 0;
    case HK_MARKER:
        if (!cJSON_IsObject(j))
            return fail_got(w, j, "an empty object {}");
        if (j->child != NULL)
            return hcs_walk_fail(w, j->child->string, HCS_E_INVALID_JSON,
                                 "unknown field (this object takes no fields)");
        if (dst != NULL)
            ((hcs_opt_bool *)dst)->set = ((hcs_opt_bool *)dst)->value = true;
        return 0;
    default:
        return hcs_walk_fail(w, NULL, E_FAIL, "internal error: field kind %d", kind);
    }
}

static int parse_object(const hcs_type *t, const cJSON *j, hcs_walk *w, void *obj)
{
    if (!cJSON_IsObject(j))
        return fail_got(w, j, "an object");
    size_t nf = 0;
    while (t->fields[nf].name != NULL)
        nf++;
    if (nf > MAX_FIELDS)
        return hcs_walk_fail(w, NULL, E_FAIL, "internal error: %s has too many fields", t->name);
    bool seen[MAX_FIELDS] = {false};
    for (const cJSON *c = j->child; c != NULL; c = c->next) {
        size_t k = 0;
        while (k < nf && strcmp(t->fields[k].name, c->string) != 0)
            k++;
        if (k == nf) {
            /* Suggest any known name, but list only the supported ones. */
            const char *names[MAX_FIELDS];
            size_t nn = 0;
            for (size_t i = 0; i < nf; i++)
                if (!(t->fields[i].flags & HF_UNSUPPORTED))
                    names[nn++] = t->fields[i].name;
            AUTOFREE char *hint = suggest(c->string, names, nn);
            if (hint != NULL && strncmp(hint, "; expected", 10) == 0) {
                const char *all[MAX_FIELDS];
                for (size_t i = 0; i < nf; i++)
                    all[i] = t->fields[i].name;
                AUTOFREE char *near = suggest(c->string, all, nf);
                if (near != NULL && strncmp(near, "; did you", 9) == 0) {
                    free(hint);
                    hint = steal_ptr(&near);
                }
            }
            return hcs_walk_fail(w, c->string, HCS_E_INVALID_JSON, "unknown field in %s%s", t->name,
                                 hint ? hint : "");
        }
        const hcs_field *f = &t->fields[k];
        if (seen[k])
            return hcs_walk_fail(w, f->name, HCS_E_INVALID_JSON, "field given twice");
        seen[k] = true;
        if (cJSON_IsNull(c)) {
            if (f->flags & HF_REQUIRED)
                return hcs_walk_fail(w, f->name, HCS_E_INVALID_JSON, "required, got null");
            continue;
        }
        if (f->flags & HF_UNSUPPORTED)
            return hcs_walk_fail(w, f->name, HCS_E_INVALID_JSON, "not supported on Linux: %s",
                                 f->note ? f->note : "no Linux equivalent");
        size_t old = walk_push_field(w, f->name);
        void *dst = obj != NULL && f->offset != HCS_NOSTORE ? (char *)obj + f->offset : NULL;
        int rc = parse_value(f, f->kind, c, w, dst);
        walk_pop(w, old);
        if (rc < 0)
            return rc;
    }
    for (size_t k = 0; k < nf; k++)
        if ((t->fields[k].flags & HF_REQUIRED) && !seen[k])
            return hcs_walk_fail(w, t->fields[k].name, HCS_E_INVALID_JSON,
                                 "required field is missing");
    if (t->check != NULL)
        return t->check(obj, j, w);
    return 0;
}

/* --- freeing ---------------------------------------------------------------------------------- */

static void free_object(const hcs_type *t, void *obj)
{
    if (obj == NULL)
        return;
    for (const hcs_field *f = t->fields; f->name != NULL; f++)
        if (f->offset != HCS_NOSTORE && !(f->flags & HF_UNSUPPORTED))
            free_value(f, f->kind, (char *)obj + f->offset);
}

static void free_value(const hcs_field *f, int kind, void *dst)
{
    bool element = kind != f->kind;
    switch (kind) {
    case HK_STRING:
        free(*(char **)dst);
        break;
    case HK_ANY:
        cJSON_Delete(*(cJSON **)dst);
        break;
    case HK_OBJECT:
        if (f->flags & HF_KEEP_JSON) {
            cJSON_Delete(*(cJSON **)dst);
        } else if (f->type->size > 0) {
            if (element) {
                free_object(f->type, dst);
            } else {
                free_object(f->type, *(void **)dst);
                free(*(void **)dst);
            }
        }
        break;
    case HK_ARRAY: {
        hcs_array *a = dst;
        size_t esz = storage_size(f->elem, f->type);
        for (size_t i = 0; a->items && i < a->n; i++)
            free_value(f, f->elem, (char *)a->items + i * esz);
        free(a->items);
        break;
    }
    case HK_MAP: {
        hcs_map *m = dst;
        size_t esz = storage_size(f->elem, f->type);
        for (size_t i = 0; i < m->n; i++) {
            if (m->keys)
                free(m->keys[i]);
            if (m->values)
                free_value(f, f->elem, (char *)m->values + i * esz);
        }
        free(m->keys);
        free(m->values);
        break;
    }
    default:
        break;
    }
}

void hcs_schema_free(const hcs_type *t, void *obj)
{
    if (obj == NULL || t == NULL)
        return;
    free_object(t, obj);
    free(obj);
}

/* --- entry points ----------------------------------------------------------------------------- */

int hcs_schema_parse_json(const hcs_type *t, const cJSON *json, const char *docname,
                          const char *path, void **out, hcs_error **err)
{
    hcs_walk w = {.err = err, .doc = docname};
    if (out != NULL)
        *out = NULL;
    if (path != NULL && path[0] != '\0')
        walk_push(&w, "%s", path);
    void *obj = t->size ? calloc(1, t->size) : NULL;
    if (t->size && obj == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (parse_object(t, json, &w, obj) < 0) {
        hcs_schema_free(t, obj);
        return -1;
    }
    if (out != NULL)
        *out = obj;
    else
        hcs_schema_free(t, obj);
    return 0;
}

int hcs_schema_parse(const hcs_type *t, const char *text, const char *docname, bool required,
                     void **out, hcs_error **err)
{
    if (out != NULL)
        *out = NULL;
    if (hcs_doc_absent(text)) {
        if (required)
            return hcs_err_set(err, E_INVALIDARG, "%s: the document is required", docname);
        return 0;
    }
    AUTOJSON cJSON *json = NULL;
    if (hcs_json_parse(text, strlen(text), docname, &json, err) < 0)
        return -1;
    return hcs_schema_parse_json(t, json, docname, NULL, out, err);
}
