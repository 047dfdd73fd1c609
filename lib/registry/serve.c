/*
 * serve.c - the in-container protocol: answer one hcsreg request (reg.exe-style commands) from a
 * compute system's registry.
 *
 * Output follows reg.exe where it can (the layout of `reg query`, "(Default)", 0x%x DWORDs,
 * uppercase hex binaries, "\0" between MULTI_SZ strings) with Linux line ends. Differences, on
 * purpose: nothing ever prompts (/f is accepted and changes nothing), and "not found" errors
 * name the key or value. An import's text may be UTF-16LE with a BOM (as regedit writes .reg
 * files); it is converted to UTF-8 before parsing. KEY, the switches and the data of an add are
 * parsed by cli.c, as `hcsdiag reg` parses them on the host.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hive_internal.h"
#include "registry.h"

#define MAX_ARGS 16
#define NOT_FOUND "The system was unable to find the specified registry key or value"
#define DONE "The operation completed successfully.\n"
enum { ST_OK = 0, ST_FAIL = 1, ST_USAGE = 2 };

static const char usage_all[] =
    "usage: hcsreg COMMAND ARGS...\n"
    "  hcsreg query KEY [/v NAME | /ve] [/s]\n"
    "  hcsreg add KEY [/v NAME | /ve] [/t TYPE] [/s SEPARATOR] [/d DATA] [/f]\n"
    "  hcsreg delete KEY [/v NAME | /ve | /va] [/f]\n"
    "  hcsreg export KEY [FILE] [/y]\n"
    "  hcsreg import FILE\n"
    "KEY: " HCS_REG_CLI_ROOTS ", then \\subkey...\n"
    "TYPE: " HCS_REG_CLI_TYPES " (default REG_SZ)\n";

/* --- the answer: a status byte, then text ---------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (n > o->cap - o->len) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap - o->len < n) {
            if (cap > SIZE_MAX / 2) {
                o->oom = true;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(o->p, cap);
        if (p == NULL) {
            o->oom = true;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void printf_(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    AUTOFREE char *s = hcs_vasprintf(fmt, ap);
    va_end(ap);
    if (s == NULL)
        o->oom = true;
    else
        puts_(o, s);
}

/* Replace the text so far by status and, when fmt is given, "ERROR: <message>". */
static void restart(out *o, int status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void restart(out *o, int status, const char *fmt, va_list ap)
{
    o->len = 1;
    o->p[0] = (char)status;
    if (fmt == NULL)
        return;
    AUTOFREE char *s = hcs_vasprintf(fmt, ap);
    if (s == NULL) {
        o->oom = true;
        return;
    }
    puts_(o, "ERROR: ");
    puts_(o, s);
    puts_(o, "\n");
}

/* Replace the text so far by the error (status 1). */
static int fail(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    restart(o, ST_FAIL, fmt, ap);
    va_end(ap);
    return ST_FAIL;
}

static int fail_err(out *o, const hcs_error *err)
{
    return fail(o, "%s", err && err->message ? err->message : "unknown error");
}

/* Replace the text so far by the usage error (status 2) and the usage summary. */
static int usage(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    restart(o, ST_USAGE, fmt, ap);
    va_end(ap);
    if (!o->oom)
        puts_(o, usage_all);
    return ST_USAGE;
}

/* --- the command line (cli.c) ------------------------------------------------------------- */

/* A shared parser's outcome as the answer: ST_OK, a failure (1) or a usage error (2). */
static int cli_status(out *o, int kind, char *msg)
{
    AUTOFREE char *m = msg;
    switch (kind) {
    case HCS_REG_CLI_OK:
        return ST_OK;
    case HCS_REG_CLI_USAGE:
        return usage(o, "%s", m);
    case HCS_REG_CLI_INVALID:
        return fail(o, "%s", m);
    default:
        o->oom = true;
        return ST_FAIL;
    }
}

/*
 * A verb's KEY (argv[1]) and switches (argv[2..argc), the ones allowed: "v ve s") into *sw and
 * *k; ST_OK, or a usage error in o. The caller frees *k (hcs_reg_cli_key_free) either way.
 */
static int command_args(out *o, const char *verb, const char *const *argv, size_t argc,
                        const char *allowed, hcs_reg_cli_switches *sw, hcs_reg_cli_key *k)
{
    if (argc < 2) {
        usage(o, "%s: no KEY", verb);
        return ST_USAGE; /* said here: the analyzer does not follow variadic calls */
    }
    char *msg = NULL;
    int kind = hcs_reg_cli_switches_parse(verb, argv + 2, argc - 2, allowed, NULL, sw, &msg);
    int st = cli_status(o, kind, msg);
    if (st != ST_OK)
        return st;
    msg = NULL;
    kind = hcs_reg_cli_key_parse(argv[1], 0, k, &msg);
    return cli_status(o, kind, msg);
}

/* --- query --------------------------------------------------------------------------------- */

static void put_hex(out *o, const uint8_t *d, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        char two[2] = {digits[d[i] >> 4], digits[d[i] & 15]};
        put(o, two, 2);
    }
}

