/* json.c - cJSON parsing with exact integers and error positions. */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"
#include "util.h"

/*
 * Collect the text of every number token, in document order, by a minimal lexer that only has
 * to tell strings apart from everything else. cJSON builds children in document order, so a
 * pre-order walk of the tree meets number nodes in the same order.
 */
typedef struct {
    const char **start;
    size_t *len;
    size_t n, cap;
} number_list;

static int collect_numbers(const char *s, size_t len, number_list *nl)
{
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        if (c == '"') {
            for (i++; i < len && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t b = i;
            while (i < len && (isdigit((unsigned char)s[i]) || s[i] == '-' || s[i] == '+' ||
                               s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
                i++;
            if (nl->n == nl->cap) {
                size_t nc = nl->cap ? nl->cap * 2 : 16;
                const char **ns = realloc(nl->start, nc * sizeof(*ns));
                if (ns == NULL)
                    return -1;
                nl->start = ns;
                size_t *nlen = realloc(nl->len, nc * sizeof(*nlen));
                if (nlen == NULL)
                    return -1;
                nl->len = nlen;
                nl->cap = nc;
            }
            nl->start[nl->n] = s + b;
            nl->len[nl->n] = i - b;
            nl->n++;
        } else {
            i++;
        }
    }
    return 0;
}

static int attach_numbers(cJSON *n, const number_list *nl, size_t *idx)
{
    for (; n != NULL; n = n->next) {
        if (cJSON_IsNumber(n)) {
            if (*idx >= nl->n)
                return -1;
            n->valuestring = strndup(nl->start[*idx], nl->len[*idx]);
            if (n->valuestring == NULL)
                return -1;
            (*idx)++;
        }
        if (n->child != NULL && attach_numbers(n->child, nl, idx) < 0)
            return -1;
    }
    return 0;
}

/* True when the text ends inside a string or with a bracket or brace still open. */
static bool ends_open(const char *s, size_t len)
{
    long depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        if (in_string) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_string = false;
        } else if (s[i] == '"') {
            in_string = true;
        } else if (s[i] == '{' || s[i] == '[') {
            depth++;
        } else if (s[i] == '}' || s[i] == ']') {
            depth--;
        }
    }
    return in_string || depth > 0;
}

