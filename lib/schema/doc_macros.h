/* doc_macros.h - shorthands for the schema tables (private to lib/schema). */
#ifndef HCS_SCHEMA_DOC_MACROS_H
#define HCS_SCHEMA_DOC_MACROS_H

#include <stddef.h>

#include "schema.h"

#define OFF(type, member) offsetof(type, member)
#define NOSTORE HCS_NOSTORE
#define END                                                                                        \
    {                                                                                              \
        .name = NULL                                                                               \
    }
/* A field of the HCS schema that has no meaning (yet) on Linux: refused by name, with why. */
#define UNSUPPORTED(fname, why)                                                                    \
    {                                                                                              \
        .name = (fname), .kind = HK_ANY, .flags = HF_UNSUPPORTED, .offset = NOSTORE, .note = (why) \
    }

#endif
