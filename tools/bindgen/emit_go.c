/*
 * emit_go.c - bg_emit_go: the raw Go layer of bindings/go (package hcs, file zhcs.go).
 *
 * What it writes, in this order: the cgo preamble (with a C wrapper for each function that takes
 * or returns a pointer-sized context, so that the integer-to-pointer cast happens in C), helpers,
 * the integer types (HRESULT and the enumeration types, named in Go style: HCS_OPERATION_TYPE ->
 * OperationType), the result codes with a name table, the other constants, the enumerators
 * (keeping their C names), the handle, callback and struct types, and one Go function per C
 * function. The Go mapping of parameters:
 *   const char *             string (a string holding a NUL byte is refused with E_INVALIDARG)
 *   char **                  an extra string result, copied and freed with HcsFree
 *   HANDLE, HANDLE *         the handle type (a struct around the C pointer), an extra result
 *   void *, const void *     uintptr (a cgo.Handle or 0), cast to a pointer in C
 *   STRUCT * (not const)     an extra result of the Go struct type
 *   callback typedef         the callback type (a C function pointer; see callbacks.go)
 * The output is gofmt-clean and depends only on the header.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bindgen.h"

#define PRE "bg_go_"

static const char *const go_keywords[] = {
    "break",  "case",        "chan", "const",   "continue", "default", "defer",
    "else",   "fallthrough", "for",  "func",    "go",       "goto",    "if",
    "import", "interface",   "map",  "package", "range",    "return",  "select",
    "struct", "switch",      "type", "var",     "hr",       "ret",     "ok",
};

/* A parameter name usable in Go (keywords and the names the wrappers use get a '_'). */
static void go_ident(char *buf, size_t cap, const char *name)
{
    for (size_t i = 0; i < sizeof(go_keywords) / sizeof(go_keywords[0]); i++)
        if (strcmp(name, go_keywords[i]) == 0) {
            snprintf(buf, cap, "%s_", name);
            return;
        }
    snprintf(buf, cap, "%s", name);
}

/* The C field name as cgo exposes it (Go keywords get a leading '_'). */
static void cgo_field(char *buf, size_t cap, const char *name)
{
    for (size_t i = 0; i < 25; i++) /* the Go keywords only */
        if (strcmp(name, go_keywords[i]) == 0) {
            snprintf(buf, cap, "_%s", name);
            return;
        }
    snprintf(buf, cap, "%s", name);
}

/* "c" + name with its first letter upper-cased: the local holding the C value. */
static void c_local(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "c%c%s", (char)((name[0] >= 'a' && name[0] <= 'z') ? name[0] - 32 : name[0]),
             name + 1);
}

static const bg_alias *find_alias(const bg_api *api, const char *name)
{
    for (size_t i = 0; name != NULL && i < api->naliases; i++)
        if (strcmp(api->aliases[i].name, name) == 0)
            return &api->aliases[i];
    return NULL;
}

