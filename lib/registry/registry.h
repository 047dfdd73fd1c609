/*
 * registry.h - the registry union: a typed, hierarchical key/value store kept as immutable hive
 * files per layer plus a writable delta per compute system, unioned at lookup (no hive is copied
 * per system), as Windows containers do.
 *
 * Model
 *   - Five hives (System, Software, Security, Sam, DefaultUser), each its own tree.
 *   - A key is a path of components separated by '\\' ("ControlSet001\\Services\\Tcpip"), no
 *     leading, trailing or doubled separator; "" is the hive's root. Components are 1 to 255
 *     bytes of UTF-8 with no '\\' and no control characters; at most 512 deep. Keys and value
 *     names compare case-insensitively (ASCII letters folded; other bytes as they are) and keep
 *     the case they were created with.
 *   - A value has a name ("" is the key's default value, up to 16383 bytes), a type (the Windows
 *     REG_* numbers below; any other number is a custom type holding bytes) and data (at most
 *     HCS_REG_MAX_DATA bytes), encoded as: SZ, EXPAND_SZ: UTF-8 bytes, no terminating NUL;
 *     MULTI_SZ: each string followed by one NUL ("a","b" is "a\0b\0"; the empty list is "");
 *     DWORD: 4 bytes little-endian; QWORD: 8 bytes little-endian; the rest: raw bytes.
 *
 * Levels and the union (the same rules as overlayfs' whiteouts and opaque folders)
 *   A view is a stack of levels, nearest first: the system's delta, then the hive files of the
 *   layer chain (nearest layer first). At one level:
 *     - a key record says the key exists (PRESENT) and/or that it hides every lower level's
 *       content at and below it (OPAQUE). A deleted key is OPAQUE without PRESENT (a tombstone);
 *       a key deleted then created again at the same level is PRESENT|OPAQUE. A key also exists
 *       at a level when the level has any value or key below it;
 *     - a value record is PRESENT (with its type and data) or DELETED (a tombstone).
 *   Lookup of value (K, N): the nearest level with a record for (K, N) decides; but a level
 *   where K or one of its ancestors is OPAQUE stops the search below it. Subkeys and values of
 *   K enumerate the merge of the levels down to (and including) the first level where K or an
 *   ancestor is OPAQUE, the nearest record of each name deciding, tombstones dropped.
 *
 * Every function returns 0 or -1 with *err (HRESULT + a message naming the key, value, file or
 * line at fault), unless it says otherwise.
 */
#ifndef HCS_REGISTRY_REGISTRY_H
#define HCS_REGISTRY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum hcs_reg_hive {
    HCS_REG_HIVE_SYSTEM = 0,
    HCS_REG_HIVE_SOFTWARE,
    HCS_REG_HIVE_SECURITY,
    HCS_REG_HIVE_SAM,
    HCS_REG_HIVE_DEFAULTUSER,
    HCS_REG_N_HIVES,
};

/* REG_* value types. */
#define HCS_REG_NONE 0u
#define HCS_REG_SZ 1u
#define HCS_REG_EXPAND_SZ 2u
#define HCS_REG_BINARY 3u
#define HCS_REG_DWORD 4u
#define HCS_REG_MULTI_SZ 7u
#define HCS_REG_QWORD 11u

#define HCS_REG_MAX_COMPONENT 255
#define HCS_REG_MAX_DEPTH 512
#define HCS_REG_MAX_NAME 16383
#define HCS_REG_MAX_DATA (1u << 20)

/* --- model (model.c) ------------------------------------------------------------------------ */

/* "System", "Software", "Security", "Sam", "DefaultUser". */
const char *hcs_reg_hive_name(enum hcs_reg_hive h);
/* Case-insensitive; also the .reg forms "HKEY_LOCAL_MACHINE\\SYSTEM", "HKLM\\SOFTWARE", ...
 * are NOT accepted here (reg.c maps them). -1 with *err naming the text when unknown. */
int hcs_reg_hive_parse(const char *name, enum hcs_reg_hive *out, hcs_error **err);

