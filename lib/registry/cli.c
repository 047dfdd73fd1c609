/*
 * cli.c - reg.exe command lines: the KEY, the switches and the data of an add, parsed the same
 * way for the in-container server (serve.c) and `hcsdiag reg` on the host. Errors come back as
 * messages; each caller prints them with its own prefix and status.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hive_internal.h"
#include "registry.h"

/* HCS_REG_CLI_ROOTS, then the hive names. */
#define ROOTS_WITH_HIVE_NAMES                                                                      \
    "HKLM\\SYSTEM, HKLM\\SOFTWARE, HKLM\\SECURITY, HKLM\\SAM, HKU\\.DEFAULT (or "                  \
    "HKEY_LOCAL_MACHINE\\..., HKEY_USERS\\.DEFAULT, or a hive name: System, Software, Security, "  \
    "Sam, DefaultUser)"

/* *msg = the message; returns kind (HCS_REG_CLI_NOMEM when the message cannot be made). */
static int report(char **msg, int kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int report(char **msg, int kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *msg = hcs_vasprintf(fmt, ap);
    va_end(ap);
    return *msg != NULL ? kind : HCS_REG_CLI_NOMEM;
}

/* --- keys ------------------------------------------------------------------------------------ */

/* Each hive's root on a command line, in enum hcs_reg_hive order, and as reg.exe prints it. */
static const struct {
    const char *parent, *parent_long, *child, *full;
} roots[HCS_REG_N_HIVES] = {
    {"HKLM", "HKEY_LOCAL_MACHINE", "SYSTEM", "HKEY_LOCAL_MACHINE\\SYSTEM"},
    {"HKLM", "HKEY_LOCAL_MACHINE", "SOFTWARE", "HKEY_LOCAL_MACHINE\\SOFTWARE"},
    {"HKLM", "HKEY_LOCAL_MACHINE", "SECURITY", "HKEY_LOCAL_MACHINE\\SECURITY"},
    {"HKLM", "HKEY_LOCAL_MACHINE", "SAM", "HKEY_LOCAL_MACHINE\\SAM"},
    {"HKU", "HKEY_USERS", ".DEFAULT", "HKEY_USERS\\.DEFAULT"},
};

static bool word_eq(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

void hcs_reg_cli_key_free(hcs_reg_cli_key *k)
{
    free(k->key);
    free(k->full);
    k->key = k->full = NULL;
}

int hcs_reg_cli_key_parse(const char *arg, unsigned flags, hcs_reg_cli_key *k, char **msg)
{
    *msg = NULL;
    k->key = k->full = NULL;
    /* c1 (n1 bytes) and c2 (n2): the first two components; s1, s2: the '\\' after each. */
    const char *s1 = strchr(arg, '\\');
    size_t n1 = s1 ? (size_t)(s1 - arg) : strlen(arg);
    const char *c2 = s1 ? s1 + 1 : arg + n1, *s2 = strchr(c2, '\\');
    size_t n2 = s2 ? (size_t)(s2 - c2) : strlen(c2);
    const char *rest = NULL;
    for (int h = 0; h < HCS_REG_N_HIVES && rest == NULL; h++) {
        bool parent = word_eq(arg, n1, roots[h].parent) || word_eq(arg, n1, roots[h].parent_long);
        if (parent && s1 != NULL && word_eq(c2, n2, roots[h].child))
            rest = s2 ? s2 + 1 : "";
        else if ((flags & HCS_REG_CLI_HIVE_NAMES) &&
                 word_eq(arg, n1, hcs_reg_hive_name((enum hcs_reg_hive)h)))
            rest = s1 ? s1 + 1 : "";
        if (rest != NULL)
            k->hive = (enum hcs_reg_hive)h;
    }
    if (rest == NULL)
        return report(msg, HCS_REG_CLI_INVALID, "invalid key name \"%s\": it starts with one of %s",
                      arg,
                      (flags & HCS_REG_CLI_HIVE_NAMES) ? ROOTS_WITH_HIVE_NAMES : HCS_REG_CLI_ROOTS);
    size_t n = strlen(rest);
    if (n > 0 && rest[n - 1] == '\\')
        n--; /* reg.exe accepts one trailing separator */
    k->key = strndup(rest, n);
    if (k->key == NULL)
        return HCS_REG_CLI_NOMEM;
    const char *root = roots[k->hive].full;
    k->full = n > 0 ? hcs_asprintf("%s\\%s", root, k->key) : strdup(root);
    if (k->full == NULL)
        return HCS_REG_CLI_NOMEM;
    hcs_error *err = NULL;
    if (hcs_reg_key_check(arg, k->key, &err) < 0) {
        int kind = report(msg, HCS_REG_CLI_INVALID, "%s",
                          err && err->message ? err->message : "invalid key");
        hcs_err_free(err);
        return kind;
    }
    return HCS_REG_CLI_OK;
}

/* --- switches -------------------------------------------------------------------------------- */

static bool is_switch(const char *a, const char *name)
{
    return (a[0] == '/' || a[0] == '-') && strcasecmp(a + 1, name) == 0;
}

/* Whether the space-separated list holds word. */
static bool listed(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        size_t m = strcspn(p, " ");
        if (m == n && strncmp(p, word, n) == 0)
            return true;
        p += m;
        p += *p == ' ';
    }
    return false;
}

/* The index of a in the caller's extra arguments, or -1. */
static int extra_index(const char *const *extra, const char *a)
{
    for (int i = 0; extra != NULL && extra[i] != NULL && i < 32; i++)
        if (strcmp(a, extra[i]) == 0)
            return i;
    return -1;
}

int hcs_reg_cli_switches_parse(const char *verb, const char *const *argv, size_t argc,
                               const char *allowed, const char *const *extra,
                               hcs_reg_cli_switches *sw, char **msg)
{
    static const char *const known[] = {"v", "ve", "va", "s", "t", "d", "f", "y"};
    bool takes_sep = strcmp(verb, "add") == 0;
    *msg = NULL;
    memset(sw, 0, sizeof(*sw));
    for (size_t i = 0; i < argc; i++) {
        const char *a = argv[i], *name = NULL;
        int x = extra_index(extra, a);
        if (x >= 0) {
            sw->extra |= 1u << x;
            continue;
        }
        for (size_t j = 0; j < HCS_ARRAY_SIZE(known) && name == NULL; j++)
            if (is_switch(a, known[j]))
                name = known[j];
        if (name == NULL || !listed(allowed, name))
            return report(msg, HCS_REG_CLI_USAGE, "%s: unexpected argument \"%s\"", verb, a);
        const char **slot = NULL; /* a switch with a value, */
        bool *flag = NULL;        /* or a flag */
        if (strcmp(name, "v") == 0)
            slot = &sw->v;
        else if (strcmp(name, "t") == 0)
            slot = &sw->t;
        else if (strcmp(name, "d") == 0)
            slot = &sw->d;
        else if (strcmp(name, "s") == 0 && takes_sep)
            slot = &sw->sep;
        else if (strcmp(name, "s") == 0)
            flag = &sw->s;
        else if (strcmp(name, "ve") == 0)
            flag = &sw->ve;
        else if (strcmp(name, "va") == 0)
            flag = &sw->va;
        else if (strcmp(name, "f") == 0)
            flag = &sw->f;
        else
            flag = &sw->y;
        if ((slot != NULL && *slot != NULL) || (flag != NULL && *flag))
            return report(msg, HCS_REG_CLI_USAGE, "%s: %s is given twice", verb, a);
        if (flag != NULL) {
            *flag = true;
            continue;
        }
        if (i + 1 >= argc)
            return report(msg, HCS_REG_CLI_USAGE, "%s: %s needs a value", verb, a);
        *slot = argv[++i];
    }
    if ((sw->v != NULL) + sw->ve + sw->va > 1)
        return report(msg, HCS_REG_CLI_USAGE, "%s: /v, /ve and /va exclude each other", verb);
    return HCS_REG_CLI_OK;
}

/* --- types ----------------------------------------------------------------------------------- */

int hcs_reg_cli_type_parse(const char *name, uint32_t *type)
{
    static const struct {
        const char *name;
        uint32_t type;
    } types[] = {
        {"REG_SZ", HCS_REG_SZ},
        {"REG_EXPAND_SZ", HCS_REG_EXPAND_SZ},
        {"REG_MULTI_SZ", HCS_REG_MULTI_SZ},
        {"REG_DWORD", HCS_REG_DWORD},
        {"REG_QWORD", HCS_REG_QWORD},
        {"REG_BINARY", HCS_REG_BINARY},
        {"REG_NONE", HCS_REG_NONE},
    };
    for (size_t i = 0; i < HCS_ARRAY_SIZE(types); i++) {
        if (strcasecmp(name, types[i].name) == 0) {
            *type = types[i].type;
            return 0;
        }
    }
    return -1;
}

const char *hcs_reg_cli_type_name(uint32_t type)
{
    static const char *const names[] = {"REG_NONE",
                                        "REG_SZ",
                                        "REG_EXPAND_SZ",
                                        "REG_BINARY",
                                        "REG_DWORD",
                                        "REG_DWORD_BIG_ENDIAN",
                                        "REG_LINK",
                                        "REG_MULTI_SZ",
                                        "REG_RESOURCE_LIST",
                                        "REG_FULL_RESOURCE_DESCRIPTOR",
                                        "REG_RESOURCE_REQUIREMENTS_LIST",
                                        "REG_QWORD"};
    return type < HCS_ARRAY_SIZE(names) ? names[type] : NULL;
}

/* --- the data of an add ---------------------------------------------------------------------- */

/* Decimal or 0x hexadecimal text, at most max; "" is 0 (reg.exe's /t REG_DWORD without /d). */
static int number(const char *text, uint64_t max, uint64_t *out)
{
    bool hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    const char *p = hex ? text + 2 : text;
    unsigned base = hex ? 16 : 10;
    uint64_t x = 0;
    if (hex && *p == '\0')
        return -1;
    for (; *p != '\0'; p++) {
        int d = hex ? hcs_reg_hex_digit(*p) : (*p >= '0' && *p <= '9' ? *p - '0' : -1);
        if (d < 0 || x > (max - (uint64_t)d) / base)
            return -1;
        x = x * base + (uint64_t)d;
    }
    *out = x;
    return 0;
}

/* The bytes of text as type t into data (room for strlen(text) + 1 bytes, 8 at least), their
 * count in *len; or HCS_REG_CLI_INVALID with the message. */
static int encode(uint32_t t, const char *text, const char *sep, const char *what, uint8_t *data,
                  size_t *len, char **msg)
{
    size_t n = strlen(text);
    const char *tn = hcs_reg_cli_type_name(t);
    if (t == HCS_REG_DWORD || t == HCS_REG_QWORD) {
        size_t sz = t == HCS_REG_DWORD ? 4 : 8;
        uint64_t x = 0;
        if (number(text, t == HCS_REG_DWORD ? UINT32_MAX : UINT64_MAX, &x) < 0)
            return report(msg, HCS_REG_CLI_INVALID,
                          "invalid %s data \"%s\" for %s: a %s number, decimal or 0x "
                          "hexadecimal, is expected",
                          tn, text, what, sz == 4 ? "32-bit" : "64-bit");
        for (size_t i = 0; i < sz; i++)
            data[i] = (uint8_t)(x >> (8 * i));
        *len = sz;
        return HCS_REG_CLI_OK;
    }
    if (t == HCS_REG_BINARY || t == HCS_REG_NONE) {
        if (n % 2 != 0)
            return report(msg, HCS_REG_CLI_INVALID,
                          "invalid %s data for %s: %zu hex digits, an even number is expected", tn,
                          what, n);
        for (size_t i = 0; i < n; i += 2) {
            int hi = hcs_reg_hex_digit(text[i]), lo = hcs_reg_hex_digit(text[i + 1]);
            if (hi < 0 || lo < 0)
                return report(msg, HCS_REG_CLI_INVALID,
                              "invalid %s data for %s: \"%.2s\" at offset %zu is not hexadecimal",
                              tn, what, text + i, i);
            data[i / 2] = (uint8_t)(hi << 4 | lo);
        }
        *len = n / 2;
        return HCS_REG_CLI_OK;
    }
    if (t != HCS_REG_MULTI_SZ) {
        memcpy(data, text, n);
        *len = n;
        return HCS_REG_CLI_OK;
    }
    /* Each string stored with its NUL; a separator at the very end ends the list rather than
     * adding "" (reg.exe: "a\0b\0" is the two strings a and b). */
    const char *sp = sep ? sep : "\\0";
    size_t sl = strlen(sp), w = 0;
    for (size_t i = 0; i < n;) {
        if (strncmp(text + i, sp, sl) == 0) {
            data[w++] = '\0';
            i += sl;
        } else {
            data[w++] = (uint8_t)text[i++];
        }
    }
    if (n > 0 && (w == 0 || data[w - 1] != '\0'))
        data[w++] = '\0';
    *len = w;
    return HCS_REG_CLI_OK;
}

int hcs_reg_cli_value_parse(const hcs_reg_cli_switches *sw, const char *what, uint32_t *type,
                            uint8_t **data, size_t *len, char **msg)
{
    *msg = NULL;
    *data = NULL;
    *len = 0;
    *type = HCS_REG_SZ;
    if (sw->t != NULL && hcs_reg_cli_type_parse(sw->t, type) < 0)
        return report(msg, HCS_REG_CLI_USAGE,
                      "add: unknown type \"%s\" for /t: one of " HCS_REG_CLI_TYPES " is expected",
                      sw->t);
    if (sw->sep != NULL && *type != HCS_REG_MULTI_SZ)
        return report(msg, HCS_REG_CLI_USAGE, "add: /s SEPARATOR is for REG_MULTI_SZ only");
    if (sw->sep != NULL && strlen(sw->sep) != 1)
        return report(msg, HCS_REG_CLI_USAGE,
                      "add: invalid separator \"%s\" for /s: one character is expected", sw->sep);
    const char *text = sw->d != NULL ? sw->d : "";
    /* The longest encoding: a string, its NUL, the NUL after the data; 8 bytes of a QWORD. */
    size_t n = strlen(text);
    uint8_t *d = malloc((n > 8 ? n : 8) + 2);
    if (d == NULL)
        return HCS_REG_CLI_NOMEM;
    int kind = encode(*type, text, sw->sep, what, d, len, msg);
    if (kind != HCS_REG_CLI_OK) {
        free(d);
        *len = 0;
        return kind;
    }
    d[*len] = '\0';
    *data = d;
    return HCS_REG_CLI_OK;
}