/* Go name of an integer typedef: HRESULT stays; HCS_OPERATION_TYPE -> OperationType. */
static void alias_go_name(char *buf, size_t cap, const char *name)
{
    if (strncmp(name, "HCS_", 4) != 0) {
        snprintf(buf, cap, "%s", name);
        return;
    }
    size_t n = 0;
    bool up = true;
    for (const char *p = name + 4; *p && n + 1 < cap; p++) {
        if (*p == '_') {
            up = true;
            continue;
        }
        buf[n++] = up ? *p : (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
        up = false;
    }
    buf[n] = '\0';
}

static const char *go_int(int bits, bool is_signed)
{
    switch (bits) {
    case 8:
        return is_signed ? "int8" : "uint8";
    case 16:
        return is_signed ? "int16" : "uint16";
    case 32:
        return is_signed ? "int32" : "uint32";
    default:
        return is_signed ? "int64" : "uint64";
    }
}

/* The Go type of an integer (its typedef's Go name, or intN/uintN). */
static void go_int_type(const bg_api *api, const bg_type *t, char *buf, size_t cap)
{
    if (find_alias(api, t->type_name) != NULL)
        alias_go_name(buf, cap, t->type_name);
    else
        snprintf(buf, cap, "%s", go_int(t->int_bits, t->is_signed));
}

/* The cgo type of an integer: C.<typedef>, C.int, C.uint. */
static void c_int_type(const bg_type *t, char *buf, size_t cap)
{
    if (strcmp(t->type_name, "int") == 0)
        snprintf(buf, cap, "C.int");
    else if (strcmp(t->type_name, "unsigned int") == 0)
        snprintf(buf, cap, "C.uint");
    else
        snprintf(buf, cap, "C.%s", t->type_name);
}

static void put_doc(FILE *out, const char *indent, const char *doc)
{
    if (doc == NULL)
        return;
    for (const char *p = doc; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(out, "%s//%s%.*s\n", indent, n ? " " : "", (int)n, p);
        p += n + (nl != NULL);
    }
}

/* doc for the declaration name: prefixed with "name: " unless it starts with the name. */
static void put_named_doc(FILE *out, const char *indent, const char *name, const char *doc)
{
    if (doc == NULL)
        return;
    size_t n = strlen(name);
    if (strncmp(doc, name, n) == 0 &&
        !(doc[n] == '_' || (doc[n] >= 'A' && doc[n] <= 'Z') || (doc[n] >= 'a' && doc[n] <= 'z') ||
          (doc[n] >= '0' && doc[n] <= '9'))) {
        put_doc(out, indent, doc);
        return;
    }
    fprintf(out, "%s// %s: ", indent, name);
    const char *nl = strchr(doc, '\n');
    fprintf(out, "%.*s\n", (int)(nl ? (size_t)(nl - doc) : strlen(doc)), doc);
    if (nl != NULL)
        put_doc(out, indent, nl + 1);
}

static int unsupported(const char *decl, const char *what, const bg_type *t)
{
    fprintf(stderr, "bindgen: Go: %s: %s of C type '%s' has no Go mapping\n", decl, what,
            t->c_spelling ? t->c_spelling : "?");
    return -1;
}

static bool is_hresult(const bg_type *t)
{
    return t->shape == BG_INT && t->type_name && strcmp(t->type_name, "HRESULT") == 0;
}

/* --- preamble and helpers ----------------------------------------------------------------------
 */

static bool needs_wrapper(const bg_function *f)
{
    if (f->ret.shape == BG_POINTER)
        return true;
    for (size_t i = 0; i < f->nparams; i++)
        if (f->params[i].type.shape == BG_POINTER)
            return true;
    return false;
}

static void emit_wrapper(FILE *out, const bg_function *f)
{
    const char *ret = f->ret.shape == BG_POINTER ? "uintptr_t" : f->ret.c_spelling;
    fprintf(out, "static %s " PRE "%s(", ret, f->name);
    for (size_t i = 0; i < f->nparams; i++) {
        const bg_param *p = &f->params[i];
        const char *ct = p->type.shape == BG_POINTER ? "uintptr_t" : p->type.c_spelling;
        size_t n = strlen(ct);
        fprintf(out, "%s%s%s%s", i ? ", " : "", ct, ct[n - 1] == '*' ? "" : " ", p->name);
    }
    if (f->nparams == 0)
        fputs("void", out);
    fprintf(out, ")\n{\n    %s", f->ret.shape == BG_VOID ? "" : "return ");
    if (f->ret.shape == BG_POINTER)
        fputs("(uintptr_t)", out);
    fprintf(out, "%s(", f->name);
    for (size_t i = 0; i < f->nparams; i++) {
        const bg_param *p = &f->params[i];
        if (p->type.shape == BG_POINTER)
            fprintf(out, "%s(%svoid *)%s", i ? ", " : "", p->type.is_const ? "const " : "",
                    p->name);
        else
            fprintf(out, "%s%s", i ? ", " : "", p->name);
    }
    fputs(");\n}\n", out);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void emit_preamble(const bg_api *api, FILE *out)
{
    fprintf(out,
            "// Code generated by tools/bindgen from %s. DO NOT EDIT.\n"
            "\n"
            "// This file is the raw layer of package hcs: every constant, type and function of\n"
            "// hcs.h with Go types. Strings go in as Go strings and come out as Go strings (the\n"
            "// library's copy is freed with HcsFree); out-parameters become extra results;\n"
            "// void * contexts are uintptr values (a runtime/cgo.Handle, or 0) that are cast to\n"
            "// pointers in C. The idiomatic API (System, Process, ...) is built on it.\n"
            "\n"
            "package hcs\n"
            "\n"
            "/*\n"
            "#cgo !hcs_pkgconfig CFLAGS: -I${SRCDIR}/../../include\n"
            "#cgo !hcs_pkgconfig LDFLAGS: -L${SRCDIR}/../../build -lhcs\n"
            "#cgo hcs_pkgconfig pkg-config: hcs\n"
            "#include <stdint.h>\n"
            "#include <stdlib.h>\n"
            "#include <%s>\n",
            "include/hcs.h", base_name(api->header));
    bool any = false;
    for (size_t i = 0; i < api->nfunctions; i++) {
        if (!needs_wrapper(&api->functions[i]))
            continue;
        if (!any)
            fputs("\n// Pointer-sized contexts cross as uintptr_t and are cast here, in C, so that "
                  "Go never\n// turns an integer into a pointer.\n",
                  out);
        any = true;
        emit_wrapper(out, &api->functions[i]);
    }
    fputs("*/\n"
          "import \"C\"\n"
          "\n"
          "import (\n"
          "\t\"fmt\"\n"
          "\t\"unsafe\"\n"
          ")\n"
          "\n"
          "// cString returns s as a C string to free with C.free, or false when s holds a NUL\n"
          "// byte (C would silently cut the string there).\n"
          "func cString(s string) (*C.char, bool) {\n"
          "\tfor i := 0; i < len(s); i++ {\n"
          "\t\tif s[i] == 0 {\n"
          "\t\t\treturn nil, false\n"
          "\t\t}\n"
          "\t}\n"
          "\treturn C.CString(s), true\n"
          "}\n"
          "\n"
          "// takeString copies a string the library returned and frees it with HcsFree (NULL "
          "gives \"\").\n"
          "func takeString(p *C.char) string {\n"
          "\tif p == nil {\n"
          "\t\treturn \"\"\n"
          "\t}\n"
          "\ts := C.GoString(p)\n"
          "\tC.HcsFree(unsafe.Pointer(p))\n"
          "\treturn s\n"
          "}\n",
          out);
}

/* --- types and constants -----------------------------------------------------------------------
 */

static void emit_aliases(const bg_api *api, FILE *out)
{
    for (size_t i = 0; i < api->naliases; i++) {
        const bg_alias *a = &api->aliases[i];
        char gn[128];
        alias_go_name(gn, sizeof(gn), a->name);
        fputc('\n', out);
        if (strcmp(gn, a->name) != 0)
            fprintf(out, "// %s is the C type %s.\n", gn, a->name);
        if (a->doc != NULL && strcmp(gn, a->name) != 0) {
            fputs("//\n", out);
            put_doc(out, "", a->doc);
        } else {
            put_named_doc(out, "", a->name, a->doc);
        }
        fprintf(out, "type %s %s\n", gn, go_int(a->int_bits, a->is_signed));
    }
}

/* value as a Go literal of an integer bits wide (signed or not). */
static void put_value(FILE *out, int bits, bool is_signed, uint64_t v)
{
    if (is_signed)
        fprintf(out, "%" PRId64, (int64_t)v);
    else
        fprintf(out, "0x%0*" PRIX64, bits / 4, v);
}

static int emit_constants(const bg_api *api, FILE *out)
{
    bool have_hresult = find_alias(api, "HRESULT") != NULL;
    fputs("\n// Result codes (HRESULT values) of hcs.h.\n", out);
    for (size_t i = 0; i < api->nconstants; i++) {
        const bg_constant *k = &api->constants[i];
        if (k->type_name == NULL || strcmp(k->type_name, "HRESULT") != 0)
            continue;
        if (!have_hresult) {
            fprintf(stderr, "bindgen: Go: %s: the header has no HRESULT typedef\n", k->name);
            return -1;
        }
        fputc('\n', out);
        put_named_doc(out, "", k->name, k->doc);
        fprintf(out, "const %s HRESULT = ", k->name);
        put_value(out, 32, true, k->bits);
        if ((int64_t)k->bits < 0)
            fprintf(out, " // 0x%08" PRIX32, (uint32_t)k->bits);
        fputc('\n', out);
    }
    if (have_hresult) {
        fputs(
            "\n// String returns the name of a result code of hcs.h (\"HCS_E_SYSTEM_NOT_FOUND\"), "
            "or its\n// value in hex for any other.\n"
            "func (hr HRESULT) String() string {\n\tswitch hr {\n",
            out);
        for (size_t i = 0; i < api->nconstants; i++) {
            const bg_constant *k = &api->constants[i];
            if (k->type_name == NULL || strcmp(k->type_name, "HRESULT") != 0)
                continue;
            bool dup = false;
            for (size_t j = 0; j < i; j++)
                dup |= api->constants[j].type_name != NULL &&
                       strcmp(api->constants[j].type_name, "HRESULT") == 0 &&
                       (uint32_t)api->constants[j].bits == (uint32_t)k->bits;
            if (!dup)
                fprintf(out, "\tcase %s:\n\t\treturn \"%s\"\n", k->name, k->name);
        }
        fputs("\t}\n\treturn fmt.Sprintf(\"HRESULT(0x%08X)\", uint32(hr))\n}\n"
              "\n"
              "// Error makes an HRESULT an error value: \"HCS_E_SYSTEM_NOT_FOUND (0x8037010E)\". "
              "It is\n// also what errors.Is compares an *HcsError with.\n"
              "func (hr HRESULT) Error() string {\n"
              "\tif s := hr.String(); s[0] != 'H' || s[1] != 'R' {\n"
              "\t\treturn fmt.Sprintf(\"%s (0x%08X)\", s, uint32(hr))\n"
              "\t}\n"
              "\treturn hr.String()\n"
              "}\n"
              "\n"
              "// Failed reports whether hr is a failure (negative), like the FAILED macro.\n"
              "func (hr HRESULT) Failed() bool { return hr < 0 }\n"
              "\n"
              "// Succeeded reports whether hr is a success (0 or positive), like SUCCEEDED.\n"
              "func (hr HRESULT) Succeeded() bool { return hr >= 0 }\n",
              out);
    }
    fputs("\n// Other constants of hcs.h.\n", out);
    for (size_t i = 0; i < api->nconstants; i++) {
        const bg_constant *k = &api->constants[i];
        if (k->type_name != NULL && strcmp(k->type_name, "HRESULT") == 0)
            continue;
        fputc('\n', out);
        put_named_doc(out, "", k->name, k->doc);
        if (k->is_signed && k->int_bits == 32)
            fprintf(out, "const %s = ", k->name);
        else
            fprintf(out, "const %s %s = ", k->name, go_int(k->int_bits, k->is_signed));
        put_value(out, k->int_bits, k->is_signed, k->bits);
        fputc('\n', out);
    }
    return 0;
}

static int emit_enums(const bg_api *api, FILE *out)
{
    for (size_t i = 0; i < api->nenums; i++) {
        const bg_enum *e = &api->enums[i];
        const bg_alias *a = find_alias(api, e->type_name);
        char gn[128] = "";
        if (a != NULL)
            alias_go_name(gn, sizeof(gn), a->name);
        fprintf(out, "\n// The values of %s (enum %s).\n", a ? a->name : "the enumeration",
                e->name ? e->name : "(anonymous)");
        for (size_t j = 0; j < e->nvalues; j++) {
            const bg_enumerator *v = &e->values[j];
            if (a != NULL) {
                bool fits =
                    a->is_signed
                        ? (a->int_bits >= 64 || (v->value >= -((int64_t)1 << (a->int_bits - 1)) &&
                                                 v->value < ((int64_t)1 << (a->int_bits - 1))))
                        : (v->value >= 0 &&
                           (a->int_bits >= 64 || v->value < ((int64_t)1 << a->int_bits)));
                if (!fits) {
                    fprintf(stderr, "bindgen: Go: %s = %" PRId64 " does not fit its type %s\n",
                            v->name, v->value, a->name);
                    return -1;
                }
            }
            fputc('\n', out);
            put_named_doc(out, "", v->name, v->doc);
            if (a != NULL) {
                fprintf(out, "const %s %s = ", v->name, gn);
                if (a->is_signed)
                    fprintf(out, "%" PRId64 "\n", v->value);
                else
                    fprintf(out, "0x%0*" PRIX64 "\n", a->int_bits / 4, (uint64_t)v->value);
            } else {
                fprintf(out, "const %s = %" PRId64 "\n", v->name, v->value);
            }
        }
        if (a == NULL)
            continue;
        fprintf(out,
                "\n// String returns the C name of a %s value, or the number for others.\n"
                "func (v %s) String() string {\n\tswitch v {\n",
                gn, gn);
        for (size_t j = 0; j < e->nvalues; j++) {
            bool dup = false;
            for (size_t k = 0; k < j; k++)
                dup |= e->values[k].value == e->values[j].value;
            if (!dup)
                fprintf(out, "\tcase %s:\n\t\treturn \"%s\"\n", e->values[j].name,
                        e->values[j].name);
        }
        fprintf(out, "\t}\n\treturn fmt.Sprintf(\"%s(%%d)\", int64(v))\n}\n", gn);
    }
    return 0;
}

static void emit_handles(const bg_api *api, FILE *out)
{
    for (size_t i = 0; i < api->nhandles; i++) {
        const bg_handle *h = &api->handles[i];
        fprintf(out, "\n// %s is an opaque handle of the C library; the zero value is NULL.\n",
                h->name);
        if (h->doc != NULL)
            fputs("//\n", out);
        put_doc(out, "", h->doc);
        fprintf(out,
                "type %s struct{ h C.%s }\n"
                "\n"
                "// IsNil reports whether the handle is NULL.\n"
                "func (h %s) IsNil() bool { return h.h == nil }\n",
                h->name, h->name, h->name);
    }
}

static void emit_callbacks(const bg_api *api, FILE *out)
{
    for (size_t i = 0; i < api->ncallbacks; i++) {
        const bg_callback *cb = &api->callbacks[i];
        fprintf(out, "\n// %s is a C function pointer: %s (*)(", cb->name, cb->ret.c_spelling);
        for (size_t j = 0; j < cb->nparams; j++) {
            const char *ct = cb->params[j].type.c_spelling;
            fprintf(out, "%s%s%s%s", j ? ", " : "", ct, ct[strlen(ct) - 1] == '*' ? "" : " ",
                    cb->params[j].name);
        }
        fputs("). Go\n// code passes one of the package's C trampolines (callbacks.go); the zero "
              "value is NULL.\n",
              out);
        if (cb->doc != NULL)
            fputs("//\n", out);
        put_doc(out, "", cb->doc);
        fprintf(out,
                "type %s struct{ fn C.%s }\n"
                "\n"
                "// IsNil reports whether the function pointer is NULL.\n"
                "func (c %s) IsNil() bool { return c.fn == nil }\n",
                cb->name, cb->name, cb->name);
    }
}

/* Go type of a struct field, and the expression converting the C field c.<cf> to it. */
static int field_go(const bg_api *api, const bg_struct *s, const bg_param *f, char *gt, size_t gtc,
                    char *expr, size_t ec)
{
    char cf[128];
    cgo_field(cf, sizeof(cf), f->name);
    switch (f->type.shape) {
    case BG_INT:
        go_int_type(api, &f->type, gt, gtc);
        snprintf(expr, ec, "%s(c.%s)", gt, cf);
        return 0;
    case BG_STRING_BORROWED:
        snprintf(gt, gtc, "string");
        snprintf(expr, ec, "C.GoString(c.%s)", cf);
        return 0;
    case BG_HANDLE:
        snprintf(gt, gtc, "%s", f->type.type_name);
        snprintf(expr, ec, "%s{c.%s}", gt, cf);
        return 0;
    case BG_POINTER:
        snprintf(gt, gtc, "uintptr");
        snprintf(expr, ec, "uintptr(c.%s)", cf);
        return 0;
    default:
        return unsupported(s->name, f->name, &f->type);
    }
}

static int emit_structs(const bg_api *api, FILE *out)
{
    for (size_t i = 0; i < api->nstructs; i++) {
        const bg_struct *s = &api->structs[i];
        char gt[128], expr[256];
        fprintf(out, "\n// %s is a Go copy of the C struct %s (strings copied).\n", s->name,
                s->name);
        if (s->doc != NULL)
            fputs("//\n", out);
        put_doc(out, "", s->doc);
        fprintf(out, "type %s struct {\n", s->name);
        for (size_t j = 0; j < s->nfields; j++) {
            const bg_param *f = &s->fields[j];
            if (field_go(api, s, f, gt, sizeof(gt), expr, sizeof(expr)) != 0)
                return -1;
            if (j > 0)
                fputc('\n', out);
            put_named_doc(out, "\t", f->name, f->doc);
            fprintf(out, "\t%s %s\n", f->name, gt);
        }
        fprintf(out,
                "}\n"
                "\n"
                "// go%s copies a C %s into Go memory.\n"
                "func go%s(c *C.%s) %s {\n"
                "\treturn %s{\n",
                s->name, s->name, s->name, s->name, s->name, s->name);
        int width = 0; /* gofmt aligns the values of a keyed literal */
        for (size_t j = 0; j < s->nfields; j++)
            if ((int)strlen(s->fields[j].name) > width)
                width = (int)strlen(s->fields[j].name);
        for (size_t j = 0; j < s->nfields; j++) {
            if (field_go(api, s, &s->fields[j], gt, sizeof(gt), expr, sizeof(expr)) != 0)
                return -1;
            fprintf(out, "\t\t%s:%*s%s,\n", s->fields[j].name,
                    width - (int)strlen(s->fields[j].name) + 1, "", expr);
        }
        fputs("\t}\n}\n", out);
    }
    return 0;
}

/* --- functions ---------------------------------------------------------------------------------
 */

static bool is_out(const bg_type *t)
{
    return t->shape == BG_STRING_OUT || t->shape == BG_HANDLE_OUT ||
           (t->shape == BG_STRUCT_PTR && !t->is_const);
}

static int emit_function(const bg_api *api, const bg_function *f, FILE *out)
{
    char gt[128], id[128], cl[140];
    bool hres = is_hresult(&f->ret);
    const char *retvar = hres ? "hr" : "ret";
    /* Check every shape first. */
    for (size_t i = 0; i < f->nparams; i++) {
        const bg_type *t = &f->params[i].type;
        if (t->shape == BG_STRUCT_PTR && t->is_const)
            return unsupported(f->name, f->params[i].name, t);
        if (t->shape == BG_STRING_BORROWED || t->shape == BG_VOID)
            return unsupported(f->name, f->params[i].name, t);
    }
    if (f->ret.shape != BG_VOID && f->ret.shape != BG_INT && f->ret.shape != BG_HANDLE &&
        f->ret.shape != BG_POINTER)
        return unsupported(f->name, "the return value", &f->ret);

    fputc('\n', out);
    put_doc(out, "", f->doc);
    fprintf(out, "func %s(", f->name);
    bool first = true;
    for (size_t i = 0; i < f->nparams; i++) {
        const bg_param *p = &f->params[i];
        if (is_out(&p->type))
            continue;
        go_ident(id, sizeof(id), p->name);
        switch (p->type.shape) {
        case BG_INT:
            go_int_type(api, &p->type, gt, sizeof(gt));
            break;
        case BG_STRING_IN:
            snprintf(gt, sizeof(gt), "string");
            break;
        case BG_HANDLE:
        case BG_CALLBACK:
            snprintf(gt, sizeof(gt), "%s", p->type.type_name);
            break;
        case BG_POINTER:
            snprintf(gt, sizeof(gt), "uintptr");
            break;
        default:
            return unsupported(f->name, p->name, &p->type);
        }
        fprintf(out, "%s%s %s", first ? "" : ", ", id, gt);
        first = false;
    }
    fputs(")", out);
    /* Results. */
    size_t nres = 0;
    char results[2048] = "";
    size_t rl = 0;
    if (f->ret.shape != BG_VOID) {
        if (f->ret.shape == BG_INT)
            go_int_type(api, &f->ret, gt, sizeof(gt));
        else if (f->ret.shape == BG_HANDLE)
            snprintf(gt, sizeof(gt), "%s", f->ret.type_name);
        else
            snprintf(gt, sizeof(gt), "uintptr");
        rl += (size_t)snprintf(results + rl, sizeof(results) - rl, "%s %s", retvar, gt);
        nres++;
    }
    for (size_t i = 0; i < f->nparams; i++) {
        const bg_param *p = &f->params[i];
        if (!is_out(&p->type))
            continue;
        go_ident(id, sizeof(id), p->name);
        const char *t = p->type.shape == BG_STRING_OUT ? "string" : p->type.type_name;
        rl += (size_t)snprintf(results + rl, sizeof(results) - rl, "%s%s %s", nres ? ", " : "", id,
                               t);
        nres++;
    }
    if (nres == 1 && f->ret.shape != BG_VOID)
        fprintf(out, " (%s) {\n", results);
    else if (nres > 0)
        fprintf(out, " (%s) {\n", results);
    else
        fputs(" {\n", out);

    /* Locals. */
    for (size_t i = 0; i < f->nparams; i++) {
        const bg_param *p = &f->params[i];
        go_ident(id, sizeof(id), p->name);
        c_local(cl, sizeof(cl), id);
        switch (p->type.shape) {
        case BG_STRING_IN:
            fprintf(out, "\t%s, ok := cString(%s)\n\tif !ok {\n", cl, id);
            if (hres)
                fputs("\t\thr = E_INVALIDARG\n", out);
            fprintf(out, "\t\treturn\n\t}\n\tdefer C.free(unsafe.Pointer(%s))\n", cl);
            break;
        case BG_STRING_OUT:
            fprintf(out, "\tvar %s *C.char\n", cl);
            break;
        case BG_HANDLE_OUT:
        case BG_STRUCT_PTR:
            fprintf(out, "\tvar %s C.%s\n", cl, p->type.type_name);
            break;
        default:
            break;
        }
    }
    /* The call. */
    fputc('\t', out);
    if (f->ret.shape == BG_INT) {
        go_int_type(api, &f->ret, gt, sizeof(gt));
        fprintf(out, "%s = %s(", retvar, gt);
    } else if (f->ret.shape == BG_HANDLE) {
        fprintf(out, "%s = %s{", retvar, f->ret.type_name);
    } else if (f->ret.shape == BG_POINTER) {
        fprintf(out, "%s = uintptr(", retvar);
    }
    fprintf(out, "C.%s%s(", needs_wrapper(f) ? PRE : "", f->name);
    for (size_t i = 0; i < f->nparams; i++) {
        const bg_param *p = &f->params[i];
        go_ident(id, sizeof(id), p->name);
        c_local(cl, sizeof(cl), id);
        if (i)
            fputs(", ", out);
        switch (p->type.shape) {
        case BG_INT:
            c_int_type(&p->type, gt, sizeof(gt));
            fprintf(out, "%s(%s)", gt, id);
            break;
        case BG_STRING_IN:
            fputs(cl, out);
            break;
        case BG_STRING_OUT:
        case BG_HANDLE_OUT:
        case BG_STRUCT_PTR:
            fprintf(out, "&%s", cl);
            break;
        case BG_HANDLE:
            fprintf(out, "%s.h", id);
            break;
        case BG_CALLBACK:
            fprintf(out, "%s.fn", id);
            break;
        case BG_POINTER:
            fprintf(out, "C.uintptr_t(%s)", id);
            break;
        default:
            return unsupported(f->name, p->name, &p->type);
        }
    }
    fputs(")", out);
    if (f->ret.shape == BG_INT || f->ret.shape == BG_POINTER)
        fputs(")", out);
    else if (f->ret.shape == BG_HANDLE)
        fputs("}", out);
    fputc('\n', out);
    /* Outputs. */
    for (size_t i = 0; i < f->nparams; i++) {
        const bg_param *p = &f->params[i];
        go_ident(id, sizeof(id), p->name);
        c_local(cl, sizeof(cl), id);
        if (p->type.shape == BG_STRING_OUT)
            fprintf(out, "\t%s = takeString(%s)\n", id, cl);
        else if (p->type.shape == BG_HANDLE_OUT)
            fprintf(out, "\t%s = %s{%s}\n", id, p->type.type_name, cl);
        else if (p->type.shape == BG_STRUCT_PTR)
            fprintf(out, "\t%s = go%s(&%s)\n", id, p->type.type_name, cl);
    }
    if (nres > 0)
        fputs("\treturn\n", out);
    fputs("}\n", out);
    return 0;
}

int bg_emit_go(const bg_api *api, FILE *out)
{
    bool string_out = false, have_free = false;
    for (size_t i = 0; i < api->nfunctions; i++) {
        const bg_function *f = &api->functions[i];
        for (size_t j = 0; j < f->nparams; j++)
            string_out |= f->params[j].type.shape == BG_STRING_OUT;
        have_free |= strcmp(f->name, "HcsFree") == 0 && f->nparams == 1 &&
                     f->params[0].type.shape == BG_POINTER;
    }
    if (!have_free) {
        fprintf(stderr,
                "bindgen: Go: %s has no HcsFree(void *): the layer frees library "
                "strings with it\n",
                api->header);
        return -1;
    }
    (void)string_out;
    emit_preamble(api, out);
    fputs(
        "\n// --- Types -----------------------------------------------------------------------\n",
        out);
    emit_aliases(api, out);
    fputs(
        "\n// --- Constants -------------------------------------------------------------------\n",
        out);
    if (emit_constants(api, out) != 0 || emit_enums(api, out) != 0)
        return -1;
    fputs("\n// --- Handles, callbacks and structures "
          "---------------------------------------------\n",
          out);
    emit_handles(api, out);
    emit_callbacks(api, out);
    if (emit_structs(api, out) != 0)
        return -1;
    fputs(
        "\n// --- Functions -------------------------------------------------------------------\n",
        out);
    for (size_t i = 0; i < api->nfunctions; i++)
        if (emit_function(api, &api->functions[i], out) != 0)
            return -1;
    return ferror(out) ? -1 : 0;
}
