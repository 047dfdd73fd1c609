/*
 * reg.c - `hcsdiag reg ID query|add|delete KEY ...`: a compute system's registry from the host,
 * with hcsreg's (reg.exe's) arguments, through the public API:
 *   - query: HcsGetComputeSystemProperties with PropertyTypes ["Registry"] and the libhcs
 *     extension RegistryQuery {Hive, Name}; the answer is Properties.Registry {Hive, Key,
 *     Subkeys, Values: [RegistryValue...]}; /s asks once per key of the tree;
 *   - add and delete: HcsModifyComputeSystem with ResourcePath "Container/RegistryChanges",
 *     RequestType "Update" and a RegistryChanges document (AddValues, DeleteKeys; the libhcs
 *     extension DeleteValues for /v, /ve and /va).
 * A KEY is HKLM\SYSTEM, HKLM\SOFTWARE, HKLM\SECURITY, HKLM\SAM or HKU\.DEFAULT (also spelled
 * HKEY_LOCAL_MACHINE\..., HKEY_USERS\...) or a schema hive name (System, Software, Security,
 * Sam, DefaultUser), then the subkeys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcsdiag.h"

#define DONE "The operation completed successfully.\n"

/* The hives in the schema's order, with reg.exe's spelling of their roots. */
static const struct {
    const char *hive, *parent, *child, *root;
} hives[] = {
    {"System", "HKLM", "SYSTEM", "HKEY_LOCAL_MACHINE\\SYSTEM"},
    {"Software", "HKLM", "SOFTWARE", "HKEY_LOCAL_MACHINE\\SOFTWARE"},
    {"Security", "HKLM", "SECURITY", "HKEY_LOCAL_MACHINE\\SECURITY"},
    {"Sam", "HKLM", "SAM", "HKEY_LOCAL_MACHINE\\SAM"},
    {"DefaultUser", "HKU", ".DEFAULT", "HKEY_USERS\\.DEFAULT"},
};

typedef struct {
    const char *hive; /* the schema's name */
    const char *root; /* reg.exe's spelling */
    char *key;        /* below the root, "" for the root */
} regkey;

