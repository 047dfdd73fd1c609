/* store_id.c - compute system id validation with messages that name the offending byte. */
#include <stdio.h>
#include <string.h>

#include "store.h"

#define ID_RULES                                                                                   \
    "(ids are 1-128 characters: letters, digits, '-', '_', '.', '@', '+'; not starting with '.' "  \
    "or '-')"

/* At most this many bytes of an invalid id are quoted in a message. */
#define ID_SHOWN_MAX 64

static int id_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '@' || c == '+';
}

/* The id for a message, inside double quotes: \" \\ and \xNN escapes, long ids cut with "...". */
static void quote_id(const char *id, char *buf, size_t cap)
{
    size_t o = 0;
    size_t i = 0;
    buf[o++] = '"';
    for (; i < ID_SHOWN_MAX && id[i] != '\0'; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, cap - o, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02X", c);
    }
    if (id[i] != '\0')
        o += (size_t)snprintf(buf + o, cap - o, "...");
    snprintf(buf + o, cap - o, "\"");
}

/* One byte for a message, as the text between single quotes. */
static void describe_char(unsigned char c, char buf[8])
{
    if (c == '\'' || c == '\\')
        snprintf(buf, 8, "\\%c", c);
    else if (c >= 0x20 && c < 0x7f)
        snprintf(buf, 8, "%c", c);
    else
        snprintf(buf, 8, "\\x%02X", c);
}

int hcs_store_validate_id(const char *id, hcs_error **err)
{
    if (id == NULL)
        return hcs_err_set(err, E_INVALIDARG, "no id given " ID_RULES);
    if (id[0] == '\0')
        return hcs_err_set(err, E_INVALIDARG, "id \"\" is empty " ID_RULES);
    /* 4 bytes per escaped byte, the quotes, "..." and the NUL. */
    char shown[ID_SHOWN_MAX * 4 + 8];
    size_t len = strnlen(id, HCS_STORE_ID_MAX + 1);
    if (len > HCS_STORE_ID_MAX) {
        quote_id(id, shown, sizeof(shown));
        return hcs_err_set(err, E_INVALIDARG, "id %s: %zu bytes long, more than %d " ID_RULES,
                           shown, strlen(id), HCS_STORE_ID_MAX);
    }
    if (id[0] == '.' || id[0] == '-') {
        quote_id(id, shown, sizeof(shown));
        return hcs_err_set(err, E_INVALIDARG, "id %s: must not start with '%c' " ID_RULES, shown,
                           id[0]);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!id_char_ok(c)) {
            char what[8];
            quote_id(id, shown, sizeof(shown));
            describe_char(c, what);
            return hcs_err_set(err, E_INVALIDARG,
                               "id %s: character '%s' at offset %zu is not allowed " ID_RULES,
                               shown, what, i);
        }
    }
    return 0;
}
