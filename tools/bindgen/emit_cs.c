/*
 * emit_cs.c - the C# P/Invoke layer (bindings/csharp/Native.g.cs) from the model of hcs.h.
 *
 * What it writes, in namespace Hcs.Interop:
 *   - HResults: every result code (constants whose type is HRESULT) as an int, and NameOf(int),
 *     the C name of a code;
 *   - Constants: the other integer #defines, typed by their width and signedness;
 *   - one C# enum per C enum, named after the integer typedef it belongs to and backed by it,
 *     with the C enumerator names;
 *   - the structs ([StructLayout(Sequential)], every pointer an IntPtr);
 *   - the callback types as Cdecl delegates;
 *   - Native: one [DllImport("hcs")] extern per function.
 * Marshalling follows bindings.md: strings in are LPUTF8Str; strings out are `out IntPtr` (the
 * caller decodes and frees them with HcsFree, never the marshaller); handles are IntPtr (the
 * idiomatic layer wraps them in SafeHandles); a non-const struct pointer parameter is an `out`
 * of the struct (the header's only ones are out-parameters), a const one a `ref`; inside
 * callbacks and structs every pointer stays an IntPtr, since the memory is borrowed.
 *
 * The text is built in memory and written only when every declaration could be expressed, so a
 * failure never leaves half a file. The output depends on the model only (deterministic).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bindgen.h"

/* C# reserved words: a C name that is one gets the verbatim prefix '@'. */
static const char *const cs_keywords[] = {
    "abstract", "as",         "base",    "bool",     "break",     "byte",     "case",
    "catch",    "char",       "checked", "class",    "const",     "continue", "decimal",
    "default",  "delegate",   "do",      "double",   "else",      "enum",     "event",
    "explicit", "extern",     "false",   "finally",  "fixed",     "float",    "for",
    "foreach",  "goto",       "if",      "implicit", "in",        "int",      "interface",
    "internal", "is",         "lock",    "long",     "namespace", "new",      "null",
    "object",   "operator",   "out",     "override", "params",    "private",  "protected",
    "public",   "readonly",   "ref",     "return",   "sbyte",     "sealed",   "short",
    "sizeof",   "stackalloc", "static",  "string",   "struct",    "switch",   "this",
    "throw",    "true",       "try",     "typeof",   "uint",      "ulong",    "unchecked",
    "unsafe",   "ushort",     "using",   "virtual",  "void",      "volatile", "while",
};

static const char *ident(const char *name, char *buf, size_t cap)
{
    for (size_t i = 0; i < sizeof(cs_keywords) / sizeof(cs_keywords[0]); i++) {
        if (strcmp(name, cs_keywords[i]) == 0) {
            snprintf(buf, cap, "@%s", name);
            return buf;
        }
    }
    return name;
}

static const char *shape_name(bg_shape s)
{
    switch (s) {
    case BG_VOID:
        return "void";
    case BG_INT:
        return "integer";
    case BG_STRING_IN:
        return "string in";
    case BG_STRING_OUT:
        return "string out (char **)";
    case BG_STRING_BORROWED:
        return "borrowed string";
    case BG_HANDLE:
        return "handle";
    case BG_HANDLE_OUT:
        return "handle out";
    case BG_POINTER:
        return "pointer";
    case BG_CALLBACK:
        return "callback";
    case BG_STRUCT_PTR:
        return "struct pointer";
    }
    return "unknown shape";
}

/* Print why decl cannot be expressed; returns -1. */
static int unsupported(const char *decl, const char *role, const char *name, const bg_type *t)
{
    fprintf(stderr, "bindgen: C#: %s: %s%s%s has type %s (%s), which the C# layer cannot express\n",
            decl, role, name ? " " : "", name ? name : "",
            t->c_spelling ? t->c_spelling : (t->type_name ? t->type_name : "?"),
            shape_name(t->shape));
    return -1;
}

static const char *int_type(int bits, bool is_signed)
{
    switch (bits) {
    case 8:
        return is_signed ? "sbyte" : "byte";
    case 16:
        return is_signed ? "short" : "ushort";
    case 32:
        return is_signed ? "int" : "uint";
    case 64:
        return is_signed ? "long" : "ulong";
    }
    return NULL;
}