static bool word_eq(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* KEY -> hive and key path; -1 when no root matches. */
static int key_parse(const char *arg, regkey *k)
{
    const char *s1 = strchr(arg, '\\');
    size_t n1 = s1 ? (size_t)(s1 - arg) : strlen(arg);
    const char *c2 = s1 ? s1 + 1 : arg + n1, *s2 = strchr(c2, '\\');
    size_t n2 = s2 ? (size_t)(s2 - c2) : strlen(c2);
    const char *rest = NULL;
    for (size_t i = 0; i < HCS_ARRAY_SIZE(hives) && rest == NULL; i++) {
        bool parent =
            word_eq(arg, n1, hives[i].parent) ||
            word_eq(arg, n1,
                    strcmp(hives[i].parent, "HKLM") == 0 ? "HKEY_LOCAL_MACHINE" : "HKEY_USERS");
        if (parent && s1 != NULL && word_eq(c2, n2, hives[i].child))
            rest = s2 ? s2 + 1 : "";
        else if (word_eq(arg, n1, hives[i].hive))
            rest = s1 ? s1 + 1 : "";
        if (rest != NULL) {
            k->hive = hives[i].hive;
            k->root = hives[i].root;
        }
    }
    if (rest == NULL)
        return -1;
    size_t n = strlen(rest);
    if (n > 0 && rest[n - 1] == '\\')
        n--; /* reg.exe accepts one trailing separator */
    k->key = strndup(rest, n);
    return k->key != NULL ? 0 : -1;
}

/* --- switches ------------------------------------------------------------------------------- */

typedef struct {
    const char *v, *t, *d, *sep;
    bool ve, va, s, f, json;
} switches;

static bool is_switch(const char *a, const char *name)
{
    return (a[0] == '/' || a[0] == '-') && strcasecmp(a + 1, name) == 0;
}

/* argv[from..argc) as the switches the verb allows ("v ve s" ...); a usage error otherwise. */
static int switches_parse(const hcsdiag_command *cmd, const char *verb, int argc, char **argv,
                          int from, const char *allowed, switches *sw)
{
    static const char *const names[] = {"v", "ve", "va", "s", "t", "d", "f"};
    bool add = strcmp(verb, "add") == 0;
    for (int i = from; i < argc; i++) {
        const char *a = argv[i], *name = NULL;
        if (strcmp(a, "--json") == 0 && strcmp(verb, "query") == 0) {
            sw->json = true;
            continue;
        }
        for (size_t j = 0; j < HCS_ARRAY_SIZE(names) && name == NULL; j++)
            if (is_switch(a, names[j]))
                name = names[j];
        char padded[8];
        snprintf(padded, sizeof(padded), " %s ", name ? name : "?");
        char list[32];
        snprintf(list, sizeof(list), " %s ", allowed);
        if (name == NULL || strstr(list, padded) == NULL)
            return hd_usage(cmd, "reg %s: unexpected argument \"%s\"", verb, a);
        const char **slot = NULL;
        bool *flag = NULL;
        if (strcmp(name, "v") == 0)
            slot = &sw->v;
        else if (strcmp(name, "t") == 0)
            slot = &sw->t;
        else if (strcmp(name, "d") == 0)
            slot = &sw->d;
        else if (strcmp(name, "s") == 0 && add)
            slot = &sw->sep;
        else if (strcmp(name, "s") == 0)
            flag = &sw->s;
        else if (strcmp(name, "ve") == 0)
            flag = &sw->ve;
        else if (strcmp(name, "va") == 0)
            flag = &sw->va;
        else
            flag = &sw->f;
        if ((slot != NULL && *slot != NULL) || (flag != NULL && *flag))
            return hd_usage(cmd, "reg %s: %s is given twice", verb, a);
        if (flag != NULL) {
            *flag = true;
            continue;
        }
        if (i + 1 >= argc)
            return hd_usage(cmd, "reg %s: %s needs a value", verb, a);
        *slot = argv[++i];
    }
    if ((sw->v != NULL) + sw->ve + sw->va > 1)
        return hd_usage(cmd, "reg %s: /v, /ve and /va exclude each other", verb);
    return HCSDIAG_OK;
}

/* --- base64 (BinaryValue) ------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64_encode(const unsigned char *d, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) |
                     (i + 2 < n ? d[i + 2] : 0);
        *o++ = b64[v >> 18 & 63];
        *o++ = b64[v >> 12 & 63];
        *o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? b64[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

/* Decoded bytes (caller frees) and their count; NULL for text that is not base64. */
static unsigned char *base64_decode(const char *s, size_t *len)
{
    size_t n = strlen(s);
    unsigned char *out = malloc(n / 4 * 3 + 3);
    unsigned v = 0;
    int bits = 0;
    *len = 0;
    for (size_t i = 0; out != NULL && i < n && s[i] != '='; i++) {
        const char *p = strchr(b64, s[i]);
        if (p == NULL) {
            free(out);
            return NULL;
        }
        v = v << 6 | (unsigned)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[(*len)++] = (unsigned char)(v >> bits);
        }
    }
    return out;
}

/* --- query ---------------------------------------------------------------------------------- */

static const struct {
    const char *schema, *reg;
} type_names[] = {
    {"None", "REG_NONE"},
    {"String", "REG_SZ"},
    {"ExpandedString", "REG_EXPAND_SZ"},
    {"MultiString", "REG_MULTI_SZ"},
    {"Binary", "REG_BINARY"},
    {"DWord", "REG_DWORD"},
    {"QWord", "REG_QWORD"},
};

