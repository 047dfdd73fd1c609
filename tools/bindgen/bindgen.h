/*
 * bindgen.h - the model of include/hcs.h that the binding generator builds from the compiler's
 * own parse (clang -Xclang -ast-dump=json, plus the header's object-like #defines evaluated by
 * the compiler), and the emitters that turn it into the Go and C# binding layers.
 *
 * The parser maps every C type it meets onto one of the closed set of shapes below and fails
 * loudly (naming the declaration and the C type) on anything else, so a new, binding-hostile
 * declaration in the header breaks `make bindings` instead of producing a wrong binding.
 */
#ifndef HCS_BINDGEN_H
#define HCS_BINDGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The shape of a parameter, return value or struct field. */
typedef enum bg_shape {
    BG_VOID,            /* return type only */
    BG_INT,             /* an integer (int_bits, is_signed); type_name is its typedef if any */
    BG_STRING_IN,       /* const char *: UTF-8 in, may be NULL where the API allows */
    BG_STRING_OUT,      /* char **: a library-allocated UTF-8 string out, freed with HcsFree */
    BG_STRING_BORROWED, /* const char * struct field: valid while the struct is */
    BG_HANDLE,          /* an opaque handle typedef (type_name, e.g. HCS_SYSTEM) */
    BG_HANDLE_OUT,      /* pointer to an opaque handle (type_name is the handle) */
    BG_POINTER,         /* void * or const void * (context pointers, HcsFree's buffer) */
    BG_CALLBACK,        /* a function pointer typedef (type_name, see bg_api.callbacks) */
    BG_STRUCT_PTR,      /* pointer to a struct typedef (type_name, see bg_api.structs) */
} bg_shape;

typedef struct bg_type {
    bg_shape shape;
    const char *type_name;  /* typedef name as written in the header (HRESULT, uint32_t, ...) */
    int int_bits;           /* BG_INT: 8, 16, 32 or 64 */
    bool is_signed;         /* BG_INT */
    bool is_const;          /* BG_POINTER / BG_STRUCT_PTR: points to const */
    const char *c_spelling; /* the C type as clang printed it, for messages and comments */
} bg_type;

typedef struct bg_param {
    const char *name;
    bg_type type;
    const char *doc; /* struct fields: the trailing comment, or NULL; otherwise NULL */
} bg_param;

typedef struct bg_function {
    const char *name; /* HcsCreateComputeSystem */
    const char *doc;  /* the comment block before it in the header, or NULL */
    bg_type ret;
    bg_param *params;
    size_t nparams;
} bg_function;

/* A function pointer typedef: HCS_OPERATION_COMPLETION, HCS_EVENT_CALLBACK. */
typedef struct bg_callback {
    const char *name;
    const char *doc;
    bg_type ret;
    bg_param *params;
    size_t nparams;
} bg_callback;

/* A struct typedef: HCS_EVENT, HCS_PROCESS_INFORMATION (fields in order). */
typedef struct bg_struct {
    const char *name;
    const char *doc;
    bg_param *fields;
    size_t nfields;
} bg_struct;

/* An opaque handle typedef: HCS_SYSTEM, HCS_PROCESS, HCS_OPERATION, HCS_CALLBACK. */
typedef struct bg_handle {
    const char *name;
    const char *doc;
} bg_handle;

/* An integer typedef that is not a handle: HRESULT, HCS_OPERATION_TYPE, HCS_EVENT_TYPE, ... */
typedef struct bg_alias {
    const char *name;
    const char *doc;
    int int_bits;
    bool is_signed;
} bg_alias;

typedef struct bg_enumerator {
    const char *name;
    int64_t value;
    const char *doc; /* the trailing comment, or NULL */
} bg_enumerator;

/* An enum; type_name is the integer typedef it belongs to (HCS_OPERATION_TYPE for
 * enum HCS_OPERATION_TYPE_VALUES), or NULL when there is none. */
typedef struct bg_enum {
    const char *name;
    const char *type_name;
    const char *doc;
    bg_enumerator *values;
    size_t nvalues;
} bg_enum;

/* An object-like #define of include/hcs.h with an integer value, evaluated by the compiler.
 * type_name is HRESULT for result codes (S_OK, E_*, HCS_E_*), otherwise NULL; value holds the
 * bits (an HRESULT's as int32, an unsigned constant's as uint64 reinterpreted). A signed
 * constant's value is stored sign-extended to 64 bits, so (int64_t)bits is its value. */
typedef struct bg_constant {
    const char *name;
    const char *type_name;
    int int_bits;
    bool is_signed;
    uint64_t bits;
    const char *doc; /* the trailing or preceding comment, or NULL */
} bg_constant;

typedef struct bg_api {
    const char *header; /* the path parsed, as given */
    bg_function *functions;
    size_t nfunctions;
    bg_callback *callbacks;
    size_t ncallbacks;
    bg_struct *structs;
    size_t nstructs;
    bg_handle *handles;
    size_t nhandles;
    bg_alias *aliases;
    size_t naliases;
    bg_enum *enums;
    size_t nenums;
    bg_constant *constants;
    size_t nconstants;
} bg_api;

/* Parse header (with clang) into *api. Returns 0, or -1 after printing why to stderr.
 * Every doc member is the comment's text without its markers and without the " * " that starts
 * its lines, lines separated by '\n'. The program named by $CLANG (default clang) is used. */
int bg_parse(const char *header, bg_api *api);

/* Free everything bg_parse allocated (also after a failed parse) and zero *api. */
void bg_api_free(bg_api *api);

/* Write the Go layer (bindings/go) / the C# layer (bindings/csharp) for api to out.
 * Return 0, or -1 after printing why to stderr (a shape the language cannot express). */
int bg_emit_go(const bg_api *api, FILE *out);
int bg_emit_cs(const bg_api *api, FILE *out);

#endif /* HCS_BINDGEN_H */
