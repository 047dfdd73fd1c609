/*
 * parse.c - bg_parse: the model of a header from the compiler's own view of it.
 *
 * Declarations come from `clang -Xclang -ast-dump=json -fsyntax-only`; the object-like #defines
 * from `clang -E -dD`; the values of those #defines and of every enumerator from a probe program
 * compiled (and run) with the same clang, so that no C expression is ever evaluated here. Doc
 * comments are read from the header text at the offsets the AST gives. Every C type is mapped
 * onto the closed set of bg_shape; anything else stops the parse with the declaration's name,
 * its line and the C type.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bgutil.h"
#include "bindgen.h"

typedef struct record {
    const char *tag;
    const cJSON *node;
    bool used;
} record;

typedef struct ctx {
    const char *header;
    char *text; /* the header's bytes */
    size_t textlen;
    bg_api *api;
    const char **opaque; /* tags of incomplete structs */
    size_t nopaque;
    record *records; /* complete structs, by tag */
    size_t nrecords;
} ctx;

/* Append a zeroed element to arr (n elements) and return it. */
#define PUSH(arr, n)                                                                               \
    (arr = bg_xrealloc(arr, ((n) + 1) * sizeof(*(arr))), memset(&(arr)[(n)], 0, sizeof(*(arr))),   \
     &(arr)[(n)++])

static const char *clang_program(void)
{
    const char *c = getenv("CLANG");
    return c != NULL && *c != '\0' ? c : "clang";
}

static unsigned line_of(const ctx *c, size_t off)
{
    unsigned line = 1;
    for (size_t i = 0; i < off && i < c->textlen; i++)
        line += c->text[i] == '\n';
    return line;
}