/* Check a key path (see the model); what names it in the message ("Key.Name"). */
int hcs_reg_key_check(const char *what, const char *key, hcs_error **err);
/* Check a value's name, type and data (size limits; DWORD is 4 bytes, QWORD 8, MULTI_SZ ends
 * with a NUL unless empty, strings are UTF-8 without NUL). */
int hcs_reg_value_check(const char *what, const char *name, uint32_t type, const uint8_t *data,
                        size_t len, hcs_error **err);

/* Case-insensitive comparison of two names (<0, 0, >0), ASCII letters folded. */
int hcs_reg_name_cmp(const char *a, const char *b);
/* Component-wise case-insensitive comparison of key paths: "A" < "A\\B" < "A\\C" < "AB"; every
 * descendant of a key sorts right after it and before its next sibling. */
int hcs_reg_key_cmp(const char *a, const char *b);

/* --- changes: what a delta records and a hive file is built from ------------------------------ */

enum hcs_reg_op {
    HCS_REG_SET_VALUE = 1, /* creates the key (and its ancestors) when missing */
    HCS_REG_DELETE_VALUE,
    HCS_REG_CREATE_KEY, /* and its ancestors */
    HCS_REG_DELETE_KEY, /* the key, its values and every key below it */
};

typedef struct hcs_reg_change {
    enum hcs_reg_op op;
    enum hcs_reg_hive hive;
    const char *key;
    const char *name; /* SET_VALUE, DELETE_VALUE */
    uint32_t type;    /* SET_VALUE */
    const uint8_t *data;
    size_t len;
} hcs_reg_change;

/* --- levels ---------------------------------------------------------------------------------- */

#define HCS_REG_KEY_PRESENT 1u
#define HCS_REG_KEY_OPAQUE 2u

typedef struct hcs_reg_value {
    const char *name;
    uint32_t type;
    const uint8_t *data;
    size_t len;
    bool deleted; /* a tombstone (enumeration at one level only) */
} hcs_reg_value;

/*
 * One level of a view: a hive file or a delta. Pointers given to callbacks (names, data) are
 * valid during the call only (a hive file's stay valid while it is open).
 */
typedef struct hcs_reg_level_ops {
    /*
     * The key record of key at this level: HCS_REG_KEY_* bits, 0 when the level has none. Also
     * sets *has_below (may be NULL) when the level holds anything strictly below key.
     */
    unsigned (*key)(const void *self, enum hcs_reg_hive h, const char *key, bool *has_below);
    /* The value record (key, name): 1 found (out->deleted tells a tombstone), 0 none. */
    int (*value)(const void *self, enum hcs_reg_hive h, const char *key, const char *name,
                 hcs_reg_value *out);
    /*
     * Call fn for every direct child key name of key recorded at this level (from a key record
     * or implied by content below it), in hcs_reg_name_cmp order, with its key bits (0 when only
     * implied). fn returning non-zero stops the walk and is returned.
     */
    int (*subkeys)(const void *self, enum hcs_reg_hive h, const char *key,
                   int (*fn)(void *ctx, const char *name, unsigned bits), void *ctx);
    /* Every value record of key at this level (tombstones included), in name order. */
    int (*values)(const void *self, enum hcs_reg_hive h, const char *key,
                  int (*fn)(void *ctx, const hcs_reg_value *v), void *ctx);
    /* Optional: value() given hash = hcs_reg_key_hash(key), so that a view hashes key once. */
    int (*value_hashed)(const void *self, enum hcs_reg_hive h, const char *key, uint32_t hash,
                        const char *name, hcs_reg_value *out);
    /*
     * Optional: false when no key record of hive h at this level can be OPAQUE, so that lookups
     * skip the ancestor checks. NULL (or true) when unknown.
     */
    bool (*may_be_opaque)(const void *self, enum hcs_reg_hive h);
} hcs_reg_level_ops;

typedef struct hcs_reg_level {
    const hcs_reg_level_ops *ops;
    const void *self;
} hcs_reg_level;

/* --- hive files (hive.c) ------------------------------------------------------------------- */