/* reg.exe's name of a REG_* number, or NULL. */
static const char *reg_type_name(uint64_t t)
{
    static const char *const n[] = {"REG_NONE",
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
    return t < HCS_ARRAY_SIZE(n) ? n[t] : NULL;
}

static const char *str(const cJSON *obj, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

/* "    NAME    REG_TYPE    DATA", as hcsreg prints it. */
static void print_value(const cJSON *v)
{
    const char *name = str(v, "Name");
    const char *type = str(v, "Type");
    printf("    %s    ", name != NULL && name[0] != '\0' ? name : "(Default)");
    const char *reg = NULL;
    for (size_t i = 0; type != NULL && i < HCS_ARRAY_SIZE(type_names); i++)
        if (strcmp(type, type_names[i].schema) == 0)
            reg = type_names[i].reg;
    uint64_t custom = 0;
    if (reg == NULL) {
        hcs_json_u64(cJSON_GetObjectItemCaseSensitive(v, "CustomType"), &custom);
        reg = reg_type_name(custom);
    }
    if (reg != NULL)
        printf("%s    ", reg);
    else
        printf("0x%llx    ", (unsigned long long)custom);
    const char *s = str(v, "StringValue");
    const char *b = str(v, "BinaryValue");
    uint64_t x = 0;
    if (hcs_json_u64(cJSON_GetObjectItemCaseSensitive(v, "DWordValue"), &x) == 0 ||
        hcs_json_u64(cJSON_GetObjectItemCaseSensitive(v, "QWordValue"), &x) == 0) {
        printf("0x%llx", (unsigned long long)x);
    } else if (s != NULL && type != NULL && strcmp(type, "MultiString") == 0) {
        for (; *s != '\0'; s++)
            if (*s == '\n')
                fputs("\\0", stdout);
            else
                putchar(*s);
    } else if (s != NULL) {
        fputs(s, stdout);
    } else if (b != NULL) {
        size_t n = 0;
        AUTOFREE unsigned char *d = base64_decode(b, &n);
        for (size_t i = 0; d != NULL && i < n; i++)
            printf("%02X", d[i]);
    }
    putchar('\n');
}

/* A key's full name, its values and a blank line; then, with subkeys, their full names. */
static void print_key(const char *full, const cJSON *reg, bool subkeys)
{
    printf("%s\n", full);
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(reg, "Values"))
    {
        print_value(v);
    }
    printf("\n");
    const cJSON *names = subkeys ? cJSON_GetObjectItemCaseSensitive(reg, "Subkeys") : NULL;
    cJSON_ArrayForEach(v, names)
    {
        printf("%s\\%s\n", full, cJSON_GetStringValue(v) ? v->valuestring : "?");
    }
}

typedef struct {
    const char *id, *what;
    HCS_SYSTEM sys;
    HCS_OPERATION op;
} target;

/* Open the system once the arguments have been checked (usage errors come first). */
static int target_open(target *t)
{
    int rc = hd_open_system(t->what, t->id, &t->sys);
    if (rc == HCSDIAG_OK && (t->op = HcsCreateOperation(NULL, NULL)) == NULL)
        rc = hd_fail("out of memory");
    return rc;
}

/* Properties.Registry of hive\key (NULL after printing the failure). */
static cJSON *query_key(target *t, const char *what, const char *hive, const char *key)
{
    AUTOJSON cJSON *q = cJSON_CreateObject();
    cJSON *types = cJSON_AddArrayToObject(q, "PropertyTypes");
    cJSON_AddItemToArray(types, cJSON_CreateString("Registry"));
    cJSON *rq = cJSON_AddObjectToObject(q, "RegistryQuery");
    cJSON_AddStringToObject(rq, "Hive", hive);
    cJSON_AddStringToObject(rq, "Name", key);
    AUTOFREE char *text = cJSON_PrintUnformatted(q);
    if (text == NULL)
        return hd_fail("out of memory"), NULL;
    char *doc = NULL;
    if (hd_finish(what, t->id, t->op, HcsGetComputeSystemProperties(t->sys, t->op, text), &doc) !=
        HCSDIAG_OK)
        return NULL;
    AUTOJSON cJSON *props = hd_json_parse(doc);
    HcsFree(doc);
    cJSON *reg = cJSON_DetachItemFromObjectCaseSensitive(props, "Registry");
    if (!cJSON_IsObject(reg)) {
        cJSON_Delete(reg);
        hd_fail("%s %s: the Properties document has no Registry object", what, t->id);
        return NULL;
    }
    return reg;
}

/* The value named name ("" the default) of a Registry answer, or NULL. */
static cJSON *find_value(const cJSON *reg, const char *name)
{
    cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(reg, "Values"))
    {
        const char *n = str(v, "Name");
        if (strcasecmp(n != NULL ? n : "", name) == 0)
            return v;
    }
    return NULL;
}

