/* user.c - resolve a process's User against the container's passwd and group files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "silo.h"

static int parse_id(const char *s, unsigned long *out)
{
    if (s[0] == '\0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
        return -1;
    unsigned long v = strtoul(s, NULL, 10);
    if (v > 0x7FFFFFFFul)
        return -1;
    *out = v;
    return 0;
}

/* Find a passwd entry by name or uid. */
static int find_passwd(const char *path, const char *name, long uid, uid_t *out_uid, gid_t *out_gid,
                       char **home, char **user_name)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    int found = -1;
    while (found < 0 && getline(&line, &cap, f) > 0) {
        char *fields[7] = {0};
        char *p = line;
        for (int k = 0; k < 7 && p != NULL; k++)
            fields[k] = strsep(&p, ":\n");
        unsigned long u, g;
        if (fields[3] == NULL || parse_id(fields[2], &u) < 0 || parse_id(fields[3], &g) < 0)
            continue;
        if ((name != NULL && strcmp(fields[0], name) == 0) || (name == NULL && (long)u == uid)) {
            *out_uid = (uid_t)u;
            *out_gid = (gid_t)g;
            *home = strdup(fields[5] && fields[5][0] ? fields[5] : "/");
            *user_name = strdup(fields[0]);
            found = 0;
        }
    }
    free(line);
    fclose(f);
    return found;
}

/* Find a group by name (or -1), and collect the groups user_name is a member of. */
static int scan_groups(const char *path, const char *group_name, gid_t *group_out,
                       const char *user_name, hcs_user *u)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return group_name ? -1 : 0;
    char *line = NULL;
    size_t cap = 0;
    int found = group_name ? -1 : 0;
    while (getline(&line, &cap, f) > 0) {
        char *fields[4] = {0};
        char *p = line;
        for (int k = 0; k < 4 && p != NULL; k++)
            fields[k] = strsep(&p, ":\n");
        unsigned long g;
        if (fields[2] == NULL || parse_id(fields[2], &g) < 0)
            continue;
        if (group_name != NULL && strcmp(fields[0], group_name) == 0) {
            *group_out = (gid_t)g;
            found = 0;
        }
        if (user_name == NULL || fields[3] == NULL)
            continue;
        char *members = fields[3];
        for (char *m = strsep(&members, ","); m != NULL; m = strsep(&members, ",")) {
            if (strcmp(m, user_name) != 0)
                continue;
            gid_t *ng = realloc(u->groups, (u->n_groups + 1) * sizeof(gid_t));
            if (ng != NULL) {
                u->groups = ng;
                u->groups[u->n_groups++] = (gid_t)g;
            }
        }
    }
    free(line);
    fclose(f);
    return found;
}

void hcs_user_free(hcs_user *u)
{
    free(u->groups);
    free(u->home);
    memset(u, 0, sizeof(*u));
}

int hcs_user_resolve(const char *spec, const char *passwd_path, const char *group_path,
                     hcs_user *out, hcs_error **err)
{
    memset(out, 0, sizeof(*out));
    if (spec == NULL || spec[0] == '\0')
        spec = "0";
    AUTOFREE char *copy = strdup(spec);
    if (copy == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    char *group = strchr(copy, ':');
    if (group != NULL)
        *group++ = '\0';
    unsigned long id;
    AUTOFREE char *user_name = NULL;
    char *home = NULL;
    if (parse_id(copy, &id) == 0) {
        out->uid = (uid_t)id;
        out->gid = (gid_t)id;
        /* A numeric uid need not exist in passwd; when it does, take its group and home. */
        if (find_passwd(passwd_path, NULL, (long)id, &out->uid, &out->gid, &home, &user_name) < 0)
            home = strdup("/");
        if (user_name == NULL && group == NULL)
            out->gid = 0 == id ? 0 : (gid_t)id;
    } else if (find_passwd(passwd_path, copy, -1, &out->uid, &out->gid, &home, &user_name) < 0) {
        return hcs_err_set(err, E_INVALIDARG, "User: no user \"%s\" in the container's %s", copy,
                           passwd_path);
    }
    out->home = home;
    if (group != NULL) {
        if (parse_id(group, &id) == 0) {
            out->gid = (gid_t)id;
        } else if (scan_groups(group_path, group, &out->gid, NULL, out) < 0) {
            hcs_user_free(out);
            return hcs_err_set(err, E_INVALIDARG, "User: no group \"%s\" in the container's %s",
                               group, group_path);
        }
    }
    if (user_name != NULL)
        scan_groups(group_path, NULL, NULL, user_name, out);
    if (out->home == NULL) {
        hcs_user_free(out);
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    return 0;
}