/*
 * A hive file holds one level of one hive: sorted key records (bits) and value records
 * (present or tombstone), designed to be memory-mapped and binary-searched. Versioned and
 * checksummed: a header (magic "HCSHIVE\0", format version, the hive, counts, section offsets,
 * a checksum of the header and one of the body).
 */
typedef struct hcs_reg_hive_file hcs_reg_hive_file;

/*
 * Write dirfd/name (atomically: a temporary file renamed, fsync'd) holding the level that
 * changes (all of hive h; applied in order, later ones winning) make over an empty level: a
 * DELETE_KEY leaves an OPAQUE tombstone and drops what the same changes put below it earlier;
 * a later SET_VALUE or CREATE_KEY below it re-creates the key as PRESENT|OPAQUE.
 */
int hcs_reg_hive_write(int dirfd, const char *name, enum hcs_reg_hive h,
                       const hcs_reg_change *changes, size_t n, hcs_error **err);

/*
 * Open (mmap, read-only) and check the header and the section bounds against the file size:
 * O(1) in the number of keys. A truncated or corrupt header, a wrong magic or a newer version is
 * refused with HCS_E_INVALID_LAYER naming the file. Accessors bounds-check every record, so a
 * corrupt body never crashes (it reads as missing records).
 */
int hcs_reg_hive_open(int dirfd, const char *name, hcs_reg_hive_file **out, hcs_error **err);
/* The same over a caller's buffer (not copied; kept until close), for fuzzing and tests. */
int hcs_reg_hive_open_mem(const void *data, size_t len, const char *name, hcs_reg_hive_file **out,
                          hcs_error **err);
/* Check the whole file: the body checksum, each record's bounds, order and encoding. */
int hcs_reg_hive_verify(const hcs_reg_hive_file *f, hcs_error **err);
enum hcs_reg_hive hcs_reg_hive_of(const hcs_reg_hive_file *f);
size_t hcs_reg_hive_records(const hcs_reg_hive_file *f);
hcs_reg_level hcs_reg_hive_level(const hcs_reg_hive_file *f);
void hcs_reg_hive_close(hcs_reg_hive_file *f);

/* --- the delta (delta.c) ------------------------------------------------------------------- */

/*
 * A system's writable level: an append-only log of changes, each record length-prefixed and
 * checksummed, fsync'd before hcs_reg_delta_apply returns (nothing acknowledged is lost), kept
 * in memory as a sorted level. Opening replays the log up to the last complete, valid record
 * and truncates what follows (a torn write at a crash).
 */
typedef struct hcs_reg_delta hcs_reg_delta;

/* Open (creating if missing) the log dirfd/name and replay it. */
int hcs_reg_delta_open(int dirfd, const char *name, hcs_reg_delta **out, hcs_error **err);
/* A delta with no file (a read-only root): changes live in memory only. */
int hcs_reg_delta_new_memory(hcs_reg_delta **out, hcs_error **err);
/* Check, then append and fsync changes as one record; then apply them in memory. All or none. */
int hcs_reg_delta_apply(hcs_reg_delta *d, const hcs_reg_change *changes, size_t n, hcs_error **err);
hcs_reg_level hcs_reg_delta_level(const hcs_reg_delta *d);
/*
 * Every record of hive h in the delta as changes that rebuild this level over an empty one
 * (hcs_reg_hive_write of them gives the same level, value tombstones on keys the delta holds
 * nothing else for included; walking the level's ops would miss those). *changes (an array of
 * *n, freed with free(); the strings and data point into the delta) is valid until the next
 * apply.
 */
int hcs_reg_delta_changes(const hcs_reg_delta *d, enum hcs_reg_hive h, hcs_reg_change **changes,
                          size_t *n, hcs_error **err);
void hcs_reg_delta_close(hcs_reg_delta *d);

/* --- views (view.c) ------------------------------------------------------------------------ */

typedef struct hcs_reg_view hcs_reg_view;

/*
 * A view of levels[0..n) (nearest first; the caller keeps them alive, e.g. the delta first,
 * then each layer's hive files). O(n): nothing is copied.
 */
