/*
 * reg.c - .reg files ("Windows Registry Editor Version 5.00" text, as regedit writes them):
 * parsed into changes, and exported from a view.
 *
 * Encodings: the text is UTF-8 (a UTF-8 BOM is skipped). hex(2) (EXPAND_SZ) and hex(7)
 * (MULTI_SZ) data are UTF-16LE, as regedit writes them, and are converted to our UTF-8 encoding
 * (EXPAND_SZ: its terminating NUL dropped; MULTI_SZ: each string + NUL, the list's final extra
 * NUL dropped); invalid UTF-16 is an error. hex(1) holds the string's bytes as they are: our
 * export writes an SZ that cannot be a quoted string (a line break, a NUL, invalid UTF-8) that
 * way, so that it reads back identical (and the value check decides whether it is acceptable).
 * Every other hex(N) holds raw bytes of type N.
 *
 * Errors: E_INVALIDARG "<what>:<line>: <what was expected>, got ...". A value line after
 * [-KEY] (regedit would drop it) is an error rather than silently lost, and deleting a hive's
 * root ([-HKEY_LOCAL_MACHINE\SYSTEM]) is refused.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hive_internal.h"
#include "registry.h"

#define HEADER5 "Windows Registry Editor Version 5.00"
#define HEADER4 "REGEDIT4"
#define ROOTS_ACCEPTED                                                                             \
    "HKEY_LOCAL_MACHINE\\SYSTEM, HKEY_LOCAL_MACHINE\\SOFTWARE, HKEY_LOCAL_MACHINE\\SECURITY, "     \
    "HKEY_LOCAL_MACHINE\\SAM, HKEY_USERS\\.DEFAULT (or HKLM\\... and HKU\\.DEFAULT)"
#define WRAP_COLUMN 77 /* a hex line is cut after the byte that reaches it (regedit: 80 wide) */

/* .reg spelling of each hive's root, in enum hcs_reg_hive order. */
static const char *const roots[HCS_REG_N_HIVES] = {
    "HKEY_LOCAL_MACHINE\\SYSTEM", "HKEY_LOCAL_MACHINE\\SOFTWARE", "HKEY_LOCAL_MACHINE\\SECURITY",
    "HKEY_LOCAL_MACHINE\\SAM",    "HKEY_USERS\\.DEFAULT",
};
static const char *const hklm_subkeys[] = {"SYSTEM", "SOFTWARE", "SECURITY", "SAM"};

/* --- a growable byte buffer ------------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t len, cap;
} buf;

static int buf_add(buf *b, const void *d, size_t n, hcs_error **err)
{
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2)
                return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (p == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        b->p = p;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

static int buf_str(buf *b, const char *s, hcs_error **err)
{
    return buf_add(b, s, strlen(s), err);
}

static int buf_byte(buf *b, unsigned char c, hcs_error **err)
{
    return buf_add(b, &c, 1, err);
}

/* --- UTF-8 and UTF-16LE ---------------------------------------------------------------------- */

/* Decode one UTF-8 sequence at s[0..n): its length, or 0 when invalid (overlong, surrogate...). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2, c = s[0] & 0x1f, min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, c = s[0] & 0x0f, min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

static int utf8_put(buf *b, uint32_t c, hcs_error **err)
{
    unsigned char o[4];
    size_t n;
    if (c < 0x80) {
        o[0] = (unsigned char)c, n = 1;
    } else if (c < 0x800) {
        o[0] = (unsigned char)(0xc0 | (c >> 6)), o[1] = (unsigned char)(0x80 | (c & 0x3f)), n = 2;
    } else if (c < 0x10000) {
        o[0] = (unsigned char)(0xe0 | (c >> 12));
        o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        o[0] = (unsigned char)(0xf0 | (c >> 18));
        o[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
        o[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        o[3] = (unsigned char)(0x80 | (c & 0x3f));
        n = 4;
    }
    return buf_add(b, o, n, err);
}

static int utf16_put(buf *b, uint32_t c, hcs_error **err)
{
    if (c >= 0x10000) {
        c -= 0x10000;
        uint32_t hi = 0xd800 | (c >> 10), lo = 0xdc00 | (c & 0x3ff);
        unsigned char o[4] = {(unsigned char)hi, (unsigned char)(hi >> 8), (unsigned char)lo,
                              (unsigned char)(lo >> 8)};
        return buf_add(b, o, 4, err);
    }
    unsigned char o[2] = {(unsigned char)c, (unsigned char)(c >> 8)};
    return buf_add(b, o, 2, err);
}

/* UTF-16LE in[0..n) to UTF-8 appended to out. -1 with *bad set to the byte offset at fault (n
 * for an odd length) and no error set, or -1 with *err for out of memory. */