/* With a value name: keep only that value in reg's Values; false when it has none. */
static bool filter_values(cJSON *reg, const char *name)
{
    if (name == NULL)
        return true;
    cJSON *values = cJSON_GetObjectItemCaseSensitive(reg, "Values");
    cJSON *keep = find_value(reg, name);
    cJSON *only = cJSON_CreateArray();
    if (keep != NULL)
        cJSON_AddItemToArray(only, cJSON_DetachItemViaPointer(values, keep));
    cJSON_ReplaceItemInObjectCaseSensitive(reg, "Values", only);
    return keep != NULL;
}

/*
 * One key of a /s query and every key below it: printed as hcsreg does, or appended
 * to json (an array). *matches counts the keys that have the value asked for.
 */
static int query_tree(target *t, const char *hive, const char *key, const char *full,
                      const char *name, cJSON *json, size_t *matches)
{
    AUTOJSON cJSON *reg = query_key(t, "reg query", hive, key);
    if (reg == NULL)
        return HCSDIAG_FAIL;
    bool has = filter_values(reg, name);
    *matches += has;
    if (json == NULL && (name == NULL || has))
        print_key(full, reg, false);
    AUTOJSON cJSON *subkeys = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(reg, "Subkeys"), 1);
    if (json != NULL && (name == NULL || has))
        cJSON_AddItemToArray(json, steal_ptr(&reg));
    const cJSON *s;
    cJSON_ArrayForEach(s, subkeys)
    {
        const char *sub = cJSON_GetStringValue(s);
        AUTOFREE char *child = key[0] ? hcs_asprintf("%s\\%s", key, sub) : strdup(sub);
        AUTOFREE char *child_full = hcs_asprintf("%s\\%s", full, sub);
        if (child == NULL || child_full == NULL)
            return hd_fail("out of memory");
        int rc = query_tree(t, hive, child, child_full, name, json, matches);
        if (rc != HCSDIAG_OK)
            return rc;
    }
    return HCSDIAG_OK;
}

static int cmd_query(const hcsdiag_command *cmd, target *t, const regkey *k, const char *full,
                     int argc, char **argv)
{
    switches sw = {0};
    int rc = switches_parse(cmd, "query", argc, argv, 4, "v ve s", &sw);
    if (rc != HCSDIAG_OK)
        return rc;
    const char *name = sw.ve ? "" : sw.v;
    const char *shown = name != NULL && name[0] != '\0' ? name : "(Default)";
    if ((rc = target_open(t)) != HCSDIAG_OK)
        return rc;
    if (sw.s) {
        AUTOJSON cJSON *json = sw.json ? cJSON_CreateArray() : NULL;
        size_t matches = 0;
        if (!sw.json)
            printf("\n");
        rc = query_tree(t, k->hive, k->key, full, name, json, &matches);
        if (rc != HCSDIAG_OK)
            return rc;
        if (name != NULL && matches == 0)
            return hd_fail("reg query %s: no value %s in %s or below it", t->id, shown, full);
        if (sw.json)
            hd_print_json(json);
        else if (name != NULL)
            printf("End of search: %zu match(es) found.\n", matches);
        return HCSDIAG_OK;
    }
    AUTOJSON cJSON *reg = query_key(t, "reg query", k->hive, k->key);
    if (reg == NULL)
        return HCSDIAG_FAIL;
    if (!filter_values(reg, name))
        return hd_fail("reg query %s: no value %s in %s", t->id, shown, full);
    if (sw.json) {
        hd_print_json(reg);
        return HCSDIAG_OK;
    }
    printf("\n");
    print_key(full, reg, name == NULL);
    return HCSDIAG_OK;
}

/* --- add and delete ------------------------------------------------------------------------- */

