/* cmdline.c - CommandLine splitting by shell word rules, without expansion. */
#include <stdlib.h>
#include <string.h>

#include "silo.h"

void hcs_strv_free(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

int hcs_split_command_line(const char *line, char ***argv, size_t *argc, hcs_error **err)
{
    size_t len = strlen(line), n = 0, cap = 8;
    char **v = calloc(cap, sizeof(char *));
    char *word = malloc(len + 1);
    if (v == NULL || word == NULL) {
        free(v);
        free(word);
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    size_t i = 0;
    for (;;) {
        while (line[i] == ' ' || line[i] == '\t' || line[i] == '\n')
            i++;
        if (line[i] == '\0')
            break;
        size_t w = 0;
        while (line[i] != '\0' && line[i] != ' ' && line[i] != '\t' && line[i] != '\n') {
            char c = line[i];
            if (c == '\'') {
                size_t start = i++;
                while (line[i] != '\0' && line[i] != '\'')
                    word[w++] = line[i++];
                if (line[i] == '\0')
                    goto unterminated_single;
                i++;
                (void)start;
            } else if (c == '"') {
                size_t start = i++;
                while (line[i] != '\0' && line[i] != '"') {
                    if (line[i] == '\\' && strchr("\\\"$`\n", line[i + 1]) != NULL &&
                        line[i + 1] != '\0')
                        i++;
                    word[w++] = line[i++];
                }
                if (line[i] == '\0') {
                    hcs_err_set(err, E_INVALIDARG,
                                "CommandLine: the double quote at offset %zu is not closed", start);
                    goto fail;
                }
                i++;
            } else if (c == '\\') {
                if (line[i + 1] == '\0') {
                    hcs_err_set(err, E_INVALIDARG, "CommandLine: a backslash ends the line");
                    goto fail;
                }
                word[w++] = line[i + 1];
                i += 2;
            } else {
                word[w++] = c;
                i++;
            }
        }
        if (n + 2 > cap) {
            cap *= 2;
            char **nv = realloc(v, cap * sizeof(char *));
            if (nv == NULL) {
                hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
                goto fail;
            }
            v = nv;
        }
        v[n] = strndup(word, w);
        if (v[n] == NULL) {
            hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            goto fail;
        }
        v[++n] = NULL;
        continue;
    unterminated_single:
        hcs_err_set(err, E_INVALIDARG, "CommandLine: a single quote is not closed");
        goto fail;
    }
    free(word);
    if (n == 0) {
        free(v);
        return hcs_err_set(err, E_INVALIDARG, "CommandLine: no command in \"%s\"", line);
    }
    v[n] = NULL;
    *argv = v;
    if (argc != NULL)
        *argc = n;
    return 0;
fail:
    free(word);
    hcs_strv_free(v);
    return -1;
}
