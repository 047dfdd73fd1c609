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
 * Sam, DefaultUser), then the subkeys. KEY, the switches and the data of an add are parsed by
 * lib/registry/cli.c, as the container's own hcsreg's are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcsdiag.h"
#include "registry/registry.h"

#define DONE "The operation completed successfully.\n"
/* hcs_reg_cli_switches.extra: query --json. */
#define SW_JSON 1u

/*
 * A shared parser's usage error (HCS_REG_CLI_USAGE: "reg " and its message, exit 2) or invalid
 * data (a failure naming the system); HCSDIAG_OK for HCS_REG_CLI_OK. Frees msg.
 */
static int cli_result(const hcsdiag_command *cmd, const char *id, int kind, char *msg)
{
    AUTOFREE char *m = msg;
    switch (kind) {
    case HCS_REG_CLI_OK:
        return HCSDIAG_OK;
    case HCS_REG_CLI_USAGE:
        return hd_usage(cmd, "reg %s", m);
    case HCS_REG_CLI_INVALID:
        return hd_fail("reg add %s: %s", id, m);
    default:
        return hd_fail("out of memory");
    }
}

/* argv[4..argc) (after ID, the verb and KEY) as the switches the verb allows ("v ve s"...);
 * query also takes --json (SW_JSON). */