int hcs_json_parse(const char *text, size_t len, const char *what, cJSON **out, hcs_error **err)
{
    *out = NULL;
    if (memchr(text, '\0', len) != NULL)
        return hcs_err_set(err, HCS_E_INVALID_JSON, "%s: contains a NUL byte", what);
    const char *end = NULL;
    AUTOJSON cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root == NULL) {
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        size_t line = 1, col = 1;
        for (size_t i = 0; i < off; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        char near[24];
        size_t k = 0;
        for (size_t i = off; i < len && k < 16 && text[i] != '\n'; i++)
            near[k++] = isprint((unsigned char)text[i]) ? text[i] : '?';
        near[k] = '\0';
        size_t ws = 0; /* bounded by len: text need not be NUL-terminated */
        while (ws < len &&
               (text[ws] == ' ' || text[ws] == '\t' || text[ws] == '\r' || text[ws] == '\n'))
            ws++;
        if (ws == len)
            return hcs_err_set(err, HCS_E_INVALID_JSON, "%s: empty document", what);
        if (ends_open(text, len))
            return hcs_err_set(err, HCS_E_INVALID_JSON,
                               "%s: the document ends too early (line %zu, column %zu); a "
                               "closing bracket, brace or quote is missing",
                               what, line, col);
        return hcs_err_set(err, HCS_E_INVALID_JSON,
                           "%s: not valid JSON at line %zu, column %zu (near \"%s\")", what, line,
                           col, near);
    }
    /* Anything but white space after the value is an error (cJSON stops at the value's end). */
    if (end != NULL) {
        const char *p = end;
        while (p < text + len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (p < text + len) {
            size_t line = 1, col = 1;
            for (const char *q = text; q < p; q++) {
                if (*q == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
            return hcs_err_set(err, HCS_E_INVALID_JSON,
                               "%s: unexpected text after the JSON value at line %zu, column %zu",
                               what, line, col);
        }
    }
    number_list nl = {0};
    size_t idx = 0;
    int rc = collect_numbers(text, len, &nl);
    if (rc < 0) {
        free(nl.start);
        free(nl.len);
        return hcs_err_set(err, E_OUTOFMEMORY, "%s: out of memory", what);
    }
    rc = attach_numbers(root, &nl, &idx);
    size_t found = nl.n;
    free(nl.start);
    free(nl.len);
    if (rc < 0 || idx != found)
        return hcs_err_set(err, HCS_E_INVALID_JSON, "%s: a number could not be read exactly", what);
    *out = steal_ptr(&root);
    return 0;
}

const char *hcs_json_number_text(const cJSON *n)
{
    return cJSON_IsNumber(n) ? n->valuestring : NULL;
}

static int integer_text(const cJSON *n, const char **digits, int *neg)
{
    const char *t = hcs_json_number_text(n);
    if (t == NULL)
        return -1;
    *neg = t[0] == '-';
    if (*neg)
        t++;
    if (t[0] == '\0' || strspn(t, "0123456789") != strlen(t))
        return -1; /* fraction or exponent */
    *digits = t;
    return 0;
}

int hcs_json_u64(const cJSON *n, uint64_t *out)
{
    const char *d;
    int neg;
    if (integer_text(n, &d, &neg) < 0)
        return -1;
    if (neg)
        return strspn(d, "0") == strlen(d) ? (*out = 0, 0) : -1;
    errno = 0;
    char *e;
    unsigned long long v = strtoull(d, &e, 10);
    if (errno != 0 || *e != '\0')
        return -1;
    *out = v;
    return 0;
}

int hcs_json_i64(const cJSON *n, int64_t *out)
{
    const char *d;
    int neg;
    if (integer_text(n, &d, &neg) < 0)
        return -1;
    errno = 0;
    char *e;
    long long v = strtoll(d - neg, &e, 10);
    if (errno != 0 || *e != '\0')
        return -1;
    *out = v;
    return 0;
}

char *hcs_json_describe(const cJSON *n)
{
    if (n == NULL)
        return strdup("nothing");
    if (cJSON_IsString(n)) {
        const char *s = n->valuestring;
        size_t l = strlen(s);
        if (l > 40)
            return hcs_asprintf("\"%.37s...\"", s);
        return hcs_asprintf("\"%s\"", s);
    }
    if (cJSON_IsNumber(n)) {
        const char *t = hcs_json_number_text(n);
        return t ? strdup(t) : hcs_asprintf("%g", n->valuedouble);
    }
    if (cJSON_IsTrue(n))
        return strdup("true");
    if (cJSON_IsFalse(n))
        return strdup("false");
    if (cJSON_IsNull(n))
        return strdup("null");
    if (cJSON_IsArray(n))
        return strdup("an array");
    if (cJSON_IsObject(n))
        return strdup("an object");
    return strdup("an unknown value");
}

/* An integer whose source text still tells its value: the text has every digit, the double not. */
static int exact_text_holds(const cJSON *n)
{
    int64_t i;
    uint64_t u;
    if (hcs_json_i64(n, &i) == 0)
        return (double)i == n->valuedouble;
    if (hcs_json_u64(n, &u) == 0)
        return (double)u == n->valuedouble;
    return 0; /* a fraction or exponent: a double holds it as well as cJSON can print it */
}

cJSON *hcs_json_dup_exact(const cJSON *n)
{
    if (cJSON_IsNumber(n)) {
        /* A value changed with cJSON_SetNumberValue after parsing no longer agrees with its old
         * text; it is printed from the double. */
        if (hcs_json_number_text(n) != NULL && exact_text_holds(n))
            return cJSON_CreateRaw(hcs_json_number_text(n));
        return cJSON_CreateNumber(n->valuedouble);
    }
    if (!cJSON_IsArray(n) && !cJSON_IsObject(n))
        return cJSON_Duplicate(n, 0);
    AUTOJSON cJSON *c = cJSON_IsArray(n) ? cJSON_CreateArray() : cJSON_CreateObject();
    if (c == NULL)
        return NULL;
    for (const cJSON *k = n->child; k != NULL; k = k->next) {
        cJSON *d = hcs_json_dup_exact(k);
        if (d == NULL)
            return NULL;
        int ok =
            cJSON_IsArray(n) ? cJSON_AddItemToArray(c, d) : cJSON_AddItemToObject(c, k->string, d);
        if (!ok) {
            cJSON_Delete(d);
            return NULL;
        }
    }
    return steal_ptr(&c);
}

char *hcs_json_print(const cJSON *n)
{
    AUTOJSON cJSON *exact = hcs_json_dup_exact(n);
    return exact != NULL ? cJSON_PrintUnformatted(exact) : NULL;
}

static cJSON *add_raw_number(cJSON *obj, const char *name, const char *text)
{
    cJSON *r = cJSON_CreateRaw(text);
    if (r == NULL)
        return NULL;
    if (!cJSON_AddItemToObject(obj, name, r)) {
        cJSON_Delete(r);
        return NULL;
    }
    return r;
}

cJSON *hcs_json_add_u64(cJSON *obj, const char *name, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return add_raw_number(obj, name, buf);
}

cJSON *hcs_json_add_i64(cJSON *obj, const char *name, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return add_raw_number(obj, name, buf);
}