/* Settings -> ModifySettingRequest on Container/RegistryChanges. */
static int modify(target *t, const char *what, cJSON *settings)
{
    AUTOJSON cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "ResourcePath", "Container/RegistryChanges");
    cJSON_AddStringToObject(req, "RequestType", "Update");
    cJSON_AddItemToObject(req, "Settings", settings);
    AUTOFREE char *text = hcs_json_print(req);
    if (text == NULL)
        return hd_fail("out of memory");
    char *doc = NULL;
    HRESULT hr = HcsModifyComputeSystem(t->sys, t->op, text, NULL);
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResult(t->op, HCS_INFINITE, &doc);
    else
        HcsGetOperationResult(t->op, &doc);
    if (FAILED(hr)) {
        hd_fail_system(what, t->id, hr, doc);
        HcsFree(doc);
        return HCSDIAG_FAIL;
    }
    HcsFree(doc);
    fputs(DONE, stdout);
    return HCSDIAG_OK;
}

static cJSON *key_json(const regkey *k)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Hive", k->hive);
    cJSON_AddStringToObject(o, "Name", k->key);
    return o;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* /d for REG_DWORD or REG_QWORD: decimal or 0x hexadecimal, within max. */
static int number(const char *text, uint64_t max, uint64_t *out)
{
    bool hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    const char *p = hex ? text + 2 : text;
    unsigned base = hex ? 16 : 10;
    uint64_t x = 0;
    if (*p == '\0')
        return -1;
    for (; *p != '\0'; p++) {
        int d = hex ? hexval(*p) : (*p >= '0' && *p <= '9' ? *p - '0' : -1);
        if (d < 0 || x > (max - (uint64_t)d) / base)
            return -1;
        x = x * base + (uint64_t)d;
    }
    *out = x;
    return 0;
}