static int utf16le_decode(const unsigned char *in, size_t n, buf *out, size_t *bad, hcs_error **err)
{
    if (n % 2 != 0) {
        *bad = n;
        return -1;
    }
    for (size_t i = 0; i < n; i += 2) {
        uint32_t c = (uint32_t)in[i] | (uint32_t)in[i + 1] << 8;
        if (c >= 0xdc00 && c <= 0xdfff) {
            *bad = i;
            return -1;
        }
        if (c >= 0xd800 && c <= 0xdbff) {
            uint32_t lo = i + 3 < n ? ((uint32_t)in[i + 2] | (uint32_t)in[i + 3] << 8) : 0;
            if (lo < 0xdc00 || lo > 0xdfff) {
                *bad = i;
                return -1;
            }
            c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
            i += 2;
        }
        if (utf8_put(out, c, err) < 0)
            return -1;
    }
    return 0;
}

/* --- parsing --------------------------------------------------------------------------------- */

enum section { SECTION_NONE, SECTION_KEY, SECTION_DELETED };

typedef struct {
    const char *what;
    hcs_error **err;
    const char *p, *end; /* the text not yet read */
    unsigned line;       /* the current line's number (1-based) */
    const char *ls, *le; /* the current line, without its line end */
    hcs_reg_change *v;
    size_t n, cap;
    enum section section;
    enum hcs_reg_hive hive;
    char *key;  /* the current section's key */
    char *path; /* and with its root, for messages */
} parser;

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static const char *skip_space(const char *s, const char *e)
{
    while (s < e && is_space(*s))
        s++;
    return s;
}

static const char *trim_end(const char *s, const char *e)
{
    while (e > s && is_space(e[-1]))
        e--;
    return e;
}

/* s[0..e) for a message: at most 40 bytes, control and non-ASCII bytes as '?'. */
static void snippet(const char *s, const char *e, char out[48])
{
    size_t n = (size_t)(e - s), i;
    for (i = 0; i < n && i < 40; i++) {
        out[i] = '?';
        if (s[i] >= 0x20 && s[i] < 0x7f)
            out[i] = s[i];
    }
    if (i < n) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
}