/* The C# enum generated for the integer typedef type_name, or NULL. */
static const bg_enum *enum_for(const bg_api *api, const char *type_name)
{
    if (type_name == NULL)
        return NULL;
    for (size_t i = 0; i < api->nenums; i++) {
        if (api->enums[i].type_name != NULL && strcmp(api->enums[i].type_name, type_name) == 0)
            return &api->enums[i];
    }
    return NULL;
}

static const char *enum_cs_name(const bg_enum *e)
{
    const char *n = e->type_name ? e->type_name : e->name;
    return strncmp(n, "enum ", 5) == 0 ? n + 5 : n;
}

static const bg_alias *alias_for(const bg_api *api, const char *name)
{
    for (size_t i = 0; name != NULL && i < api->naliases; i++) {
        if (strcmp(api->aliases[i].name, name) == 0)
            return &api->aliases[i];
    }
    return NULL;
}

static bool has_callback(const bg_api *api, const char *name)
{
    for (size_t i = 0; name != NULL && i < api->ncallbacks; i++) {
        if (strcmp(api->callbacks[i].name, name) == 0)
            return true;
    }
    return false;
}

static bool has_struct(const bg_api *api, const char *name)
{
    for (size_t i = 0; name != NULL && i < api->nstructs; i++) {
        if (strcmp(api->structs[i].name, name) == 0)
            return true;
    }
    return false;
}

/* The C# spelling of an integer: its enum when the typedef has one, else the width. */
static const char *int_cs(const bg_api *api, const bg_type *t)
{
    const bg_enum *e = enum_for(api, t->type_name);
    if (e != NULL)
        return enum_cs_name(e);
    return int_type(t->int_bits, t->is_signed);
}

/* Where a type appears; each allows a different set of shapes. */
enum role { ROLE_RETURN, ROLE_PARAM, ROLE_CB_RETURN, ROLE_CB_PARAM, ROLE_FIELD };

/*
 * The C# type of t in role, written into buf (with its marshalling attribute or modifier), or
 * NULL when C# cannot express it. *is_ptr is set when the C# type hides a C pointer as IntPtr.
 */
static const char *cs_type(const bg_api *api, const bg_type *t, enum role role, char *buf,
                           size_t cap, bool *is_ptr)
{
    bool param = role == ROLE_PARAM || role == ROLE_CB_PARAM;
    *is_ptr = false;
    switch (t->shape) {
    case BG_VOID:
        return role == ROLE_RETURN || role == ROLE_CB_RETURN ? "void" : NULL;
    case BG_INT:
        return int_cs(api, t);
    case BG_STRING_IN:
        if (role == ROLE_PARAM)
            return "[MarshalAs(UnmanagedType.LPUTF8Str)] string";
        *is_ptr = true; /* a returned or borrowed const char *: the caller decodes it */
        return "IntPtr";
    case BG_STRING_BORROWED:
        *is_ptr = true;
        return role == ROLE_FIELD || role == ROLE_CB_PARAM ? "IntPtr" : NULL;
    case BG_STRING_OUT:
    case BG_HANDLE_OUT:
        return role == ROLE_PARAM ? "out IntPtr" : NULL;
    case BG_HANDLE:
    case BG_POINTER:
        *is_ptr = t->shape == BG_POINTER;
        return "IntPtr";
    case BG_CALLBACK:
        if (!param || !has_callback(api, t->type_name))
            return NULL;
        if (role == ROLE_CB_PARAM) {
            *is_ptr = true;
            return "IntPtr";
        }
        return t->type_name;
    case BG_STRUCT_PTR:
        if (!has_struct(api, t->type_name))
            return NULL;
        if (role == ROLE_PARAM) {
            snprintf(buf, cap, "%s %s", t->is_const ? "ref" : "out", t->type_name);
            return buf;
        }
        *is_ptr = true;
        return "IntPtr";
    }
    return NULL;
}

/* --- text helpers -------------------------------------------------------------------------- */

static void xml_text(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '&')
            fputs("&amp;", out);
        else if (s[i] == '<')
            fputs("&lt;", out);
        else if (s[i] == '>')
            fputs("&gt;", out);
        else
            fputc(s[i], out);
    }
}

/* One line of a doc text ([s, end)) without its trailing blanks: [*b, *e). The parser has
 * removed the comment markers already; leading blanks are kept (they indent lists). */