__attribute__((format(printf, 3, 4))) static int fail(const ctx *c, size_t off, const char *fmt,
                                                      ...)
{
    va_list ap;
    fprintf(stderr, "bindgen: %s:%u: ", c->header, line_of(c, off));
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool flag(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static cJSON *item(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* The location of a declaration if it lies in the main file (the header): clang marks every
 * location of an included file with "includedFrom"; macro locations nest one level. */
static const cJSON *main_loc(const cJSON *loc)
{
    if (loc == NULL)
        return NULL;
    const cJSON *e = item(loc, "expansionLoc");
    if (e != NULL)
        loc = e;
    if (!cJSON_IsNumber(item(loc, "offset")) || item(loc, "includedFrom") != NULL)
        return NULL;
    return loc;
}

static size_t offset_of(const cJSON *loc)
{
    const cJSON *e = item(loc, "expansionLoc");
    const cJSON *o = item(e ? e : loc, "offset");
    return cJSON_IsNumber(o) && o->valuedouble >= 0 ? (size_t)o->valuedouble : 0;
}

static size_t begin_of(const cJSON *decl)
{
    const cJSON *r = item(decl, "range");
    const cJSON *b = r ? item(r, "begin") : NULL;
    return b ? offset_of(b) : offset_of(item(decl, "loc"));
}

/* --- doc comments ------------------------------------------------------------------------------
 */

static size_t line_start(const ctx *c, size_t off)
{
    while (off > 0 && c->text[off - 1] != '\n')
        off--;
    return off;
}

static size_t line_end(const ctx *c, size_t off)
{
    while (off < c->textlen && c->text[off] != '\n')
        off++;
    return off;
}

/* The text of the comment text[b, e) ("/" "*" ... "*" "/") without its markers and the " * " at
 * the start of each line; lines joined by '\n', blank first and last lines dropped. */
static char *clean_comment(const char *b, const char *e)
{
    if (e - b >= 4 && b[0] == '/' && b[1] == '*' && e[-1] == '/' && e[-2] == '*') {
        b += 2;
        e -= 2;
    }
    char *out = bg_xrealloc(NULL, (size_t)(e - b) + 1);
    size_t n = 0;
    const char *p = b;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        const char *le = nl ? nl : e;
        const char *s = p;
        while (s < le && (*s == ' ' || *s == '\t'))
            s++;
        if (s < le && *s == '*' && !(s + 1 < le && s[1] == '/'))
            s++;
        if (s < le && *s == ' ')
            s++;
        const char *t = le;
        while (t > s && isspace((unsigned char)t[-1]))
            t--;
        if (n > 0 || t > s) { /* drop leading blank lines */
            memcpy(out + n, s, (size_t)(t - s));
            n += (size_t)(t - s);
            out[n++] = '\n';
        }
        p = nl ? nl + 1 : e;
    }
    while (n > 0 && out[n - 1] == '\n')
        n--;
    out[n] = '\0';
    return n ? out : NULL;
}

/* The comment block that ends on the line right before the line holding off, or NULL. */
static const char *doc_before(const ctx *c, size_t off)
{
    size_t ls = line_start(c, off);
    if (ls == 0)
        return NULL;
    size_t pe = ls - 1; /* the '\n' ending the previous line */
    size_t ps = line_start(c, pe);
    const char *b = c->text + ps, *e = c->text + pe;
    while (e > b && isspace((unsigned char)e[-1]))
        e--;
    if (e - b < 2 || e[-1] != '/' || e[-2] != '*')
        return NULL;
    /* Find the "/" "*" that opens it, at most 200 lines up. */
    const char *s = e - 2;
    while (s > c->text && !(s[0] == '/' && s[1] == '*'))
        s--;
    if (!(s[0] == '/' && s[1] == '*'))
        return NULL;
    /* The comment must start its line (not trail a declaration). */
    for (const char *q = c->text + line_start(c, (size_t)(s - c->text)); q < s; q++)
        if (!isspace((unsigned char)*q))
            return NULL;
    return clean_comment(s, e);
}

/* The comment that trails the declaration at off on its own line, or NULL. */
static const char *doc_after(const ctx *c, size_t off)
{
    size_t le = line_end(c, off);
    const char *b = c->text + off, *e = c->text + le;
    const char *s = NULL;
    for (const char *q = b; q + 1 < e; q++)
        if (q[0] == '/' && q[1] == '*') {
            s = q;
            break;
        }
    if (s == NULL)
        return NULL;
    const char *t = NULL;
    for (const char *q = s + 2; q + 1 < e; q++)
        if (q[0] == '*' && q[1] == '/') {
            t = q + 2;
            break;
        }
    return t ? clean_comment(s, t) : NULL;
}

/* --- types -------------------------------------------------------------------------------------
 */

enum role { ROLE_RETURN, ROLE_PARAM, ROLE_FIELD, ROLE_CALLBACK_PARAM };

static const struct {
    const char *name;
    int bits;
    bool is_signed;
} int_types[] = {
    {"int8_t", 8, true},         {"uint8_t", 8, false},   {"int16_t", 16, true},
    {"uint16_t", 16, false},     {"int32_t", 32, true},   {"uint32_t", 32, false},
    {"int64_t", 64, true},       {"uint64_t", 64, false}, {"int", 32, true},
    {"unsigned int", 32, false},
};

static bool find_int(const bg_api *api, const char *name, int *bits, bool *is_signed)
{
    for (size_t i = 0; i < sizeof(int_types) / sizeof(int_types[0]); i++)
        if (strcmp(int_types[i].name, name) == 0) {
            *bits = int_types[i].bits;
            *is_signed = int_types[i].is_signed;
            return true;
        }
    for (size_t i = 0; i < api->naliases; i++)
        if (strcmp(api->aliases[i].name, name) == 0) {
            *bits = api->aliases[i].int_bits;
            *is_signed = api->aliases[i].is_signed;
            return true;
        }
    return false;
}

static bool is_handle(const bg_api *api, const char *name)
{
    for (size_t i = 0; i < api->nhandles; i++)
        if (strcmp(api->handles[i].name, name) == 0)
            return true;
    return false;
}

static bool is_callback(const bg_api *api, const char *name)
{
    for (size_t i = 0; i < api->ncallbacks; i++)
        if (strcmp(api->callbacks[i].name, name) == 0)
            return true;
    return false;
}

static bool is_struct(const bg_api *api, const char *name)
{
    for (size_t i = 0; i < api->nstructs; i++)
        if (strcmp(api->structs[i].name, name) == 0)
            return true;
    return false;
}

/* "T *" -> "T" (one level), else NULL. */
static char *pointee(const char *q)
{
    size_t n = strlen(q);
    if (n < 3 || q[n - 1] != '*' || q[n - 2] != ' ')
        return NULL;
    return bg_strndup(q, n - 2);
}

static const char *role_name(enum role r)
{
    switch (r) {
    case ROLE_RETURN:
        return "the return value";
    case ROLE_FIELD:
        return "field";
    default:
        return "parameter";
    }
}

/* Map the C type q (as clang spells it) used in role by declaration decl (what, for messages). */
static int map_type(const ctx *c, size_t off, const char *decl, const char *what, enum role role,
                    const char *q, bg_type *t)
{
    const bg_api *api = c->api;
    memset(t, 0, sizeof(*t));
    t->c_spelling = bg_strdup(q);
    char *p = pointee(q);
    if (strcmp(q, "void") == 0 && role == ROLE_RETURN) {
        t->shape = BG_VOID;
        return 0;
    }
    if (find_int(api, q, &t->int_bits, &t->is_signed)) {
        t->shape = BG_INT;
        t->type_name = t->c_spelling;
        return 0;
    }
    if (is_handle(api, q)) {
        t->shape = BG_HANDLE;
        t->type_name = t->c_spelling;
        return 0;
    }
    if (is_callback(api, q) && role != ROLE_RETURN) {
        t->shape = BG_CALLBACK;
        t->type_name = t->c_spelling;
        return 0;
    }
    if (strcmp(q, "const char *") == 0 && role != ROLE_RETURN) {
        t->shape = role == ROLE_FIELD ? BG_STRING_BORROWED : BG_STRING_IN;
        t->type_name = "char";
        return 0;
    }
    if (strcmp(q, "char **") == 0 && role == ROLE_PARAM) {
        t->shape = BG_STRING_OUT;
        t->type_name = "char";
        return 0;
    }
    if (strcmp(q, "void *") == 0 || (strcmp(q, "const void *") == 0 && role != ROLE_RETURN)) {
        t->shape = BG_POINTER;
        t->is_const = q[0] == 'c';
        return 0;
    }
    if (p != NULL && role == ROLE_PARAM && is_handle(api, p)) {
        t->shape = BG_HANDLE_OUT;
        t->type_name = p;
        return 0;
    }
    if (p != NULL && role != ROLE_RETURN && role != ROLE_FIELD) {
        const char *s = p;
        bool is_const = strncmp(s, "const ", 6) == 0;
        if (is_const)
            s += 6;
        if (is_struct(api, s)) {
            t->shape = BG_STRUCT_PTR;
            t->type_name = s;
            t->is_const = is_const;
            return 0;
        }
    }
    return fail(c, off, "%s: %s%s%s has type '%s', which the bindings cannot express%s", decl,
                role_name(role), what ? " " : "", what ? what : "", q,
                strstr(q, "(*)") ? " (use a callback typedef)"
                : (strncmp(q, "struct ", 7) == 0 || is_struct(api, q))
                    ? " (pass structs by pointer)"
                : (strcmp(q, "long") == 0 || strcmp(q, "unsigned long") == 0)
                    ? " (use a fixed-width integer type)"
                    : "");
}

/* --- declarations ------------------------------------------------------------------------------
 */

static const char *decl_doc(const ctx *c, const cJSON *decl)
{
    return doc_before(c, begin_of(decl));
}

static int add_record(ctx *c, const cJSON *n)
{
    const char *tag = str(n, "name");
    size_t off = offset_of(item(n, "loc"));
    if (!flag(n, "completeDefinition")) {
        if (tag != NULL)
            *PUSH(c->opaque, c->nopaque) = tag;
        return 0;
    }
    if (tag == NULL || strcmp(str(n, "tagUsed") ? str(n, "tagUsed") : "", "struct") != 0)
        return fail(c, off,
                    "%s %s: only named structs can be bound (a union or anonymous struct "
                    "cannot)",
                    str(n, "tagUsed") ? str(n, "tagUsed") : "record", tag ? tag : "(anonymous)");
    record *r = PUSH(c->records, c->nrecords);
    r->tag = tag;
    r->node = n;
    r->used = false;
    return 0;
}

static bool is_opaque(const ctx *c, const char *tag)
{
    for (size_t i = 0; i < c->nopaque; i++)
        if (strcmp(c->opaque[i], tag) == 0)
            return true;
    return false;
}

static record *find_record(ctx *c, const char *tag)
{
    for (size_t i = 0; i < c->nrecords; i++)
        if (strcmp(c->records[i].tag, tag) == 0)
            return &c->records[i];
    return NULL;
}

/* The parameter names of the function pointer typedef at [b, e) of the text: the identifiers
 * that end each comma-separated piece of its last parenthesized list. */
static const char *callback_param_name(const ctx *c, size_t b, size_t e, size_t index)
{
    const char *t = c->text;
    if (e > c->textlen)
        e = c->textlen;
    size_t close = e;
    while (close > b && t[close] != ')')
        close--;
    size_t open = close;
    int depth = 0;
    while (open > b) {
        if (t[open] == ')')
            depth++;
        else if (t[open] == '(' && --depth == 0)
            break;
        open--;
    }
    size_t piece = 0, s = open + 1;
    for (size_t i = open + 1; i <= close; i++) {
        if (t[i] != ',' && i != close)
            continue;
        if (piece++ == index) {
            size_t q = i;
            while (q > s && isspace((unsigned char)t[q - 1]))
                q--;
            size_t id = q;
            while (id > s && (isalnum((unsigned char)t[id - 1]) || t[id - 1] == '_'))
                id--;
            /* A piece with one word only is a type without a name. */
            size_t before = id;
            while (before > s && isspace((unsigned char)t[before - 1]))
                before--;
            if (id < q && before > s)
                return bg_strndup(t + id, q - id);
            return NULL;
        }
        s = i + 1;
    }
    return NULL;
}

static int add_typedef(ctx *c, const cJSON *n)
{
    const char *name = str(n, "name");
    const cJSON *type = item(n, "type");
    const char *q = str(type, "qualType");
    size_t off = offset_of(item(n, "loc"));
    bg_api *api = c->api;
    if (name == NULL || q == NULL)
        return fail(c, off, "a typedef clang reports without a name or type");
    const cJSON *in = cJSON_GetArrayItem(item(n, "inner"), 0);
    const char *kind = in ? str(in, "kind") : NULL;

    /* typedef struct X_ *NAME; with X_ never completed: an opaque handle. */
    char *p = pointee(q);
    if (p != NULL && strncmp(p, "struct ", 7) == 0 && is_opaque(c, p + 7) &&
        find_record(c, p + 7) == NULL) {
        bg_handle *h = PUSH(api->handles, api->nhandles);
        h->name = name;
        h->doc = decl_doc(c, n);
        return 0;
    }
    /* typedef struct X {...} NAME; */
    if (strncmp(q, "struct ", 7) == 0) {
        record *r = find_record(c, q + 7);
        if (r == NULL)
            return fail(c, off,
                        "typedef %s: '%s' is an incomplete struct that is not used "
                        "through a pointer typedef; the bindings cannot express it",
                        name, q);
        r->used = true;
        bg_struct *s = PUSH(api->structs, api->nstructs);
        s->name = name;
        s->doc = decl_doc(c, n);
        const cJSON *f;
        cJSON_ArrayForEach(f, item(r->node, "inner"))
        {
            const char *fk = str(f, "kind");
            if (fk == NULL || strcmp(fk, "FieldDecl") != 0)
                return fail(c, offset_of(item(f, "loc")),
                            "struct %s: a %s inside a struct cannot be bound", name,
                            fk ? fk : "declaration");
            bg_param *fp = PUSH(s->fields, s->nfields);
            size_t foff = offset_of(item(f, "loc"));
            fp->name = str(f, "name");
            if (fp->name == NULL || flag(f, "isBitfield"))
                return fail(c, foff, "struct %s: unnamed or bit-field members cannot be bound",
                            name);
            if (map_type(c, foff, name, fp->name, ROLE_FIELD, str(item(f, "type"), "qualType"),
                         &fp->type) != 0)
                return -1;
            fp->doc = doc_after(c, foff);
        }
        return 0;
    }
    /* typedef RET (*NAME)(ARGS); */
    if (kind != NULL && strcmp(kind, "PointerType") == 0) {
        const cJSON *paren = cJSON_GetArrayItem(item(in, "inner"), 0);
        const cJSON *proto =
            paren && strcmp(str(paren, "kind") ? str(paren, "kind") : "", "ParenType") == 0
                ? cJSON_GetArrayItem(item(paren, "inner"), 0)
                : NULL;
        if (proto != NULL &&
            strcmp(str(proto, "kind") ? str(proto, "kind") : "", "FunctionProtoType") == 0) {
            if (flag(proto, "variadic"))
                return fail(c, off, "%s: a variadic callback cannot be bound", name);
            bg_callback *cb = PUSH(api->callbacks, api->ncallbacks);
            cb->name = name;
            cb->doc = decl_doc(c, n);
            const cJSON *range = item(n, "range");
            size_t rb = begin_of(n), re = offset_of(item(range, "end")) + 1;
            size_t i = 0;
            const cJSON *a;
            cJSON_ArrayForEach(a, item(proto, "inner"))
            {
                const char *aq = str(item(a, "type"), "qualType");
                if (aq == NULL)
                    return fail(c, off, "%s: a callback type clang reports without its types",
                                name);
                if (i == 0) {
                    if (map_type(c, off, name, NULL, ROLE_RETURN, aq, &cb->ret) != 0)
                        return -1;
                } else {
                    bg_param *pa = PUSH(cb->params, cb->nparams);
                    const char *pn = callback_param_name(c, rb, re, i - 1);
                    if (pn == NULL) {
                        char buf[32];
                        snprintf(buf, sizeof(buf), "arg%zu", i - 1);
                        pn = bg_strdup(buf);
                    }
                    pa->name = pn;
                    if (map_type(c, off, name, pn, ROLE_CALLBACK_PARAM, aq, &pa->type) != 0)
                        return -1;
                }
                i++;
            }
            return 0;
        }
    }
    /* typedef <integer> NAME; */
    int bits;
    bool is_signed;
    if (find_int(api, q, &bits, &is_signed)) {
        bg_alias *a = PUSH(api->aliases, api->naliases);
        a->name = name;
        a->doc = decl_doc(c, n);
        a->int_bits = bits;
        a->is_signed = is_signed;
        return 0;
    }
    return fail(c, off,
                "typedef %s: type '%s' is not one the bindings can express (an integer "
                "of fixed width, an opaque struct pointer, a struct or a function pointer)",
                name, q);
}

static int add_enum(ctx *c, const cJSON *n)
{
    bg_enum *e = PUSH(c->api->enums, c->api->nenums);
    e->name = str(n, "name");
    e->doc = decl_doc(c, n);
    const cJSON *v;
    cJSON_ArrayForEach(v, item(n, "inner"))
    {
        const char *k = str(v, "kind");
        if (k == NULL || strcmp(k, "EnumConstantDecl") != 0)
            continue;
        bg_enumerator *ev = PUSH(e->values, e->nvalues);
        ev->name = str(v, "name");
        ev->doc = doc_after(c, offset_of(item(v, "loc")));
    }
    return 0;
}

/* "RET (ARGS)" -> "RET". */
static char *return_type(const char *q)
{
    const char *paren = strchr(q, '(');
    if (paren == NULL)
        return bg_strdup(q);
    while (paren > q && paren[-1] == ' ')
        paren--;
    return bg_strndup(q, (size_t)(paren - q));
}

static int add_function(ctx *c, const cJSON *n)
{
    const char *name = str(n, "name");
    size_t off = offset_of(item(n, "loc"));
    const char *q = str(item(n, "type"), "qualType");
    if (name == NULL || q == NULL)
        return fail(c, off, "a function clang reports without a name or type");
    if (flag(n, "variadic"))
        return fail(c, off, "%s: a variadic function cannot be bound", name);
    if (flag(n, "inline") || (str(n, "storageClass") && strcmp(str(n, "storageClass"), "extern")))
        return fail(c, off, "%s: a static or inline function has no symbol to bind", name);
    bg_function *f = PUSH(c->api->functions, c->api->nfunctions);
    f->name = name;
    f->doc = decl_doc(c, n);
    if (map_type(c, off, name, NULL, ROLE_RETURN, return_type(q), &f->ret) != 0)
        return -1;
    const cJSON *a;
    cJSON_ArrayForEach(a, item(n, "inner"))
    {
        const char *k = str(a, "kind");
        if (k == NULL || strcmp(k, "ParmVarDecl") != 0)
            continue;
        bg_param *p = PUSH(f->params, f->nparams);
        size_t poff = offset_of(item(a, "loc"));
        p->name = str(a, "name");
        if (p->name == NULL)
            return fail(c, poff, "%s: parameter %zu has no name; the bindings need one", name,
                        f->nparams);
        if (map_type(c, poff, name, p->name, ROLE_PARAM, str(item(a, "type"), "qualType"),
                     &p->type) != 0)
            return -1;
    }
    return 0;
}

static int walk(ctx *c, const cJSON *tu)
{
    const cJSON *n;
    cJSON_ArrayForEach(n, item(tu, "inner"))
    {
        if (flag(n, "isImplicit") || main_loc(item(n, "loc")) == NULL)
            continue;
        const char *k = str(n, "kind");
        size_t off = offset_of(item(n, "loc"));
        int rc;
        if (k == NULL)
            rc = fail(c, off, "a declaration clang reports without a kind");
        else if (strcmp(k, "RecordDecl") == 0)
            rc = add_record(c, n);
        else if (strcmp(k, "TypedefDecl") == 0)
            rc = add_typedef(c, n);
        else if (strcmp(k, "EnumDecl") == 0)
            rc = add_enum(c, n);
        else if (strcmp(k, "FunctionDecl") == 0)
            rc = add_function(c, n);
        else
            rc = fail(c, off,
                      "%s%s%s: a %s cannot be bound (only functions, typedefs, enums and "
                      "structs)",
                      str(n, "name") ? "" : "declaration", str(n, "name") ? str(n, "name") : "", "",
                      k);
        if (rc != 0)
            return -1;
    }
    for (size_t i = 0; i < c->nrecords; i++)
        if (!c->records[i].used)
            return fail(c, offset_of(item(c->records[i].node, "loc")),
                        "struct %s has no typedef; the bindings name structs by their typedef",
                        c->records[i].tag);
    /* enum NAME_VALUES belongs to the integer typedef NAME. */
    for (size_t i = 0; i < c->api->nenums; i++) {
        bg_enum *e = &c->api->enums[i];
        size_t len = e->name ? strlen(e->name) : 0;
        if (len > 7 && strcmp(e->name + len - 7, "_VALUES") == 0) {
            char *t = bg_strndup(e->name, len - 7);
            for (size_t j = 0; j < c->api->naliases; j++)
                if (strcmp(c->api->aliases[j].name, t) == 0)
                    e->type_name = bg_strdup(c->api->aliases[j].name);
        }
    }
    return 0;
}

/* --- #defines and values -----------------------------------------------------------------------
 */

/* Collect the object-like #defines written in the header itself, from `clang -E -dD`. */
static int collect_defines(ctx *c, const char ***names, size_t *n)
{
    const char *argv[] = {clang_program(), "-E", "-dD", "-x", "c", "-std=c11", c->header, NULL};
    char *out;
    if (bg_run(argv, &out, NULL) != 0) {
        fprintf(stderr, "bindgen: %s: preprocessing failed (see above)\n", c->header);
        return -1;
    }
    const char *cur = "";
    for (char *line = out; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (line[0] == '#' && line[1] == ' ' && isdigit((unsigned char)line[2])) {
            char *q1 = strchr(line, '"');
            char *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
            if (q1 && q2)
                cur = bg_strndup(q1 + 1, (size_t)(q2 - q1 - 1));
        } else if (strcmp(cur, c->header) == 0 && strncmp(line, "#define ", 8) == 0) {
            const char *nm = line + 8;
            size_t len = 0;
            while (isalnum((unsigned char)nm[len]) || nm[len] == '_')
                len++;
            const char *body = nm + len;
            bool object_like = *body == ' ' || *body == '\0';
            while (*body == ' ')
                body++;
            const char *name = bg_strndup(nm, len);
            if (object_like && *body != '\0' && name[len - 1] != '_' &&
                strcmp(name, "HCS_API") != 0 && strncmp(body, "__attribute__", 13) != 0 &&
                strncmp(body, "__declspec", 10) != 0)
                *PUSH(*names, *n) = name;
        } else if (strcmp(cur, c->header) == 0 && strncmp(line, "#undef ", 7) == 0) {
            for (size_t i = 0; i < *n; i++)
                if (strcmp((*names)[i], line + 7) == 0)
                    (*names)[i] = "";
        }
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

static bool hresult_name(const char *n)
{
    return strncmp(n, "S_", 2) == 0 || strncmp(n, "E_", 2) == 0 || strncmp(n, "HCS_E_", 6) == 0;
}

/* The header line "#define NAME" (offset), or (size_t)-1. */
static size_t define_offset(const ctx *c, const char *name)
{
    size_t nl = strlen(name);
    for (size_t off = 0; off < c->textlen; off = line_end(c, off) + 1) {
        const char *p = c->text + off;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '#')
            continue;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "define", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
            continue;
        p += 6;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, name, nl) == 0 && !(isalnum((unsigned char)p[nl]) || p[nl] == '_'))
            return off;
    }
    return (size_t)-1;
}

/* Doc of a #define: its trailing comment; else the comment right above it, unless the next line
 * is another #define (then the comment heads a group). */
static const char *define_doc(const ctx *c, size_t off)
{
    const char *d = doc_after(c, off);
    if (d != NULL || off == (size_t)-1)
        return d;
    size_t next = line_end(c, off) + 1;
    if (next < c->textlen) {
        const char *p = c->text + next;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "#define", 7) == 0)
            return NULL;
    }
    return doc_before(c, off);
}