static int perr_at(const parser *ps, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int perr_at(const parser *ps, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    AUTOFREE char *msg = hcs_vasprintf(fmt, ap);
    va_end(ap);
    if (msg == NULL)
        return hcs_err_set(ps->err, E_OUTOFMEMORY, "out of memory");
    return hcs_err_set(ps->err, E_INVALIDARG, "%s:%u: %s", ps->what, line, msg);
}
#define perr(ps, ...) perr_at((ps), (ps)->line, __VA_ARGS__)

/* Move to the next line: 1, or 0 at the end of the text, or -1 for a NUL byte in the line. */
static int next_line(parser *ps)
{
    if (ps->p >= ps->end)
        return 0;
    ps->line++;
    ps->ls = ps->p;
    const char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
    ps->le = nl ? nl : ps->end;
    ps->p = nl ? nl + 1 : ps->end;
    if (memchr(ps->ls, '\0', (size_t)(ps->le - ps->ls)) != NULL)
        return perr(ps, "a NUL byte in the text");
    return 1;
}

/* The strings and data of a change are ours (allocated here), typed const for the readers. */
static void free_const(const void *p)
{
    union {
        const void *c;
        void *m;
    } u = {.c = p};
    free(u.m);
}

static void change_free(const hcs_reg_change *c)
{
    free_const(c->key);
    free_const(c->name);
    free_const(c->data);
}

void hcs_reg_changes_free(hcs_reg_change *changes, size_t n)
{
    if (changes == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        change_free(&changes[i]);
    free(changes);
}

/* Append a change taking ownership of name and data (freed here on failure); the key is copied
 * from the current section's. */
static int push(parser *ps, enum hcs_reg_op op, char *name, uint32_t type, uint8_t *data,
                size_t len)
{
    hcs_reg_change c = {
        .op = op, .hive = ps->hive, .name = name, .type = type, .data = data, .len = len};
    c.key = strdup(ps->key);
    if (c.key == NULL || (ps->n == ps->cap && ps->cap > SIZE_MAX / 2 / sizeof(c))) {
        change_free(&c);
        return hcs_err_set(ps->err, E_OUTOFMEMORY, "out of memory");
    }
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 16;
        hcs_reg_change *v = realloc(ps->v, cap * sizeof(*v));
        if (v == NULL) {
            change_free(&c);
            return hcs_err_set(ps->err, E_OUTOFMEMORY, "out of memory");
        }
        ps->v = v;
        ps->cap = cap;
    }
    ps->v[ps->n++] = c;
    return 0;
}

static bool word_eq(const char *s, const char *e, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(e - s) == n && strncasecmp(s, w, n) == 0;
}

/* "[ROOT\key]" or "[-ROOT\key]": s..e is the trimmed line, starting with '['. */
static int parse_key_line(parser *ps, const char *s, const char *e)
{
    char got[48];
    if (e - s < 2 || e[-1] != ']') {
        snippet(s, e, got);
        return perr(ps, "a key line is \"[ROOT\\Key]\" ending in ']', got \"%s\"", got);
    }
    const char *ks = s + 1, *ke = e - 1;
    bool del = ks < ke && *ks == '-';
    if (del)
        ks++;
    /* The root: two components, "HKEY_LOCAL_MACHINE\SYSTEM" or "HKEY_USERS\.DEFAULT". */
    const char *c1e = memchr(ks, '\\', (size_t)(ke - ks));
    c1e = c1e ? c1e : ke;
    const char *c2s = c1e < ke ? c1e + 1 : ke;
    const char *c2e = memchr(c2s, '\\', (size_t)(ke - c2s));
    c2e = c2e ? c2e : ke;
    int hive = -1;
    if (word_eq(ks, c1e, "HKEY_LOCAL_MACHINE") || word_eq(ks, c1e, "HKLM")) {
        for (size_t i = 0; i < HCS_ARRAY_SIZE(hklm_subkeys); i++)
            if (word_eq(c2s, c2e, hklm_subkeys[i]))
                hive = (int)i;
    } else if (word_eq(ks, c1e, "HKEY_USERS") || word_eq(ks, c1e, "HKU")) {
        if (word_eq(c2s, c2e, ".DEFAULT"))
            hive = HCS_REG_HIVE_DEFAULTUSER;
    }
    if (hive < 0) {
        char line[48];
        snippet(ks, c2e, got);
        snippet(s, e, line);
        return perr(ps, "unknown root \"%s\" in %s; accepted: " ROOTS_ACCEPTED, got, line);
    }
    if (c2e < ke && c2e + 1 == ke)
        return perr(ps, "a key ends with '\\' in %.*s", (int)(e - s), s);
    char *key = c2e < ke ? strndup(c2e + 1, (size_t)(ke - c2e - 1)) : strdup("");
    if (key == NULL)
        return hcs_err_set(ps->err, E_OUTOFMEMORY, "out of memory");
    free(ps->key);
    ps->key = key;
    ps->hive = (enum hcs_reg_hive)hive;
    free(ps->path);
    ps->path = key[0] ? hcs_asprintf("%s\\%s", roots[hive], key) : strdup(roots[hive]);
    if (ps->path == NULL)
        return hcs_err_set(ps->err, E_OUTOFMEMORY, "out of memory");
    if (hcs_reg_key_check(roots[hive], key, ps->err) < 0)
        return hcs_err_wrap(ps->err, "%s:%u", ps->what, ps->line);
    if (del && key[0] == '\0')
        return perr(ps, "a hive's root cannot be deleted: [-%s]", roots[hive]);
    ps->section = del ? SECTION_DELETED : SECTION_KEY;
    return push(ps, del ? HCS_REG_DELETE_KEY : HCS_REG_CREATE_KEY, NULL, 0, NULL, 0);
}

/* A quoted string at *s (on '"') with the escapes \\ and \": into *out (NUL-terminated, its
 * length in *len); *s moves past the closing quote. */
static int parse_string(parser *ps, const char **s, const char *e, const char *what, buf *out)
{
    const char *p = *s + 1;
    for (;;) {
        if (p >= e)
            return perr(ps, "%s has no closing '\"'", what);
        char c = *p++;
        if (c == '"')
            break;
        if (c == '\\') {
            if (p >= e)
                return perr(ps, "%s has no closing '\"'", what);
            c = *p++;
            if (c != '\\' && c != '"') {
                char got[48];
                snippet(p - 2, p, got);
                return perr(ps, "bad escape \"%s\" in %s: only \\\\ and \\\" are allowed", got,
                            what);
            }
        }
        if (buf_add(out, &c, 1, ps->err) < 0)
            return -1;
    }
    *s = p;
    if (buf_byte(out, 0, ps->err) < 0)
        return -1;
    out->len--; /* NUL-terminated, the NUL not counted */
    return 0;
}

/*
 * A hex byte list "00,ff,..." from s to the end of the line, following continuation lines (a
 * line ending in '\'). form names the data form for messages ("hex:"); max limits the bytes.
 */
static int parse_hex_list(parser *ps, const char *s, const char *form, size_t max, buf *out)
{
    const char *e = trim_end(s, ps->le);
    bool need = false; /* a ',' was read: a byte must follow */
    char got[48];
    for (;;) {
        s = skip_space(s, e);
        if (s == e) {
            if (need)
                return perr(ps, "%s ends with ',': expected a byte after it", form);
            return 0;
        }
        if (*s == '\\' && s + 1 == e) {
            int r = next_line(ps);
            if (r < 0)
                return -1;
            if (r == 0)
                return perr(ps, "%s continues ('\\') past the end of the file", form);
            s = ps->ls;
            e = trim_end(s, ps->le);
            continue;
        }
        if (out->len > 0 && !need) {
            snippet(s, e, got);
            return perr(ps, "%s expects ',' between bytes, got \"%s\"", form, got);
        }
        const char *t = s;
        while (t < e && *t != ',' && !is_space(*t))
            t++;
        if (t - s != 2 || hcs_reg_hex_digit(s[0]) < 0 || hcs_reg_hex_digit(s[1]) < 0) {
            snippet(s, t, got);
            return perr(ps, "%s takes bytes of two hex digits separated by ',', got \"%s\"", form,
                        got);
        }
        if (out->len >= max)
            return perr(ps, "%s holds more than %zu bytes", form, max);
        if (buf_byte(out, (unsigned char)(hcs_reg_hex_digit(s[0]) << 4 | hcs_reg_hex_digit(s[1])),
                     ps->err) < 0)
            return -1;
        s = skip_space(t, e);
        need = s < e && *s == ',';
        if (need)
            s++;
    }
}

/* Our MULTI_SZ encoding from the UTF-8 of regedit's list (each string + NUL, one more NUL). */
static void multi_sz_normalize(buf *b)
{
    if (b->len == 1 && b->p[0] == '\0')
        b->len = 0; /* the empty list */
    else if (b->len >= 2 && b->p[b->len - 1] == '\0' && b->p[b->len - 2] == '\0')
        b->len--;
}

/* The data after '=' at s: sets *op, *type and out. */
static int parse_data(parser *ps, const char *s, const char *name, enum hcs_reg_op *op,
                      uint32_t *type, buf *out)
{
    const char *e = trim_end(s, ps->le);
    char got[48];
    *op = HCS_REG_SET_VALUE;
    if (s == e)
        return perr(ps, "expected the data of value \"%s\" after '='", name);
    if (*s == '-' && s + 1 == e) {
        *op = HCS_REG_DELETE_VALUE;
        return 0;
    }
    if (*s == '"') {
        *type = HCS_REG_SZ;
        if (parse_string(ps, &s, e, "the string", out) < 0)
            return -1;
        s = skip_space(s, e);
        if (s != e) {
            snippet(s, e, got);
            return perr(ps, "expected the end of the line after the string, got \"%s\"", got);
        }
        return 0;
    }
    if (e - s >= 6 && strncasecmp(s, "dword:", 6) == 0) {
        const char *d = skip_space(s + 6, e);
        uint32_t v = 0;
        const char *t = d;
        while (t < e && hcs_reg_hex_digit(*t) >= 0 && t - d < 9)
            v = v << 4 | (uint32_t)hcs_reg_hex_digit(*t++);
        if (t == d || t - d > 8 || t != e) {
            snippet(d, e, got);
            return perr(ps, "\"dword:\" takes 1 to 8 hex digits, got \"%s\"", got);
        }
        *type = HCS_REG_DWORD;
        unsigned char le[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                               (unsigned char)(v >> 24)};
        return buf_add(out, le, 4, ps->err);
    }
    if (e - s >= 3 && strncasecmp(s, "hex", 3) == 0) {
        const char *t = s + 3;
        uint32_t ty = HCS_REG_BINARY;
        if (t < e && *t == '(') {
            const char *d = ++t;
            ty = 0;
            while (t < e && hcs_reg_hex_digit(*t) >= 0 && t - d < 9)
                ty = ty << 4 | (uint32_t)hcs_reg_hex_digit(*t++);
            if (t == d || t - d > 8 || t >= e || *t != ')') {
                snippet(s, e, got);
                return perr(ps, "\"hex(N):\" takes a type of 1 to 8 hex digits, got \"%s\"", got);
            }
            t++;
        }
        if (t >= e || *t != ':') {
            snippet(s, e, got);
            return perr(ps, "expected ':' after \"hex\" or \"hex(N)\", got \"%s\"", got);
        }
        char form[24];
        if (s[3] == '(')
            snprintf(form, sizeof(form), "hex(%x):", ty);
        else
            snprintf(form, sizeof(form), "hex:");
        *type = ty;
        bool utf16 = ty == HCS_REG_EXPAND_SZ || ty == HCS_REG_MULTI_SZ;
        /* UTF-16 takes at most twice the bytes of the UTF-8 it becomes, plus terminators. */
        size_t max = utf16 ? 2 * (size_t)HCS_REG_MAX_DATA + 4 : HCS_REG_MAX_DATA;
        if (!utf16)
            return parse_hex_list(ps, t + 1, form, max, out);
        buf raw = {0};
        if (parse_hex_list(ps, t + 1, form, max, &raw) < 0) {
            free(raw.p);
            return -1;
        }
        size_t bad = 0;
        hcs_error *oom = NULL;
        int r = utf16le_decode((const unsigned char *)raw.p, raw.len, out, &bad, &oom);
        free(raw.p);
        if (r < 0 && oom != NULL) {
            hcs_err_move(ps->err, &oom);
            return -1;
        }
        if (r < 0 && bad == raw.len)
            return perr(ps, "%s data is UTF-16LE (as regedit writes it): %zu bytes is odd", form,
                        raw.len);
        if (r < 0)
            return perr(ps, "%s data is not valid UTF-16LE: an unpaired surrogate at byte %zu",
                        form, bad);
        if (ty == HCS_REG_EXPAND_SZ && out->len > 0 && out->p[out->len - 1] == '\0')
            out->len--;
        if (ty == HCS_REG_MULTI_SZ)
            multi_sz_normalize(out);
        return 0;
    }
    snippet(s, e, got);
    return perr(ps, "expected \"string\", dword:, hex:, hex(N): or - after '=', got \"%s\"", got);
}

/* "name"=data or @=data: s..e is the line without leading blanks. */
static int parse_value_line(parser *ps, const char *s, const char *e)
{
    if (ps->section == SECTION_NONE)
        return perr(ps, "a value line before any [KEY] line");
    if (ps->section == SECTION_DELETED)
        return perr(ps, "a value line under a deleted key [-...]: values need a [KEY] line");
    unsigned start = ps->line;
    buf name = {0}, data = {0};
    int rc = -1;
    if (*s == '@') {
        rc = buf_add(&name, "", 1, ps->err);
        s++;
    } else {
        rc = parse_string(ps, &s, e, "the value name", &name);
        /* No .reg line can write it back (lines end at LF; a CR is kept only inside data). */
        if (rc == 0 && memchr(name.p, '\r', name.len) != NULL)
            rc = perr(ps, "a value name cannot hold a carriage return (CR)");
    }
    if (rc < 0)
        goto out;
    rc = -1;
    s = skip_space(s, e);
    if (s >= e || *s != '=') {
        char got[48];
        snippet(s, e, got);
        perr(ps, "expected '=' after the value name, got \"%s\"", got);
        goto out;
    }
    enum hcs_reg_op op;
    uint32_t type = 0;
    if (parse_data(ps, skip_space(s + 1, e), name.p, &op, &type, &data) < 0)
        goto out;
    if (op == HCS_REG_SET_VALUE &&
        hcs_reg_value_check(ps->path, name.p, type, (const uint8_t *)data.p, data.len, ps->err) <
            0) {
        hcs_err_wrap(ps->err, "%s:%u", ps->what, start);
        goto out;
    }
    if (op == HCS_REG_DELETE_VALUE &&
        hcs_reg_value_check(ps->path, name.p, HCS_REG_NONE, NULL, 0, ps->err) < 0) {
        hcs_err_wrap(ps->err, "%s:%u", ps->what, start);
        goto out;
    }
    /* A zero-length value still gets an allocation: "" data differs from no data. */
    if (op == HCS_REG_SET_VALUE && data.p == NULL && (data.p = malloc(1)) == NULL) {
        hcs_err_set(ps->err, E_OUTOFMEMORY, "out of memory");
        goto out;
    }
    rc = push(ps, op, steal_ptr(&name.p), type,
              op == HCS_REG_SET_VALUE ? (uint8_t *)steal_ptr(&data.p) : NULL,
              op == HCS_REG_SET_VALUE ? data.len : 0);
out:
    free(name.p);
    free(data.p);
    return rc;
}

static int parse_header(parser *ps)
{
    /* A UTF-8 BOM. */
    if (ps->end - ps->p >= 3 && memcmp(ps->p, "\xef\xbb\xbf", 3) == 0)
        ps->p += 3;
    for (;;) {
        int r = next_line(ps);
        if (r < 0)
            return -1;
        if (r == 0)
            return perr_at(ps, ps->line > 0 ? ps->line : 1,
                           "expected \"" HEADER5 "\" or \"" HEADER4
                           "\" on the first line, got an empty file");
        const char *s = skip_space(ps->ls, ps->le), *e = trim_end(s, ps->le);
        if (s == e)
            continue;
        if (word_eq(s, e, HEADER5) || word_eq(s, e, HEADER4))
            return 0;
        char got[48];
        snippet(s, e, got);
        return perr(ps, "expected \"" HEADER5 "\" or \"" HEADER4 "\" on the first line, got \"%s\"",
                    got);
    }
}

int hcs_reg_parse(const char *text, size_t len, const char *what, hcs_reg_change **changes,
                  size_t *n, hcs_error **err)
{
    *changes = NULL;
    *n = 0;
    parser ps = {.what = what ? what : "(.reg)", .err = err, .p = text, .end = text + len};
    int rc = parse_header(&ps);
    while (rc == 0) {
        int r = next_line(&ps);
        if (r <= 0) {
            rc = r;
            break;
        }
        const char *s = skip_space(ps.ls, ps.le), *e = trim_end(s, ps.le);
        if (s == e || *s == ';')
            continue;
        if (*s == '[') {
            rc = parse_key_line(&ps, s, e);
        } else if (*s == '"' || *s == '@') {
            rc = parse_value_line(&ps, s, e);
        } else {
            char got[48];
            snippet(s, e, got);
            rc = perr(&ps,
                      "expected a [KEY] line, a value line (\"name\"=... or @=...) or a "
                      "comment (;), got \"%s\"",
                      got);
        }
    }
    free(ps.key);
    free(ps.path);
    if (rc < 0) {
        hcs_reg_changes_free(ps.v, ps.n);
        return -1;
    }
    *changes = ps.v;
    *n = ps.n;
    return 0;
}

/* --- export ---------------------------------------------------------------------------------- */

typedef struct {
    const hcs_reg_view *v;
    enum hcs_reg_hive h;
    const char *key; /* the key being written, for messages */
    buf b;
    size_t line_start; /* offset of the current output line, for wrapping */
    hcs_error **err;
} exporter;

static int out_str(exporter *x, const char *s)
{
    return buf_str(&x->b, s, x->err);
}

static int out_eol(exporter *x)
{
    if (out_str(x, "\r\n") < 0)
        return -1;
    x->line_start = x->b.len;
    return 0;
}

/* A quoted name or string with \\ and \" escaped. */
static int out_quoted(exporter *x, const char *s, size_t n)
{
    if (buf_byte(&x->b, '"', x->err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if ((s[i] == '\\' || s[i] == '"') && buf_byte(&x->b, '\\', x->err) < 0)
            return -1;
        if (buf_byte(&x->b, (unsigned char)s[i], x->err) < 0)
            return -1;
    }
    return buf_byte(&x->b, '"', x->err);
}

/* form ("hex:", "hex(2):") then the bytes, cut into lines of about 80 columns as regedit does. */
static int out_hex(exporter *x, const char *form, const unsigned char *d, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (out_str(x, form) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char t[3] = {digits[d[i] >> 4], digits[d[i] & 15], ','};
        if (buf_add(&x->b, t, i + 1 < n ? 3 : 2, x->err) < 0)
            return -1;
        if (i + 1 < n && x->b.len - x->line_start >= WRAP_COLUMN) {
            if (out_str(x, "\\") < 0 || out_eol(x) < 0 || out_str(x, "  ") < 0)
                return -1;
        }
    }
    return 0;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
    uint32_t c;
    for (size_t i = 0, k; i < n; i += k)
        if ((k = utf8_next(s + i, n - i, &c)) == 0)
            return false;
    return true;
}

/* A string that can be written between quotes: UTF-8 without NUL or line breaks. */
static bool quotable(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0' || s[i] == '\n' || s[i] == '\r')
            return false;
    return utf8_valid(s, n);
}

/* UTF-8 s[0..n) as UTF-16LE, plus a terminating NUL (and for MULTI_SZ the list's extra one). */
static int to_utf16(exporter *x, const hcs_reg_value *val, buf *out)
{
    const unsigned char *s = val->data;
    uint32_t c;
    for (size_t i = 0, k; i < val->len; i += k) {
        if ((k = utf8_next(s + i, val->len - i, &c)) == 0)
            return hcs_err_set(x->err, E_INVALIDARG,
                               "value \"%s\" of key \"%s\" is not UTF-8 (byte %zu)", val->name,
                               x->key, i);
        if (utf16_put(out, c, x->err) < 0)
            return -1;
    }
    /* EXPAND_SZ: its NUL. MULTI_SZ: the last string's NUL when missing, then the list's extra
     * NUL (the empty list is a single NUL, as regedit writes it). */
    if (val->type == HCS_REG_MULTI_SZ && val->len > 0 && s[val->len - 1] != '\0' &&
        utf16_put(out, 0, x->err) < 0)
        return -1;
    return utf16_put(out, 0, x->err);
}

static int export_value(void *ctx, const hcs_reg_value *val)
{
    exporter *x = ctx;
    if (val->deleted)
        return 0;
    size_t nlen = strlen(val->name);
    if (memchr(val->name, '\n', nlen) != NULL || memchr(val->name, '\r', nlen) != NULL)
        return hcs_err_set(x->err, E_INVALIDARG,
                           "value name \"%s\" of key \"%s\" holds a line break: a .reg file "
                           "cannot write it",
                           val->name, x->key);
    if (nlen == 0 ? out_str(x, "@") < 0 : out_quoted(x, val->name, nlen) < 0)
        return -1;
    if (out_str(x, "=") < 0)
        return -1;
    const unsigned char *d = val->data;
    int rc;
    char form[24];
    switch (val->type) {
    case HCS_REG_SZ:
        rc = quotable(d, val->len) ? out_quoted(x, (const char *)d, val->len)
                                   : out_hex(x, "hex(1):", d, val->len);
        break;
    case HCS_REG_DWORD:
        if (val->len == 4) {
            snprintf(form, sizeof(form), "dword:%08x",
                     (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
                         (uint32_t)d[3] << 24);
            rc = out_str(x, form);
        } else {
            rc = out_hex(x, "hex(4):", d, val->len);
        }
        break;
    case HCS_REG_BINARY:
        rc = out_hex(x, "hex:", d, val->len);
        break;
    case HCS_REG_EXPAND_SZ:
    case HCS_REG_MULTI_SZ: {
        buf u = {0};
        snprintf(form, sizeof(form), "hex(%x):", val->type);
        rc = to_utf16(x, val, &u);
        if (rc == 0)
            rc = out_hex(x, form, (const unsigned char *)u.p, u.len);
        free(u.p);
        break;
    }
    default:
        snprintf(form, sizeof(form), "hex(%x):", val->type);
        rc = out_hex(x, form, d, val->len);
        break;
    }
    return rc < 0 ? -1 : out_eol(x);
}

static int export_key(exporter *x, const char *key)
{
    x->key = key;
    if (out_str(x, "[") < 0 || out_str(x, roots[x->h]) < 0 ||
        (key[0] != '\0' && (out_str(x, "\\") < 0 || out_str(x, key) < 0)) || out_str(x, "]") < 0 ||
        out_eol(x) < 0)
        return -1;
    if (hcs_reg_view_values(x->v, x->h, key, export_value, x) != 0)
        return hcs_err_set(x->err, E_OUTOFMEMORY, "exporting the values of \"%s\"", key);
    if (out_eol(x) < 0)
        return -1;
    /* Collected first: the walk below re-enters the view. */
    hcs_reg_names l = {0};
    int rc = hcs_reg_view_subkeys(x->v, x->h, key, hcs_reg_names_add, &l);
    if (rc != 0)
        hcs_err_set(x->err, E_OUTOFMEMORY, "out of memory listing the subkeys of \"%s\"", key);
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        AUTOFREE char *child =
            key[0] != '\0' ? hcs_asprintf("%s\\%s", key, l.names[i]) : strdup(l.names[i]);
        rc = child ? export_key(x, child) : hcs_err_set(x->err, E_OUTOFMEMORY, "out of memory");
    }
    hcs_reg_names_free(&l);
    return rc;
}

int hcs_reg_export(const hcs_reg_view *v, enum hcs_reg_hive h, const char *key, char **out,
                   size_t *len, hcs_error **err)
{
    *out = NULL;
    *len = 0;
    if ((unsigned)h >= HCS_REG_N_HIVES)
        return hcs_err_set(err, E_INVALIDARG, "unknown hive %d", (int)h);
    if (hcs_reg_key_check("key", key, err) < 0)
        return -1;
    if (!hcs_reg_view_key_exists(v, h, key))
        return hcs_err_set(err, HCS_E_FILE_NOT_FOUND, "key \"%s\\%s\" does not exist", roots[h],
                           key);
    exporter x = {.v = v, .h = h, .err = err};
    if (out_str(&x, HEADER5) < 0 || out_eol(&x) < 0 || out_eol(&x) < 0 || export_key(&x, key) < 0 ||
        buf_add(&x.b, "", 1, err) < 0) {
        free(x.b.p);
        return -1;
    }
    *out = x.b.p;
    *len = x.b.len - 1;
    return 0;
}