static void doc_line(const char *s, const char *end, const char **b, const char **e)
{
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *b = s;
    *e = end;
}

/* Write doc (a comment's text, lines separated by newlines) as a /// <summary>. */
static void put_doc(FILE *out, const char *indent, const char *doc)
{
    if (doc == NULL)
        return;
    /* Collect the non-empty extent of lines first, to drop leading and trailing blank ones. */
    const char *lines[256][2];
    size_t n = 0;
    for (const char *p = doc; *p != '\0' && n < 256;) {
        const char *nl = strchr(p, '\n');
        const char *end = nl ? nl : p + strlen(p);
        doc_line(p, end, &lines[n][0], &lines[n][1]);
        n++;
        p = nl ? nl + 1 : end;
    }
    size_t first = 0, last = n;
    while (first < last && lines[first][0] == lines[first][1])
        first++;
    while (last > first && lines[last - 1][0] == lines[last - 1][1])
        last--;
    if (first == last)
        return;
    if (last - first == 1) {
        fprintf(out, "%s/// <summary>", indent);
        xml_text(out, lines[first][0], (size_t)(lines[first][1] - lines[first][0]));
        fputs("</summary>\n", out);
        return;
    }
    fprintf(out, "%s/// <summary>\n", indent);
    for (size_t i = first; i < last; i++) {
        size_t len = (size_t)(lines[i][1] - lines[i][0]);
        fprintf(out, "%s///%s", indent, len ? " " : "");
        xml_text(out, lines[i][0], len);
        fputc('\n', out);
    }
    fprintf(out, "%s/// </summary>\n", indent);
}

/* The value of an integer constant or enumerator of C# type cs (bits wide, signed or not). */
static void put_int(FILE *out, const char *cs, int bits, bool is_signed, uint64_t v)
{
    uint64_t mask = bits >= 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    v &= mask;
    bool negative = is_signed && (v >> (bits - 1)) != 0;
    int digits = bits / 4;
    if (negative)
        fprintf(out, "unchecked((%s)0x%0*" PRIX64 ")", cs, digits, v);
    else if (v < 10000)
        fprintf(out, "%" PRIu64, v);
    else
        fprintf(out, "0x%0*" PRIX64, digits, v);
}

/* --- sections -------------------------------------------------------------------------------- */

static bool is_hresult(const bg_constant *c)
{
    return c->type_name != NULL && strcmp(c->type_name, "HRESULT") == 0;
}

static int emit_hresults(const bg_api *api, FILE *out)
{
    fputs("    /// <summary>The result codes of include/hcs.h (HRESULT, an int).</summary>\n"
          "    public static class HResults\n"
          "    {\n",
          out);
    bool any = false;
    for (size_t i = 0; i < api->nconstants; i++) {
        const bg_constant *c = &api->constants[i];
        if (!is_hresult(c))
            continue;
        if (c->int_bits != 32 || !c->is_signed) {
            fprintf(stderr, "bindgen: C#: %s: an HRESULT constant must be a signed 32-bit value\n",
                    c->name);
            return -1;
        }
        any = true;
        put_doc(out, "        ", c->doc);
        fprintf(out, "        public const int %s = ", c->name);
        uint32_t v = (uint32_t)c->bits;
        if (v & 0x80000000u)
            fprintf(out, "unchecked((int)0x%08" PRIX32 ");\n", v);
        else
            fprintf(out, "0x%08" PRIX32 ";\n", v);
    }
    if (any)
        fputc('\n', out);
    fputs("        /// <summary>The C name of a result code (the first one declared for its value),"
          " or null.</summary>\n"
          "        public static string NameOf(int hr)\n"
          "        {\n"
          "            switch (hr)\n"
          "            {\n",
          out);
    for (size_t i = 0; i < api->nconstants; i++) {
        const bg_constant *c = &api->constants[i];
        if (!is_hresult(c))
            continue;
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++)
            dup = is_hresult(&api->constants[k]) &&
                  (uint32_t)api->constants[k].bits == (uint32_t)c->bits;
        if (!dup)
            fprintf(out, "            case %s: return \"%s\";\n", c->name, c->name);
    }
    fputs("            default: return null;\n"
          "            }\n"
          "        }\n"
          "    }\n",
          out);
    return 0;
}