static uint64_t le(const uint8_t *d, size_t n)
{
    uint64_t x = 0;
    for (size_t i = n; i > 0; i--)
        x = x << 8 | d[i - 1];
    return x;
}

/* "    NAME    REG_TYPE    DATA\n" */
static void put_value(out *o, const hcs_reg_value *v)
{
    puts_(o, "    ");
    puts_(o, v->name[0] ? v->name : "(Default)");
    puts_(o, "    ");
    const char *tn = hcs_reg_cli_type_name(v->type);
    if (tn)
        puts_(o, tn);
    else
        printf_(o, "0x%x", (unsigned)v->type);
    puts_(o, "    ");
    const uint8_t *d = v->data;
    switch (v->type) {
    case HCS_REG_SZ:
    case HCS_REG_EXPAND_SZ:
        put(o, (const char *)d, v->len);
        break;
    case HCS_REG_DWORD:
    case HCS_REG_QWORD:
        if (v->len == (v->type == HCS_REG_DWORD ? 4u : 8u))
            printf_(o, "0x%llx", (unsigned long long)le(d, v->len));
        else
            put_hex(o, d, v->len);
        break;
    case HCS_REG_MULTI_SZ: {
        size_t n = v->len;
        if (n > 0 && d[n - 1] == '\0')
            n--; /* the last string's NUL ends the list: "a\0b" */
        for (size_t i = 0; i < n; i++) {
            if (d[i] == '\0')
                puts_(o, "\\0");
            else
                put(o, (const char *)d + i, 1);
        }
        break;
    }
    default:
        put_hex(o, d, v->len);
        break;
    }
    puts_(o, "\n");
}

static int value_put(void *ctx, const hcs_reg_value *v)
{
    out *o = ctx;
    if (!v->deleted)
        put_value(o, v);
    return o->oom ? -1 : 0;
}

typedef struct {
    out *o;
    const hcs_reg_view *view;
    enum hcs_reg_hive h;
    const char *name; /* /v NAME or /ve (""); NULL: every value */
    size_t matches;
} query;

/* One key of a /s query (and its subkeys): its name, its values (or the one asked), a blank
 * line. With /v, only the keys that have that value are printed. */
static int query_tree(query *q, const char *key, const char *full)
{
    if (q->name != NULL) {
        hcs_reg_value v;
        int r = hcs_reg_view_get(q->view, q->h, key, q->name, &v);
        if (r < 0)
            return -1;
        if (r == 1) {
            printf_(q->o, "%s\n", full);
            put_value(q->o, &v);
            puts_(q->o, "\n");
            q->matches++;
        }
    } else {
        printf_(q->o, "%s\n", full);
        if (hcs_reg_view_values(q->view, q->h, key, value_put, q->o) != 0)
            return -1;
        puts_(q->o, "\n");
    }
    hcs_reg_names l = {0};
    int rc = hcs_reg_view_subkeys(q->view, q->h, key, hcs_reg_names_add, &l) != 0 ? -1 : 0;
    for (size_t i = 0; i < l.n && rc == 0 && !q->o->oom; i++) {
        AUTOFREE char *child =
            key[0] ? hcs_asprintf("%s\\%s", key, l.names[i]) : strdup(l.names[i]);
        AUTOFREE char *child_full = hcs_asprintf("%s\\%s", full, l.names[i]);
        rc = child && child_full ? query_tree(q, child, child_full) : -1;
    }
    hcs_reg_names_free(&l);
    return q->o->oom ? -1 : rc;
}