int hcs_reg_view_new(const hcs_reg_level *levels, size_t n, hcs_reg_view **out, hcs_error **err);
void hcs_reg_view_free(hcs_reg_view *v);

/* Whether key exists in hive h of the view. */
bool hcs_reg_view_key_exists(const hcs_reg_view *v, enum hcs_reg_hive h, const char *key);
/*
 * Value (key, name): 1 found (*out's pointers valid while the levels are unchanged), 0 not
 * found, -1 out of memory (a key longer than 511 bytes needs a heap buffer).
 */
int hcs_reg_view_get(const hcs_reg_view *v, enum hcs_reg_hive h, const char *key, const char *name,
                     hcs_reg_value *out);
/* The key's subkeys (names as the nearest level spells them) and values, merged, sorted. */
int hcs_reg_view_subkeys(const hcs_reg_view *v, enum hcs_reg_hive h, const char *key,
                         int (*fn)(void *ctx, const char *name), void *ctx);
int hcs_reg_view_values(const hcs_reg_view *v, enum hcs_reg_hive h, const char *key,
                        int (*fn)(void *ctx, const hcs_reg_value *val), void *ctx);

/* --- .reg files (reg.c) -------------------------------------------------------------------- */

/*
 * Parse the text of a "Windows Registry Editor Version 5.00" file (UTF-8 here; a UTF-8 BOM is
 * allowed; CRLF or LF; "REGEDIT4" also accepted) into changes: [HKEY_LOCAL_MACHINE\SYSTEM\K]
 * (HKLM, HKEY_USERS\.DEFAULT for DefaultUser, ...), [-KEY], "name"=-, @=..., "name"="string",
 * dword:XXXXXXXX, hex:..., hex(0)..hex(b) and hex(N) for custom types, continuation lines
 * ending in '\\', comments (;). Errors name the line number and what was expected.
 * *changes (an array of n) and everything it points to are freed with hcs_reg_changes_free.
 */
int hcs_reg_parse(const char *text, size_t len, const char *what, hcs_reg_change **changes,
                  size_t *n, hcs_error **err);
void hcs_reg_changes_free(hcs_reg_change *changes, size_t n);

/* Write key (and, recursively, its subkeys) of hive h in view v as .reg text (caller frees). */
int hcs_reg_export(const hcs_reg_view *v, enum hcs_reg_hive h, const char *key, char **out,
                   size_t *len, hcs_error **err);

/* --- reg.exe command lines (cli.c) ---------------------------------------------------------- */

/*
 * The pieces of a reg.exe-style command line ("query KEY /v NAME /s", "add KEY /t REG_DWORD /d
 * 0x10 /f", ...) shared by the in-container server (serve.c) and `hcsdiag reg` on the host.
 * A parser returns HCS_REG_CLI_OK, or the kind of error with *msg (malloc'ed, the caller frees
 * it) saying what is wrong and naming the argument; the caller prints it its own way (a status
 * byte, an exit code, a prefix). Usage messages start with the verb ("add: /v needs a value");
 * HCS_REG_CLI_NOMEM comes with *msg NULL.
 */
enum hcs_reg_cli_status {
    HCS_REG_CLI_OK = 0,
    HCS_REG_CLI_USAGE,   /* a malformed command line: unknown, repeated or conflicting switch */
    HCS_REG_CLI_INVALID, /* a well-formed line with a wrong key or data */
    HCS_REG_CLI_NOMEM,
};

/* A KEY of the command line. */
typedef struct hcs_reg_cli_key {
    enum hcs_reg_hive hive;
    char *key;  /* below the hive's root, "" for the root; checked by hcs_reg_key_check */
    char *full; /* reg.exe's spelling of the root ("HKEY_LOCAL_MACHINE\SOFTWARE"), then key */
} hcs_reg_cli_key;

/* The roots a KEY may start with, and the /t TYPE names, as messages list them. */
#define HCS_REG_CLI_ROOTS                                                                          \
    "HKLM\\SYSTEM, HKLM\\SOFTWARE, HKLM\\SECURITY, HKLM\\SAM, HKU\\.DEFAULT (or "                  \
    "HKEY_LOCAL_MACHINE\\..., HKEY_USERS\\.DEFAULT)"