static int emit_constants(const bg_api *api, FILE *out)
{
    fputs("\n    /// <summary>The other integer constants of include/hcs.h.</summary>\n"
          "    public static class Constants\n"
          "    {\n",
          out);
    bool first = true;
    for (size_t i = 0; i < api->nconstants; i++) {
        const bg_constant *c = &api->constants[i];
        if (is_hresult(c))
            continue;
        const char *cs = int_type(c->int_bits, c->is_signed);
        if (cs == NULL) {
            fprintf(stderr, "bindgen: C#: %s: a %d-bit constant has no C# type\n", c->name,
                    c->int_bits);
            return -1;
        }
        if (!first && c->doc != NULL)
            fputc('\n', out);
        first = false;
        put_doc(out, "        ", c->doc);
        fprintf(out, "        public const %s %s = ", cs, c->name);
        put_int(out, cs, c->int_bits, c->is_signed, c->bits);
        fputs(";\n", out);
    }
    fputs("    }\n", out);
    return 0;
}

static int emit_enum(const bg_api *api, const bg_enum *e, FILE *out)
{
    int bits = 32;
    bool is_signed = true;
    const char *doc = e->doc;
    if (e->type_name != NULL) {
        const bg_alias *a = alias_for(api, e->type_name);
        if (a == NULL) {
            fprintf(stderr, "bindgen: C#: enum %s: its type %s is not an integer typedef\n",
                    e->name, e->type_name);
            return -1;
        }
        bits = a->int_bits;
        is_signed = a->is_signed;
        if (doc == NULL)
            doc = a->doc; /* the header documents the typedef the enum's values belong to */
    }
    const char *cs = int_type(bits, is_signed);
    if (cs == NULL) {
        fprintf(stderr, "bindgen: C#: enum %s: a %d-bit type has no C# equivalent\n", e->name,
                bits);
        return -1;
    }
    fputc('\n', out);
    put_doc(out, "    ", doc);
    fprintf(out, "    public enum %s : %s\n    {\n", enum_cs_name(e), cs);
    for (size_t i = 0; i < e->nvalues; i++) {
        const bg_enumerator *v = &e->values[i];
        bool fits = is_signed ? (bits == 64 || (v->value >= -((int64_t)1 << (bits - 1)) &&
                                                v->value < ((int64_t)1 << (bits - 1))))
                              : (v->value >= 0 && (bits == 64 || v->value < ((int64_t)1 << bits)));
        if (!fits) {
            fprintf(stderr, "bindgen: C#: %s: value %" PRId64 " does not fit %s (enum %s)\n",
                    v->name, v->value, cs, e->name);
            return -1;
        }
        put_doc(out, "        ", v->doc);
        fprintf(out, "        %s = ", v->name);
        if (is_signed)
            fprintf(out, "%" PRId64, v->value);
        else
            fprintf(out, "0x%0*" PRIX64, bits / 4, (uint64_t)v->value);
        fputs(i + 1 < e->nvalues ? ",\n" : "\n", out);
    }
    fputs("    }\n", out);
    return 0;
}

static int emit_struct(const bg_api *api, const bg_struct *s, FILE *out)
{
    fputc('\n', out);
    put_doc(out, "    ", s->doc);
    fprintf(out, "    [StructLayout(LayoutKind.Sequential)]\n    public struct %s\n    {\n",
            s->name);
    for (size_t i = 0; i < s->nfields; i++) {
        const bg_param *f = &s->fields[i];
        char buf[256], kw[128];
        bool is_ptr;
        const char *cs = cs_type(api, &f->type, ROLE_FIELD, buf, sizeof(buf), &is_ptr);
        if (cs == NULL)
            return unsupported(s->name, "field", f->name, &f->type);
        put_doc(out, "        ", f->doc);
        fprintf(out, "        public %s %s;", cs, ident(f->name, kw, sizeof(kw)));
        if (is_ptr && f->type.c_spelling != NULL)
            fprintf(out, " // %s", f->type.c_spelling);
        fputc('\n', out);
    }
    fputs("    }\n", out);
    return 0;
}