static int cmd_query(out *o, hcs_reg_system *s, const char *const *argv, size_t argc)
{
    hcs_reg_cli_switches sw = {0};
    hcs_reg_cli_key k __attribute__((cleanup(hcs_reg_cli_key_free))) = {0};
    int st = command_args(o, "query", argv, argc, "v ve s", &sw, &k);
    if (st != ST_OK)
        return st;
    const hcs_reg_view *view = hcs_reg_system_view(s);
    if (!hcs_reg_view_key_exists(view, k.hive, k.key))
        return fail(o, NOT_FOUND ": %s", k.full);
    const char *name = sw.ve ? "" : sw.v;
    puts_(o, "\n");
    if (sw.s) {
        query q = {.o = o, .view = view, .h = k.hive, .name = name};
        if (query_tree(&q, k.key, k.full) < 0) {
            o->oom = true;
            return ST_FAIL;
        }
        if (name != NULL && q.matches == 0)
            return fail(o, NOT_FOUND ": %s under %s", name[0] ? name : "(Default)", k.full);
        if (name != NULL)
            printf_(o, "End of search: %zu match(es) found.\n", q.matches);
        return ST_OK;
    }
    printf_(o, "%s\n", k.full);
    if (name != NULL) {
        hcs_reg_value v;
        int r = hcs_reg_view_get(view, k.hive, k.key, name, &v);
        if (r < 0) {
            o->oom = true;
            return ST_FAIL;
        }
        if (r == 0)
            return fail(o, NOT_FOUND ": %s in %s", name[0] ? name : "(Default)", k.full);
        put_value(o, &v);
        puts_(o, "\n");
        return ST_OK;
    }
    hcs_reg_names l = {0};
    int rc = hcs_reg_view_values(view, k.hive, k.key, value_put, o);
    if (rc == 0) {
        puts_(o, "\n");
        rc = hcs_reg_view_subkeys(view, k.hive, k.key, hcs_reg_names_add, &l);
    }
    for (size_t i = 0; i < l.n && rc == 0; i++)
        printf_(o, "%s\\%s\n", k.full, l.names[i]);
    hcs_reg_names_free(&l);
    if (rc != 0)
        o->oom = true;
    return ST_OK;
}

/* --- add ----------------------------------------------------------------------------------- */

static int apply(out *o, hcs_reg_system *s, const hcs_reg_change *c, size_t n)
{
    AUTOERR hcs_error *err = NULL;
    if (n > 0 && hcs_reg_delta_apply(hcs_reg_system_delta(s), c, n, &err) < 0)
        return fail_err(o, err);
    puts_(o, DONE);
    return ST_OK;
}

static int cmd_add(out *o, hcs_reg_system *s, const char *const *argv, size_t argc)
{
    hcs_reg_cli_switches sw = {0};
    hcs_reg_cli_key k __attribute__((cleanup(hcs_reg_cli_key_free))) = {0};
    int st = command_args(o, "add", argv, argc, "v ve t s d f", &sw, &k);
    if (st != ST_OK)
        return st;
    /* Without /v, /t or /d set the default value (as reg.exe); with none, the key is made. */
    if (sw.v == NULL && !sw.ve && sw.t == NULL && sw.d == NULL) {
        if (k.key[0] == '\0')
            return apply(o, s, NULL, 0); /* a hive's root always exists */
        hcs_reg_change c = {.op = HCS_REG_CREATE_KEY, .hive = k.hive, .key = k.key};
        return apply(o, s, &c, 1);
    }
    const char *name = sw.v ? sw.v : "";
    AUTOFREE char *what = hcs_asprintf("%s in %s", name[0] ? name : "(Default)", k.full);
    if (what == NULL) {
        o->oom = true;
        return ST_FAIL;
    }
    uint32_t type = HCS_REG_SZ;
    AUTOFREE uint8_t *data = NULL;
    size_t len = 0;
    char *msg = NULL;
    int kind = hcs_reg_cli_value_parse(&sw, what, &type, &data, &len, &msg);
    if ((st = cli_status(o, kind, msg)) != ST_OK)
        return st;
    hcs_reg_change c = {.op = HCS_REG_SET_VALUE,
                        .hive = k.hive,
                        .key = k.key,
                        .name = name,
                        .type = type,
                        .data = data,
                        .len = len};
    return apply(o, s, &c, 1);
}

/* --- delete -------------------------------------------------------------------------------- */

static int collect_value_name(void *ctx, const hcs_reg_value *val)
{
    hcs_reg_names *l = ctx;
    return val->deleted ? 0 : hcs_reg_names_add(l, val->name);
}