/* The RegistryValue of an add: usage or data errors are printed. */
static int build_value(const hcsdiag_command *cmd, const char *id, const regkey *k,
                       const char *full, const switches *sw, cJSON *v)
{
    const char *type = sw->t != NULL ? sw->t : "REG_SZ";
    const char *data = sw->d != NULL ? sw->d : "";
    const char *name = sw->v != NULL ? sw->v : "";
    const char *shown = name[0] != '\0' ? name : "(Default)";
    cJSON_AddItemToObject(v, "Key", key_json(k));
    cJSON_AddStringToObject(v, "Name", name);
    if (sw->sep != NULL && strcasecmp(type, "REG_MULTI_SZ") != 0)
        return hd_usage(cmd, "reg add: /s SEPARATOR goes with /t REG_MULTI_SZ only");
    if (strcasecmp(type, "REG_SZ") == 0 || strcasecmp(type, "REG_EXPAND_SZ") == 0) {
        cJSON_AddStringToObject(v, "Type",
                                strcasecmp(type, "REG_SZ") == 0 ? "String" : "ExpandedString");
        cJSON_AddStringToObject(v, "StringValue", data);
    } else if (strcasecmp(type, "REG_MULTI_SZ") == 0) {
        if (sw->sep != NULL && strlen(sw->sep) != 1)
            return hd_usage(cmd, "reg add: /s %s: the separator is one character", sw->sep);
        if (strchr(data, '\n') != NULL)
            return hd_fail("reg add %s: the strings of a REG_MULTI_SZ cannot hold a newline "
                           "(RegistryChanges separates them with newlines)",
                           id);
        /* The strings separated by sep ("\0", the two characters, by default) -> by '\n'; a
         * separator at the very end ends the list rather than adding an empty string. */
        const char *sep = sw->sep != NULL ? sw->sep : "\\0";
        size_t sl = strlen(sep), n = strlen(data), w = 0;
        AUTOFREE char *s = malloc(n + 1);
        if (s == NULL)
            return hd_fail("out of memory");
        for (size_t i = 0; i < n;) {
            if (strncmp(data + i, sep, sl) == 0) {
                s[w++] = '\n';
                i += sl;
            } else {
                s[w++] = data[i++];
            }
        }
        if (w > 0 && s[w - 1] == '\n')
            w--;
        s[w] = '\0';
        cJSON_AddStringToObject(v, "Type", "MultiString");
        cJSON_AddStringToObject(v, "StringValue", s);
    } else if (strcasecmp(type, "REG_DWORD") == 0 || strcasecmp(type, "REG_QWORD") == 0) {
        bool dword = strcasecmp(type, "REG_DWORD") == 0;
        uint64_t x = 0;
        if (number(data, dword ? UINT32_MAX : UINT64_MAX, &x) < 0)
            return hd_fail("reg add %s: invalid %s data \"%s\" for %s: a %s number, decimal or "
                           "0x hexadecimal, is expected",
                           id, dword ? "REG_DWORD" : "REG_QWORD", data, shown,
                           dword ? "32-bit" : "64-bit");
        cJSON_AddStringToObject(v, "Type", dword ? "DWord" : "QWord");
        hcs_json_add_u64(v, dword ? "DWordValue" : "QWordValue", x);
    } else if (strcasecmp(type, "REG_BINARY") == 0 || strcasecmp(type, "REG_NONE") == 0) {
        size_t n = strlen(data);
        if (n % 2 != 0)
            return hd_fail("reg add %s: invalid %s data for %s: %zu hex digits, an even number "
                           "is expected",
                           id, type, shown, n);
        AUTOFREE unsigned char *bytes = malloc(n / 2 + 1);
        if (bytes == NULL)
            return hd_fail("out of memory");
        for (size_t i = 0; i < n; i += 2) {
            int hi = hexval(data[i]), lo = hexval(data[i + 1]);
            if (hi < 0 || lo < 0)
                return hd_fail("reg add %s: invalid %s data for %s: \"%.2s\" at offset %zu is "
                               "not hexadecimal",
                               id, type, shown, data + i, i);
            bytes[i / 2] = (unsigned char)(hi << 4 | lo);
        }
        bool none = strcasecmp(type, "REG_NONE") == 0;
        if (none && n == 0) {
            cJSON_AddStringToObject(v, "Type", "None");
        } else {
            AUTOFREE char *text = base64_encode(bytes, n / 2);
            if (text == NULL)
                return hd_fail("out of memory");
            /* RegistryChanges' None carries no data: REG_NONE with data is custom type 0. */
            cJSON_AddStringToObject(v, "Type", none ? "CustomType" : "Binary");
            if (none)
                cJSON_AddNumberToObject(v, "CustomType", 0);
            cJSON_AddStringToObject(v, "BinaryValue", text);
        }
    } else {
        return hd_usage(cmd,
                        "reg add: unknown type \"%s\" (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, "
                        "REG_DWORD, REG_QWORD, REG_BINARY or REG_NONE)",
                        type);
    }
    (void)full;
    return HCSDIAG_OK;
}

static int cmd_add(const hcsdiag_command *cmd, target *t, const regkey *k, const char *full,
                   int argc, char **argv)
{
    switches sw = {0};
    int rc = switches_parse(cmd, "add", argc, argv, 4, "v ve t s d f", &sw);
    if (rc != HCSDIAG_OK)
        return rc;
    if (sw.v == NULL && !sw.ve && sw.t == NULL && sw.d == NULL)
        return hd_usage(cmd, "reg add: give /v NAME or /ve (RegistryChanges sets values: a key "
                             "is created with its first value)");
    AUTOJSON cJSON *value = cJSON_CreateObject();
    if ((rc = build_value(cmd, t->id, k, full, &sw, value)) != HCSDIAG_OK)
        return rc;
    if ((rc = target_open(t)) != HCSDIAG_OK)
        return rc;
    cJSON *settings = cJSON_CreateObject();
    cJSON *adds = cJSON_AddArrayToObject(settings, "AddValues");
    cJSON_AddItemToArray(adds, steal_ptr(&value));
    return modify(t, "reg add", settings);
}