#define HCS_REG_CLI_TYPES                                                                          \
    "REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY, REG_NONE"

/* hcs_reg_cli_key_parse: also accept the schema's hive names ("Software\Acme"). */
#define HCS_REG_CLI_HIVE_NAMES 1u

/*
 * Parse KEY: HKLM\SYSTEM, HKLM\SOFTWARE, HKLM\SECURITY, HKLM\SAM or HKU\.DEFAULT (the first
 * component also spelled HKEY_LOCAL_MACHINE or HKEY_USERS; all case-insensitive), then the
 * subkeys; one trailing '\' is accepted, as reg.exe does. HCS_REG_CLI_INVALID for an unknown
 * root (the message lists the roots) or a key path hcs_reg_key_check refuses. Free k's strings
 * with hcs_reg_cli_key_free (also after a failure).
 */
int hcs_reg_cli_key_parse(const char *arg, unsigned flags, hcs_reg_cli_key *k, char **msg);
void hcs_reg_cli_key_free(hcs_reg_cli_key *k);

/* The switches of a command line; the strings point into its argv. */
typedef struct hcs_reg_cli_switches {
    const char *v;   /* /v NAME */
    const char *t;   /* /t TYPE */
    const char *d;   /* /d DATA */
    const char *sep; /* /s SEPARATOR (add) */
    bool ve, va, s, f, y;
    unsigned extra; /* bit i: extra[i] was given */
} hcs_reg_cli_switches;

/*
 * Parse argv[0..argc) as switches of verb ("query", "add", ...): /v /ve /va /s /t /d /f /y (or
 * -v ..., case-insensitive), each at most once, those not named in allowed (a space-separated
 * list: "v ve s") refused; /v, /t, /d take a value, and /s too when verb is "add" (the
 * REG_MULTI_SZ separator; elsewhere it is a flag: recurse). /v, /ve and /va exclude each other.
 * extra (NULL or a NULL-terminated list of at most 32 literal arguments, such as "--json") are
 * flags of the caller's own, marked in sw->extra, which may be repeated. HCS_REG_CLI_USAGE with
 * the message for anything else.
 */
int hcs_reg_cli_switches_parse(const char *verb, const char *const *argv, size_t argc,
                               const char *allowed, const char *const *extra,
                               hcs_reg_cli_switches *sw, char **msg);

/* The REG_* number of a /t TYPE (REG_SZ ... REG_NONE, case-insensitive); -1 when unknown. */
int hcs_reg_cli_type_parse(const char *name, uint32_t *type);
/* reg.exe's name of a REG_* number ("REG_DWORD", "REG_LINK", ...); NULL for custom types. */
const char *hcs_reg_cli_type_name(uint32_t type);

/*
 * The value an add sets, from sw: *type from /t (REG_SZ without it), *data (malloc'ed, len bytes
 * followed by one NUL that is no part of the data) from /d ("" without it) in the encoding of
 * the model: REG_DWORD and REG_QWORD decimal or 0x hexadecimal ("" is 0); REG_BINARY and
 * REG_NONE hex digits, two a byte; REG_MULTI_SZ strings separated by /s (one character) or
 * by the two characters "\0", a separator at the very end ending the list; strings as they
 * are. HCS_REG_CLI_USAGE for an unknown type, /s without REG_MULTI_SZ or a separator that is
 * not one character; HCS_REG_CLI_INVALID for data that does not fit the type, the message
 * naming the value as what ("Level in HKEY_LOCAL_MACHINE\SOFTWARE\Acme").
 */
int hcs_reg_cli_value_parse(const hcs_reg_cli_switches *sw, const char *what, uint32_t *type,
                            uint8_t **data, size_t *len, char **msg);

/* --- a compute system's registry (system.c, json.c, serve.c) -------------------------------- */

struct cJSON;