static int fprintf_ok(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fprintf_ok(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r < 0 ? -1 : 0;
}

/* Compile and run a probe that prints, as the compiler evaluates them, each #define's signedness,
 * width and value and each enumerator's value. */
static int evaluate(ctx *c, const char **names, size_t nnames)
{
    char abs[PATH_MAX];
    if (realpath(c->header, abs) == NULL) {
        fprintf(stderr, "bindgen: %s: %s\n", c->header, strerror(errno));
        return -1;
    }
    char dir[] = "/tmp/bindgen-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "bindgen: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    char src[sizeof(dir) + 16], exe[sizeof(dir) + 16];
    snprintf(src, sizeof(src), "%s/probe.c", dir);
    snprintf(exe, sizeof(exe), "%s/probe", dir);
    int rc = -1;
    char *out = NULL;
    FILE *f = fopen(src, "w");
    if (f == NULL) {
        fprintf(stderr, "bindgen: %s: %s\n", src, strerror(errno));
        goto done;
    }
    int w = fprintf_ok(f,
                       "#include \"%s\"\n#include <stdio.h>\n"
                       "#define BG_SIGNED(x) _Generic((x), signed char: 1, short: 1, int: 1, "
                       "long: 1, long long: 1, unsigned char: 0, unsigned short: 0, "
                       "unsigned int: 0, unsigned long: 0, unsigned long long: 0, "
                       "default: -1)\n",
                       abs);
    for (size_t i = 0; i < nnames; i++)
        if (*names[i])
            w |= fprintf_ok(f,
                            "_Static_assert((%s) || 1, \"#define %s is not an integer constant "
                            "expression\");\n",
                            names[i], names[i]);
    w |= fprintf_ok(f, "int main(void)\n{\n");
    for (size_t i = 0; i < nnames; i++)
        if (*names[i])
            w |= fprintf_ok(f,
                            "    if (BG_SIGNED(%s) == 1)\n"
                            "        printf(\"D %%s 1 %%d %%lld\\n\", \"%s\", (int)sizeof(%s) * 8, "
                            "(long long)(%s));\n"
                            "    else\n"
                            "        printf(\"D %%s %%d %%d %%llu\\n\", \"%s\", BG_SIGNED(%s), "
                            "(int)sizeof(%s) * 8, (unsigned long long)(%s));\n",
                            names[i], names[i], names[i], names[i], names[i], names[i], names[i],
                            names[i]);
    for (size_t i = 0; i < c->api->nenums; i++)
        for (size_t j = 0; j < c->api->enums[i].nvalues; j++) {
            const char *e = c->api->enums[i].values[j].name;
            w |= fprintf_ok(f, "    printf(\"E %%s %%lld\\n\", \"%s\", (long long)%s);\n", e, e);
        }
    w |= fprintf_ok(f, "    return 0;\n}\n");
    if (fclose(f) != 0 || w != 0) {
        fprintf(stderr, "bindgen: writing %s failed\n", src);
        goto done;
    }
    const char *cc[] = {clang_program(), "-std=c11", "-w", "-o", exe, src, NULL};
    char *ccout;
    if (bg_run(cc, &ccout, NULL) != 0) {
        fprintf(stderr,
                "bindgen: %s: the compiler could not evaluate the header's #defines and "
                "enumerators (see above)\n",
                c->header);
        goto done;
    }
    const char *probe[] = {exe, NULL};
    if (bg_run(probe, &out, NULL) != 0)
        goto done;
    rc = 0;
done:
    unlink(exe);
    unlink(src);
    rmdir(dir);
    if (rc != 0)
        return rc;

    for (char *line = out; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char name[256];
        int sgn, bits;
        long long sv;
        unsigned long long uv;
        if (line[0] == 'D' && sscanf(line, "D %255s %d %d", name, &sgn, &bits) == 3) {
            size_t off = define_offset(c, name);
            const char *last = strrchr(line, ' ') + 1;
            if (sgn < 0 || (bits != 8 && bits != 16 && bits != 32 && bits != 64))
                return fail(c, off == (size_t)-1 ? 0 : off,
                            "#define %s: its type is not an integer type the bindings know", name);
            bg_constant *k = PUSH(c->api->constants, c->api->nconstants);
            k->name = bg_strdup(name);
            k->int_bits = bits;
            k->is_signed = sgn == 1;
            errno = 0;
            if (k->is_signed) {
                sv = strtoll(last, NULL, 10);
                k->bits = (uint64_t)sv;
            } else {
                uv = strtoull(last, NULL, 10);
                k->bits = (uint64_t)uv;
            }
            if (hresult_name(name)) {
                if (bits != 32 || !k->is_signed)
                    return fail(c, off == (size_t)-1 ? 0 : off,
                                "#define %s: a result code must have type HRESULT (int32_t), "
                                "the compiler says %s%d",
                                name, k->is_signed ? "int" : "uint", bits);
                k->type_name = "HRESULT";
            }
            k->doc = define_doc(c, off);
        } else if (line[0] == 'E' && sscanf(line, "E %255s %lld", name, &sv) == 2) {
            for (size_t i = 0; i < c->api->nenums; i++)
                for (size_t j = 0; j < c->api->enums[i].nvalues; j++)
                    if (strcmp(c->api->enums[i].values[j].name, name) == 0)
                        c->api->enums[i].values[j].value = sv;
        }
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* --- entry -------------------------------------------------------------------------------------
 */

static int read_file(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "bindgen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, n = 0;
    char *buf = bg_xrealloc(NULL, cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0)
            buf = bg_xrealloc(buf, cap *= 2);
    }
    bool err = ferror(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "bindgen: %s: read error\n", path);
        return -1;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

int bg_parse(const char *header, bg_api *api)
{
    memset(api, 0, sizeof(*api));
    api->header = header;
    ctx c = {.header = header, .api = api};
    if (read_file(header, &c.text, &c.textlen) != 0)
        return -1;
    const char *argv[] = {clang_program(), "-Xclang", "-ast-dump=json",
                          "-fsyntax-only", "-x",      "c",
                          "-std=c11",      header,    NULL};
    char *json;
    if (bg_run(argv, &json, NULL) != 0) {
        fprintf(stderr, "bindgen: %s: clang could not parse it (see above)\n", header);
        return -1;
    }
    cJSON *tu = cJSON_Parse(json);
    if (tu == NULL) {
        fprintf(stderr, "bindgen: %s: clang's AST dump is not valid JSON\n", header);
        return -1;
    }
    int rc = walk(&c, tu);
    if (rc == 0) {
        /* The JSON tree is freed below: keep copies of the strings borrowed from it. */
        for (size_t i = 0; i < api->nfunctions; i++) {
            bg_function *f = &api->functions[i];
            f->name = bg_strdup(f->name);
            for (size_t j = 0; j < f->nparams; j++)
                f->params[j].name = bg_strdup(f->params[j].name);
        }
        for (size_t i = 0; i < api->nstructs; i++) {
            api->structs[i].name = bg_strdup(api->structs[i].name);
            for (size_t j = 0; j < api->structs[i].nfields; j++)
                api->structs[i].fields[j].name = bg_strdup(api->structs[i].fields[j].name);
        }
        for (size_t i = 0; i < api->ncallbacks; i++)
            api->callbacks[i].name = bg_strdup(api->callbacks[i].name);
        for (size_t i = 0; i < api->nhandles; i++)
            api->handles[i].name = bg_strdup(api->handles[i].name);
        for (size_t i = 0; i < api->naliases; i++)
            api->aliases[i].name = bg_strdup(api->aliases[i].name);
        for (size_t i = 0; i < api->nenums; i++) {
            bg_enum *e = &api->enums[i];
            e->name = e->name ? bg_strdup(e->name) : NULL;
            for (size_t j = 0; j < e->nvalues; j++)
                e->values[j].name = bg_strdup(e->values[j].name);
        }
    }
    cJSON_Delete(tu);
    if (rc != 0)
        return -1;
    const char **names = NULL;
    size_t nnames = 0;
    if (collect_defines(&c, &names, &nnames) != 0 || evaluate(&c, names, nnames) != 0)
        return -1;
    return 0;
}

void bg_api_free(bg_api *api)
{
    bg_arena_free();
    memset(api, 0, sizeof(*api));
}
