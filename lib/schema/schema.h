/*
 * schema.h - the table-driven document engine: JSON text -> validated C structs.
 *
 * A document type is a table of fields (name, kind, where the value is stored in the C struct,
 * limits). hcs_schema_parse() walks the cJSON tree against the table and fails on the first
 * problem with HCS_E_INVALID_JSON and a message that starts with the JSON path of the offending
 * field: `Container.Memory.SizeInMB: expected an unsigned integer, got "lots"`. Unknown fields are
 * refused with the nearest known name suggested; fields known from the HCS schema that libhcs
 * does not support on Linux are refused by name with the reason. JSON null counts as absent.
 *
 * Storage in the C struct, by kind (absent values stay zero):
 *   HK_BOOL     hcs_opt_bool        HK_U8..HK_U64  hcs_opt_u64     HK_I32/HK_I64  hcs_opt_i64
 *   HK_STRING   char *              HK_ENUM        int (0 absent, else 1 + index in enum_values)
 *   HK_OBJECT   T * (calloc'ed)     HK_ARRAY       hcs_array (items of the element's storage)
 *   HK_MAP      hcs_map             HK_ANY         cJSON * (a copy)
 *   HK_MARKER   hcs_opt_bool (an empty-object marker such as "Keyboard": {})
 * A field whose offset is HCS_NOSTORE is validated but not stored; with HF_KEEP_JSON an object
 * field is validated against its type and kept as a cJSON * copy instead of a struct.
 */
#ifndef HCS_SCHEMA_H
#define HCS_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/error.h"

enum hcs_kind {
    HK_NONE = 0,
    HK_BOOL,
    HK_STRING,
    HK_U8,
    HK_U16,
    HK_U32,
    HK_U64,
    HK_I32,
    HK_I64,
    HK_ENUM,
    HK_OBJECT,
    HK_ARRAY,
    HK_MAP,
    HK_ANY,
    HK_MARKER,
};

enum hcs_field_flags {
    HF_REQUIRED = 1 << 0,     /* must be present (and not null) */
    HF_UNSUPPORTED = 1 << 1,  /* known field, refused on Linux; `note` says why */
    HF_KEEP_JSON = 1 << 2,    /* HK_OBJECT: validate, store a cJSON * copy */
    HF_NONEMPTY = 1 << 3,     /* strings and arrays: must not be empty */
    HF_ABSOLUTE = 1 << 4,     /* strings: an absolute path */
    HF_NUMERIC_KEYS = 1 << 5, /* HK_MAP: keys are decimal unsigned integers */
};

#define HCS_NOSTORE ((size_t)-1)

typedef struct {
    bool set;
    bool value;
} hcs_opt_bool;

typedef struct {
    bool set;
    uint64_t value;
} hcs_opt_u64;

typedef struct {
    bool set;
    int64_t value;
} hcs_opt_i64;

typedef struct {
    void *items;
    size_t n;
} hcs_array;

typedef struct {
    char **keys;
    void *values;
    size_t n;
} hcs_map;

struct hcs_walk;
struct hcs_field;

typedef struct hcs_type {
    const char *name;               /* for messages: "Container" */
    size_t size;                    /* sizeof the C struct; 0 when nothing is stored */
    const struct hcs_field *fields; /* terminated by an entry whose name is NULL */
    /* Rules across fields, run after the fields parsed; obj may be NULL when size is 0. */
    int (*check)(const void *obj, const cJSON *json, struct hcs_walk *w);
} hcs_type;

typedef struct hcs_field {
    const char *name;
    uint8_t kind;                   /* enum hcs_kind */
    uint8_t elem;                   /* element kind for HK_ARRAY / HK_MAP */
    uint16_t flags;                 /* enum hcs_field_flags */
    size_t offset;                  /* in the parent struct, or HCS_NOSTORE */
    const hcs_type *type;           /* HK_OBJECT, or object elements */
    const char *const *values;      /* HK_ENUM (or enum elements): NULL-terminated names */
    const char *const *unsupported; /* enum values known but refused on Linux */
    const char *note;               /* HF_UNSUPPORTED: why; otherwise a hint in messages */
    int64_t min, max;               /* integer limits when min < max (inclusive) */
    size_t min_items, max_items;    /* array length limits when max_items > 0 */
} hcs_field;

/* The walk state: the error out-parameter and the JSON path of the current value. */
typedef struct hcs_walk {
    hcs_error **err;
    const char *doc; /* document name for root-level messages */
    char path[512];
    size_t len;
} hcs_walk;

/*
 * Parse text (NUL-terminated; NULL or "" means absent) as a document of type t named docname.
 * On success *out is a calloc'ed struct (free with hcs_schema_free), or NULL when the document
 * was absent and not required. With required set, an absent document is E_INVALIDARG.
 */
int hcs_schema_parse(const hcs_type *t, const char *text, const char *docname, bool required,
                     void **out, hcs_error **err);

/* Validate an already parsed JSON value against t, rooted at the JSON path `path`. */
int hcs_schema_parse_json(const hcs_type *t, const cJSON *json, const char *docname,
                          const char *path, void **out, hcs_error **err);

void hcs_schema_free(const hcs_type *t, void *obj);

/* Report an error at the current path plus an optional child name ("" for the value itself). */
int hcs_walk_fail(hcs_walk *w, const char *child, HRESULT hr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* True when a string document is absent (NULL, "" or only white space). */
bool hcs_doc_absent(const char *text);

/* The enum name stored as `v` (1-based) for a field's value list, or NULL. */
const char *hcs_enum_name(const char *const *values, int v);

#endif