/* Where a layer keeps its hive files: <layer>/Hives/<Hive>_Delta (the names Windows uses). */
#define HCS_REG_HIVES_DIR "Hives"
#define HCS_REG_DELTA_SUFFIX "_Delta"
/* A writable layer's delta log: <writable layer>/Hives/delta.log. */
#define HCS_REG_DELTA_LOG "delta.log"

typedef struct hcs_reg_system hcs_reg_system;

/*
 * Open a system's registry: the hive files <layer>/Hives/<Hive>_Delta of each layer (nearest
 * first; a layer without Hives/ contributes nothing; plain folders too), under the delta log
 * delta_dir/delta.log (delta_dir created if missing; NULL: a delta in memory only, for a
 * read-only root). Cost O(layers): hive files are mapped, not read.
 */
int hcs_reg_system_open(const char *const *layers, size_t n, const char *delta_dir,
                        hcs_reg_system **out, hcs_error **err);
const hcs_reg_view *hcs_reg_system_view(const hcs_reg_system *s);
hcs_reg_delta *hcs_reg_system_delta(hcs_reg_system *s);
void hcs_reg_system_close(hcs_reg_system *s);

/*
 * Apply a RegistryChanges document ({"AddValues": [RegistryValue...], "DeleteKeys":
 * [RegistryKey...]}, already validated by the schema) to the system's delta as one batch.
 * what names it in messages ("Container.RegistryChanges"): a refused change names its field,
 * e.g. "Container.RegistryChanges.AddValues[2].BinaryValue: 2 MiB is over the 1 MiB limit".
 * DeleteKeys apply before AddValues (a document can clear a key and fill it again). A
 * MultiString's StringValue holds its strings separated by '\n' (a JSON string cannot carry the
 * NULs of REG_MULTI_SZ): "a\nb" is "a\0b\0", "" the empty list; queries answer the same way.
 * RegistryKey.Volatile is accepted and has no effect (every change is kept in the delta).
 */
int hcs_reg_apply_json(hcs_reg_system *s, const struct cJSON *changes, const char *what,
                       hcs_error **err);

/*
 * The answer to a registry query: {"Hive": "System", "Key": "...", "Subkeys": ["..."],
 * "Values": [RegistryValue...]} with values in the RegistryValue shape of the schema
 * (StringValue, DWordValue, QWordValue, BinaryValue base64, CustomType). A missing key gives
 * HCS_E_FILE_NOT_FOUND naming it.
 */
struct cJSON *hcs_reg_query_json(const hcs_reg_system *s, enum hcs_reg_hive h, const char *key,
                                 hcs_error **err);

/*
 * The in-container protocol (hcsreg <-> the monitor, over SOCK_SEQPACKET). A request is the
 * client's arguments as NUL-terminated strings, reg.exe style:
 *   query KEY [/v NAME | /ve] [/s]
 *   add KEY [/v NAME | /ve] [/t TYPE] [/s SEPARATOR] [/d DATA] [/f]
 *   delete KEY [/v NAME | /ve | /va] [/f]   export KEY        import <the .reg text>
 * KEY is HKLM\SYSTEM\..., HKEY_LOCAL_MACHINE\SOFTWARE\..., HKU\.DEFAULT\... (as in .reg files).
 * The answer is one status byte (0 success, 1 failure, 2 usage error) followed by the text to
 * print (reg.exe-like output, the .reg text of an export, or the error message).
 * The request travels in parts, one message each: a flag byte (HCS_REG_PART_MORE, or
 * HCS_REG_PART_LAST on the last) and at most HCS_REG_PART_MAX bytes of the request (an
 * unprivileged sender cannot send one message larger than its socket buffer, about 208 KiB by
 * default). The answer is one message (the monitor sizes its socket buffer for it).
 * hcs_reg_serve answers any request (*answer malloc'ed); -1 only when out of memory.
 */
#define HCS_REG_SERVE_MAX (8u << 20)
#define HCS_REG_PART_MAX (64u << 10)
#define HCS_REG_PART_MORE 'M'
#define HCS_REG_PART_LAST 'L'
int hcs_reg_serve(hcs_reg_system *s, const char *req, size_t len, char **answer,
                  size_t *answer_len);

#endif