static int cmd_delete(out *o, hcs_reg_system *s, const char *const *argv, size_t argc)
{
    hcs_reg_cli_switches sw = {0};
    hcs_reg_cli_key k __attribute__((cleanup(hcs_reg_cli_key_free))) = {0};
    int st = command_args(o, "delete", argv, argc, "v ve va f", &sw, &k);
    if (st != ST_OK)
        return st;
    const hcs_reg_view *view = hcs_reg_system_view(s);
    if (!hcs_reg_view_key_exists(view, k.hive, k.key))
        return fail(o, NOT_FOUND ": %s", k.full);
    if (sw.v == NULL && !sw.ve && !sw.va) {
        if (k.key[0] == '\0')
            return fail(o, "%s is the root of a hive: it cannot be deleted", k.full);
        hcs_reg_change c = {.op = HCS_REG_DELETE_KEY, .hive = k.hive, .key = k.key};
        return apply(o, s, &c, 1);
    }
    if (!sw.va) {
        const char *name = sw.ve ? "" : sw.v;
        hcs_reg_value v;
        int r = hcs_reg_view_get(view, k.hive, k.key, name, &v);
        if (r < 0) {
            o->oom = true;
            return ST_FAIL;
        }
        if (r == 0)
            return fail(o, NOT_FOUND ": %s in %s", name[0] ? name : "(Default)", k.full);
        hcs_reg_change c = {.op = HCS_REG_DELETE_VALUE, .hive = k.hive, .key = k.key, .name = name};
        return apply(o, s, &c, 1);
    }
    hcs_reg_names l = {0};
    hcs_reg_change *c = NULL;
    if (hcs_reg_view_values(view, k.hive, k.key, collect_value_name, &l) != 0 ||
        (l.n > 0 && (c = calloc(l.n, sizeof(*c))) == NULL)) {
        hcs_reg_names_free(&l);
        o->oom = true;
        return ST_FAIL;
    }
    for (size_t i = 0; i < l.n; i++)
        c[i] = (hcs_reg_change){
            .op = HCS_REG_DELETE_VALUE, .hive = k.hive, .key = k.key, .name = l.names[i]};
    st = apply(o, s, c, l.n);
    free(c);
    hcs_reg_names_free(&l);
    return st;
}

/* --- export and import --------------------------------------------------------------------- */

static int cmd_export(out *o, hcs_reg_system *s, const char *const *argv, size_t argc)
{
    hcs_reg_cli_switches sw = {0};
    hcs_reg_cli_key k __attribute__((cleanup(hcs_reg_cli_key_free))) = {0};
    int st = command_args(o, "export", argv, argc, "y", &sw, &k);
    if (st != ST_OK)
        return st;
    if (!hcs_reg_view_key_exists(hcs_reg_system_view(s), k.hive, k.key))
        return fail(o, NOT_FOUND ": %s", k.full);
    AUTOERR hcs_error *err = NULL;
    AUTOFREE char *text = NULL;
    size_t len = 0;
    if (hcs_reg_export(hcs_reg_system_view(s), k.hive, k.key, &text, &len, &err) < 0)
        return fail_err(o, err);
    put(o, text, len);
    return ST_OK;
}

/* UTF-16LE (after its BOM) to UTF-8; NULL when out of memory, *bad set when invalid. */
static char *utf16_to_utf8(const uint8_t *in, size_t n, size_t *len, bool *bad)
{
    *bad = n % 2 != 0;
    char *s = malloc(n / 2 * 3 + 1);
    if (s == NULL || *bad) {
        return s;
    }
    size_t w = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        uint32_t c = in[i] | (uint32_t)in[i + 1] << 8;
        if (c >= 0xdc00 && c < 0xe000) {
            *bad = true;
            break;
        }
        if (c >= 0xd800 && c < 0xdc00) {
            uint32_t c2 = i + 3 < n ? (in[i + 2] | (uint32_t)in[i + 3] << 8) : 0;
            if (c2 < 0xdc00 || c2 >= 0xe000) {
                *bad = true;
                break;
            }
            c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
            i += 2;
        }
        if (c < 0x80) {
            s[w++] = (char)c;
        } else if (c < 0x800) {
            s[w++] = (char)(0xc0 | c >> 6);
            s[w++] = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            s[w++] = (char)(0xe0 | c >> 12);
            s[w++] = (char)(0x80 | (c >> 6 & 0x3f));
            s[w++] = (char)(0x80 | (c & 0x3f));
        } else {
            /* A surrogate pair: 4 input bytes, 4 output bytes, within the 3-per-2 budget. */
            s[w++] = (char)(0xf0 | c >> 18);
            s[w++] = (char)(0x80 | (c >> 12 & 0x3f));
            s[w++] = (char)(0x80 | (c >> 6 & 0x3f));
            s[w++] = (char)(0x80 | (c & 0x3f));
        }
    }
    s[w] = '\0';
    *len = w;
    return s;
}