/* "(T a, U b)" for a function or callback; -1 if a parameter cannot be expressed. */
static int put_params(const bg_api *api, const char *decl, const bg_param *ps, size_t n,
                      enum role role, FILE *out)
{
    fputc('(', out);
    for (size_t i = 0; i < n; i++) {
        char buf[256], kw[128];
        bool is_ptr;
        const char *cs = cs_type(api, &ps[i].type, role, buf, sizeof(buf), &is_ptr);
        if (cs == NULL)
            return unsupported(decl, "parameter", ps[i].name, &ps[i].type);
        fprintf(out, "%s%s %s", i ? ", " : "", cs, ident(ps[i].name, kw, sizeof(kw)));
    }
    fputc(')', out);
    return 0;
}

static int emit_callback(const bg_api *api, const bg_callback *c, FILE *out)
{
    char buf[256];
    bool is_ptr;
    const char *ret = cs_type(api, &c->ret, ROLE_CB_RETURN, buf, sizeof(buf), &is_ptr);
    if (ret == NULL)
        return unsupported(c->name, "the return value", NULL, &c->ret);
    fputc('\n', out);
    put_doc(out, "    ", c->doc);
    fprintf(out,
            "    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]\n"
            "    public delegate %s %s",
            ret, c->name);
    if (put_params(api, c->name, c->params, c->nparams, ROLE_CB_PARAM, out) < 0)
        return -1;
    fputs(";\n", out);
    return 0;
}

static int emit_function(const bg_api *api, const bg_function *f, FILE *out)
{
    char buf[256];
    bool is_ptr;
    const char *ret = cs_type(api, &f->ret, ROLE_RETURN, buf, sizeof(buf), &is_ptr);
    if (ret == NULL)
        return unsupported(f->name, "the return value", NULL, &f->ret);
    fputc('\n', out);
    put_doc(out, "        ", f->doc);
    fprintf(out,
            "        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, "
            "ExactSpelling = true)]\n"
            "        public static extern %s %s",
            ret, f->name);
    if (put_params(api, f->name, f->params, f->nparams, ROLE_PARAM, out) < 0)
        return -1;
    fputs(";\n", out);
    return 0;
}

static int emit_all(const bg_api *api, FILE *out)
{
    fputs("// Code generated by tools/bindgen from include/hcs.h. DO NOT EDIT.\n"
          "// Regenerate with `make bindings`. The idiomatic API (namespace Hcs) is written by "
          "hand.\n"
          "\n"
          "using System;\n"
          "using System.Runtime.InteropServices;\n"
          "\n"
          "namespace Hcs.Interop\n"
          "{\n",
          out);
    if (emit_hresults(api, out) < 0 || emit_constants(api, out) < 0)
        return -1;
    for (size_t i = 0; i < api->nenums; i++) {
        if (emit_enum(api, &api->enums[i], out) < 0)
            return -1;
    }
    for (size_t i = 0; i < api->nstructs; i++) {
        if (emit_struct(api, &api->structs[i], out) < 0)
            return -1;
    }
    for (size_t i = 0; i < api->ncallbacks; i++) {
        if (emit_callback(api, &api->callbacks[i], out) < 0)
            return -1;
    }
    fputs("\n    /// <summary>\n"
          "    /// The functions of include/hcs.h.\n"
          "    /// A handle is an IntPtr (",
          out);
    for (size_t i = 0; i < api->nhandles; i++)
        fprintf(out, "%s%s", i ? ", " : "", api->handles[i].name);
    fputs(").\n"
          "    /// A char ** out-parameter is an IntPtr to decode as UTF-8 and free with HcsFree.\n"
          "    /// </summary>\n"
          "    public static class Native\n"
          "    {\n"
          "        /// <summary>The library name DllImport resolves (libhcs.so).</summary>\n"
          "        public const string Library = \"hcs\";\n",
          out);
    for (size_t i = 0; i < api->nfunctions; i++) {
        if (emit_function(api, &api->functions[i], out) < 0)
            return -1;
    }
    fputs("    }\n}\n", out);
    return 0;
}

int bg_emit_cs(const bg_api *api, FILE *out)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem == NULL) {
        perror("bindgen: C#: open_memstream");
        return -1;
    }
    int rc = emit_all(api, mem);
    if (fclose(mem) != 0) {
        perror("bindgen: C#: writing the output");
        rc = -1;
    }
    if (rc == 0 && fwrite(text, 1, len, out) != len) {
        perror("bindgen: C#: writing the output");
        rc = -1;
    }
    free(text);
    return rc;
}