static int switches_parse(const hcsdiag_command *cmd, const char *verb, int argc, char **argv,
                          const char *allowed, hcs_reg_cli_switches *sw)
{
    static const char *const json[] = {"--json", NULL};
    char *msg = NULL;
    int kind =
        hcs_reg_cli_switches_parse(verb, (const char *const *)argv + 4, (size_t)(argc - 4), allowed,
                                   strcmp(verb, "query") == 0 ? json : NULL, sw, &msg);
    return cli_result(cmd, NULL, kind, msg);
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
        reg = custom <= UINT32_MAX ? hcs_reg_cli_type_name((uint32_t)custom) : NULL;
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

static int cmd_query(const hcsdiag_command *cmd, target *t, const hcs_reg_cli_key *k, int argc,
                     char **argv)
{
    hcs_reg_cli_switches sw;
    int rc = switches_parse(cmd, "query", argc, argv, "v ve s", &sw);
    if (rc != HCSDIAG_OK)
        return rc;
    bool as_json = (sw.extra & SW_JSON) != 0;
    const char *name = sw.ve ? "" : sw.v;
    const char *shown = name != NULL && name[0] != '\0' ? name : "(Default)";
    if ((rc = target_open(t)) != HCSDIAG_OK)
        return rc;
    if (sw.s) {
        AUTOJSON cJSON *json = as_json ? cJSON_CreateArray() : NULL;
        size_t matches = 0;
        if (!as_json)
            printf("\n");
        rc = query_tree(t, hcs_reg_hive_name(k->hive), k->key, k->full, name, json, &matches);
        if (rc != HCSDIAG_OK)
            return rc;
        if (name != NULL && matches == 0)
            return hd_fail("reg query %s: no value %s in %s or below it", t->id, shown, k->full);
        if (as_json)
            hd_print_json(json);
        else if (name != NULL)
            printf("End of search: %zu match(es) found.\n", matches);
        return HCSDIAG_OK;
    }
    AUTOJSON cJSON *reg = query_key(t, "reg query", hcs_reg_hive_name(k->hive), k->key);
    if (reg == NULL)
        return HCSDIAG_FAIL;
    if (!filter_values(reg, name))
        return hd_fail("reg query %s: no value %s in %s", t->id, shown, k->full);
    if (as_json) {
        hd_print_json(reg);
        return HCSDIAG_OK;
    }
    printf("\n");
    print_key(k->full, reg, name == NULL);
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

static cJSON *key_json(const hcs_reg_cli_key *k)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Hive", hcs_reg_hive_name(k->hive));
    cJSON_AddStringToObject(o, "Name", k->key);
    return o;
}

static uint64_t le(const uint8_t *d, size_t n)
{
    uint64_t x = 0;
    for (size_t i = n; i > 0; i--)
        x = x << 8 | d[i - 1];
    return x;
}

/* The RegistryValue of an add: usage or data errors are printed. */
static int build_value(const hcsdiag_command *cmd, const char *id, const hcs_reg_cli_key *k,
                       const hcs_reg_cli_switches *sw, cJSON *v)
{
    const char *name = sw->v != NULL ? sw->v : "";
    uint32_t type = HCS_REG_SZ;
    AUTOFREE uint8_t *data = NULL;
    size_t len = 0;
    char *msg = NULL;
    int kind =
        hcs_reg_cli_value_parse(sw, name[0] != '\0' ? name : "(Default)", &type, &data, &len, &msg);
    int rc = cli_result(cmd, id, kind, msg);
    if (rc != HCSDIAG_OK)
        return rc;
    cJSON_AddItemToObject(v, "Key", key_json(k));
    cJSON_AddStringToObject(v, "Name", name);
    if (type == HCS_REG_SZ || type == HCS_REG_EXPAND_SZ) {
        cJSON_AddStringToObject(v, "Type", type == HCS_REG_SZ ? "String" : "ExpandedString");
        cJSON_AddStringToObject(v, "StringValue", (const char *)data);
    } else if (type == HCS_REG_MULTI_SZ) {
        /* "a\0b\0" -> "a\nb": RegistryChanges separates the strings with newlines. */
        if (memchr(data, '\n', len) != NULL)
            return hd_fail("reg add %s: the strings of a REG_MULTI_SZ cannot hold a newline "
                           "(RegistryChanges separates them with newlines)",
                           id);
        if (len > 0)
            len--; /* the last string's NUL ends the list */
        for (size_t i = 0; i < len; i++)
            if (data[i] == '\0')
                data[i] = '\n';
        data[len] = '\0';
        cJSON_AddStringToObject(v, "Type", "MultiString");
        cJSON_AddStringToObject(v, "StringValue", (const char *)data);
    } else if (type == HCS_REG_DWORD || type == HCS_REG_QWORD) {
        bool dword = type == HCS_REG_DWORD;
        cJSON_AddStringToObject(v, "Type", dword ? "DWord" : "QWord");
        hcs_json_add_u64(v, dword ? "DWordValue" : "QWordValue", le(data, len));
    } else if (type == HCS_REG_NONE && len == 0) {
        cJSON_AddStringToObject(v, "Type", "None");
    } else {
        AUTOFREE char *text = base64_encode(data, len);
        if (text == NULL)
            return hd_fail("out of memory");
        /* RegistryChanges' None carries no data: REG_NONE with data is custom type 0. */
        bool none = type == HCS_REG_NONE;
        cJSON_AddStringToObject(v, "Type", none ? "CustomType" : "Binary");
        if (none)
            cJSON_AddNumberToObject(v, "CustomType", 0);
        cJSON_AddStringToObject(v, "BinaryValue", text);
    }
    return HCSDIAG_OK;
}

static int cmd_add(const hcsdiag_command *cmd, target *t, const hcs_reg_cli_key *k, int argc,
                   char **argv)
{
    hcs_reg_cli_switches sw;
    int rc = switches_parse(cmd, "add", argc, argv, "v ve t s d f", &sw);
    if (rc != HCSDIAG_OK)
        return rc;
    if (sw.v == NULL && !sw.ve && sw.t == NULL && sw.d == NULL)
        return hd_usage(cmd, "reg add: give /v NAME or /ve (RegistryChanges sets values: a key "
                             "is created with its first value)");
    AUTOJSON cJSON *value = cJSON_CreateObject();
    if ((rc = build_value(cmd, t->id, k, &sw, value)) != HCSDIAG_OK)
        return rc;
    if ((rc = target_open(t)) != HCSDIAG_OK)
        return rc;
    cJSON *settings = cJSON_CreateObject();
    cJSON *adds = cJSON_AddArrayToObject(settings, "AddValues");
    cJSON_AddItemToArray(adds, steal_ptr(&value));
    return modify(t, "reg add", settings);
}

static int cmd_delete(const hcsdiag_command *cmd, target *t, const hcs_reg_cli_key *k, int argc,
                      char **argv)
{
    hcs_reg_cli_switches sw;
    int rc = switches_parse(cmd, "delete", argc, argv, "v ve va f", &sw);
    if (rc != HCSDIAG_OK)
        return rc;
    bool whole_key = sw.v == NULL && !sw.ve && !sw.va;
    if (whole_key && k->key[0] == '\0')
        return hd_fail("reg delete %s: %s is the root of a hive, which cannot be deleted", t->id,
                       k->full);
    if ((rc = target_open(t)) != HCSDIAG_OK)
        return rc;
    cJSON *settings = cJSON_CreateObject();
    if (whole_key) {
        cJSON *dels = cJSON_AddArrayToObject(settings, "DeleteKeys");
        cJSON_AddItemToArray(dels, key_json(k));
        return modify(t, "reg delete", settings);
    }
    /* Values: the one named, or with /va every value the key has now. */
    AUTOJSON cJSON *reg = query_key(t, "reg delete", hcs_reg_hive_name(k->hive), k->key);
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
                       sw.ve || sw.v[0] == '\0' ? "(Default)" : sw.v, k->full);
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
    int (*run)(const hcsdiag_command *, target *, const hcs_reg_cli_key *, int, char **) =
        strcasecmp(verb, "query") == 0    ? cmd_query
        : strcasecmp(verb, "add") == 0    ? cmd_add
        : strcasecmp(verb, "delete") == 0 ? cmd_delete
                                          : NULL;
    if (run == NULL)
        return hd_usage(cmd, "reg: unknown operation \"%s\" (query, add or delete)", verb);
    if (argc < 4)
        return hd_usage(cmd, "reg %s: KEY is missing", verb);
    hcs_reg_cli_key k __attribute__((cleanup(hcs_reg_cli_key_free))) = {0};
    char *msg = NULL;
    switch (hcs_reg_cli_key_parse(argv[3], HCS_REG_CLI_HIVE_NAMES, &k, &msg)) {
    case HCS_REG_CLI_OK:
        break;
    case HCS_REG_CLI_NOMEM:
        return hd_fail("out of memory");
    default: {
        AUTOFREE char *m = msg;
        return hd_usage(cmd, "reg %s: %s", verb, m);
    }
    }
    char what[32];
    snprintf(what, sizeof(what), "reg %s", verb);
    for (char *p = what; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    target t = {.id = argv[1], .what = what};
    int rc = run(cmd, &t, &k, argc, argv);
    HcsCloseOperation(t.op);
    HcsCloseComputeSystem(t.sys);
    return rc;
}