static int cmd_delete(const hcsdiag_command *cmd, target *t, const regkey *k, const char *full,
                      int argc, char **argv)
{
    switches sw = {0};
    int rc = switches_parse(cmd, "delete", argc, argv, 4, "v ve va f", &sw);
    if (rc != HCSDIAG_OK)
        return rc;
    bool whole_key = sw.v == NULL && !sw.ve && !sw.va;
    if (whole_key && k->key[0] == '\0')
        return hd_fail("reg delete %s: %s is the root of a hive, which cannot be deleted", t->id,
                       full);
    if ((rc = target_open(t)) != HCSDIAG_OK)
        return rc;
    cJSON *settings = cJSON_CreateObject();
    if (whole_key) {
        cJSON *dels = cJSON_AddArrayToObject(settings, "DeleteKeys");
        cJSON_AddItemToArray(dels, key_json(k));
        return modify(t, "reg delete", settings);
    }
    /* Values: the one named, or with /va every value the key has now. */
    AUTOJSON cJSON *reg = query_key(t, "reg delete", k->hive, k->key);
    if (reg == NULL) {
        cJSON_Delete(settings);
        return HCSDIAG_FAIL;
    }
    cJSON *dels = cJSON_AddArrayToObject(settings, "DeleteValues");
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(reg, "Values"))
    {
        const char *n = str(v, "Name");
        if (!sw.va && strcasecmp(n != NULL ? n : "", sw.ve ? "" : sw.v) != 0)
            continue;
        cJSON *d = cJSON_CreateObject();
        cJSON_AddItemToObject(d, "Key", key_json(k));
        cJSON_AddStringToObject(d, "Name", n != NULL ? n : "");
        cJSON_AddItemToArray(dels, d);
    }
    if (!sw.va && cJSON_GetArraySize(dels) == 0) {
        cJSON_Delete(settings);
        return hd_fail("reg delete %s: no value %s in %s", t->id,
                       sw.ve || sw.v[0] == '\0' ? "(Default)" : sw.v, full);
    }
    if (cJSON_GetArraySize(dels) == 0) {
        cJSON_Delete(settings);
        fputs(DONE, stdout); /* /va on a key without values */
        return HCSDIAG_OK;
    }
    return modify(t, "reg delete", settings);
}

/* --- the command ---------------------------------------------------------------------------- */

int hcsdiag_reg(const hcsdiag_command *cmd, int argc, char **argv)
{
    for (int i = 1; i < argc && i < 3; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
            strcmp(argv[i], "/?") == 0)
            return hd_help(cmd);
    if (argc < 2)
        return hd_usage(cmd, "ID is missing");
    if (argc < 3)
        return hd_usage(cmd, "reg %s: query, add or delete is missing", argv[1]);
    const char *verb = argv[2];
    int (*run)(const hcsdiag_command *, target *, const regkey *, const char *, int, char **) =
        strcasecmp(verb, "query") == 0    ? cmd_query
        : strcasecmp(verb, "add") == 0    ? cmd_add
        : strcasecmp(verb, "delete") == 0 ? cmd_delete
                                          : NULL;
    if (run == NULL)
        return hd_usage(cmd, "reg: unknown operation \"%s\" (query, add or delete)", verb);
    if (argc < 4)
        return hd_usage(cmd, "reg %s: KEY is missing", verb);
    regkey k = {0};
    if (key_parse(argv[3], &k) < 0)
        return hd_usage(cmd,
                        "reg %s: invalid key name \"%s\": it starts with one of HKLM\\SYSTEM, "
                        "HKLM\\SOFTWARE, HKLM\\SECURITY, HKLM\\SAM, HKU\\.DEFAULT (or "
                        "HKEY_LOCAL_MACHINE\\..., HKEY_USERS\\.DEFAULT, or a hive name: System, "
                        "Software, Security, Sam, DefaultUser)",
                        verb, argv[3]);
    AUTOFREE char *key = k.key;
    AUTOFREE char *full = key[0] ? hcs_asprintf("%s\\%s", k.root, key) : strdup(k.root);
    char what[32];
    snprintf(what, sizeof(what), "reg %s", verb);
    for (char *p = what; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    target t = {.id = argv[1], .what = what};
    int rc = full == NULL ? hd_fail("out of memory") : run(cmd, &t, &k, full, argc, argv);
    HcsCloseOperation(t.op);
    HcsCloseComputeSystem(t.sys);
    return rc;
}