static int cmd_import(out *o, hcs_reg_system *s, const char *text, size_t len)
{
    AUTOFREE char *conv = NULL;
    if (len >= 2 && (uint8_t)text[0] == 0xff && (uint8_t)text[1] == 0xfe) {
        bool bad = false;
        conv = utf16_to_utf8((const uint8_t *)text + 2, len - 2, &len, &bad);
        if (conv == NULL) {
            o->oom = true;
            return ST_FAIL;
        }
        if (bad)
            return fail(o, "import: the .reg text starts with a UTF-16LE mark but is not valid "
                           "UTF-16LE");
        text = conv;
    }
    AUTOERR hcs_error *err = NULL;
    hcs_reg_change *c = NULL;
    size_t n = 0;
    if (hcs_reg_parse(text, len, "import", &c, &n, &err) < 0)
        return fail_err(o, err);
    int st = apply(o, s, c, n);
    hcs_reg_changes_free(c, n);
    return st;
}

static bool is_help(const char *a)
{
    return strcmp(a, "/?") == 0 || strcmp(a, "-?") == 0;
}

/* --- the request ----------------------------------------------------------------------------- */

int hcs_reg_serve(hcs_reg_system *s, const char *req, size_t len, char **answer, size_t *answer_len)
{
    *answer = NULL;
    *answer_len = 0;
    out o = {0};
    char status = ST_OK;
    put(&o, &status, 1);
    if (o.oom)
        return -1;

    /* The strings, NUL-terminated even when the last one is not. */
    AUTOFREE char *copy = malloc(len + 1);
    if (copy == NULL) {
        free(o.p);
        return -1;
    }
    if (len > 0)
        memcpy(copy, req, len);
    copy[len] = '\0';
    const char *argv[MAX_ARGS];
    size_t argc = 0;
    bool too_many = false;
    for (size_t i = 0; i < len;) {
        if (argc == MAX_ARGS) {
            too_many = true;
            break;
        }
        argv[argc++] = copy + i;
        i += strlen(copy + i) + 1;
    }

    int st;
    const char *verb = argc > 0 ? argv[0] : "";
    bool help = argc == 0 || is_help(verb) || (argc > 1 && is_help(argv[1]));
    if (help) {
        st = usage(&o, NULL);
    } else if (strcasecmp(verb, "import") == 0) {
        /* The text is the rest of the request: it may hold NULs (UTF-16). */
        size_t off = strlen(verb) + 1;
        size_t tlen = len > off ? len - off : 0;
        /* A NUL after the text (a client sending it as a string) is no part of it; in UTF-16
         * (a BOM, then pairs of bytes) only an odd one is. */
        bool utf16 = tlen >= 2 && (uint8_t)copy[off] == 0xff && (uint8_t)copy[off + 1] == 0xfe;
        if (tlen > 0 && copy[off + tlen - 1] == '\0' && (!utf16 || tlen % 2 == 1))
            tlen--;
        st = off >= len ? usage(&o, "import: no .reg text") : cmd_import(&o, s, copy + off, tlen);
    } else if (too_many) {
        st = usage(&o, "%s: more than %d arguments", verb, MAX_ARGS - 1);
    } else if (strcasecmp(verb, "query") == 0) {
        st = cmd_query(&o, s, argv, argc);
    } else if (strcasecmp(verb, "add") == 0) {
        st = cmd_add(&o, s, argv, argc);
    } else if (strcasecmp(verb, "delete") == 0) {
        st = cmd_delete(&o, s, argv, argc);
    } else if (strcasecmp(verb, "export") == 0) {
        st = cmd_export(&o, s, argv, argc);
    } else {
        st = usage(&o, "unknown command \"%s\"", verb);
    }
    if (!o.oom && o.len > HCS_REG_SERVE_MAX)
        st = fail(&o,
                  "the answer (%zu bytes) is over the protocol's %u MiB limit; query or "
                  "export a smaller key",
                  o.len, HCS_REG_SERVE_MAX >> 20);
    if (o.oom) {
        free(o.p);
        return -1;
    }
    o.p[0] = (char)st;
    *answer = o.p;
    *answer_len = o.len;
    return 0;
}
