/*
 * ns_internal.h - private helpers of lib/ns, shared by its files (and its integration tests).
 *
 * Everything here works on file descriptors with the new mount API (fsopen, fsmount,
 * open_tree, move_mount, mount_setattr; Linux 5.12+) so that no path inside the container's
 * root is ever resolved by the host's rules: targets are opened with openat2(RESOLVE_IN_ROOT)
 * and mounts are attached to those descriptors.
 */
#ifndef HCS_NS_NS_INTERNAL_H
#define HCS_NS_NS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "layer/union.h"
#include "ns.h"

/* openat2(rootfd, path, flags | O_CLOEXEC) resolving inside rootfd; -1 with errno on failure. */
int hcs_ns_open_in_root(int rootfd, const char *path, int flags);

/*
 * Open (O_PATH) the mount target path inside the root rootfd, creating missing folders (0755)
 * and, when folder is false, an empty final file. Symlinks are followed inside the root only.
 * where is the root's host path, used in messages.
 */
int hcs_ns_make_target(int rootfd, const char *where, const char *path, bool folder, int *out,
                       hcs_error **err);

/*
 * Create a detached mount of a new fstype filesystem: options is a NULL-terminated list of
 * key, value pairs (value NULL for a flag), attrs MOUNT_ATTR_* flags. The kernel's own messages
 * (the fs context log) are appended to errors.
 */
int hcs_ns_new_fs(const char *fstype, const char *const *options, unsigned int attrs, int *out,
                  hcs_error **err);

/* A detached copy of the mount tree at dirfd/path (recursive or not), attrs set on it. */
int hcs_ns_clone_tree(int dirfd, const char *path, bool recursive, unsigned int attrs, int *out,
                      hcs_error **err);

/* Attach the detached mount mntfd on the target opened as targetfd. */
int hcs_ns_attach(int mntfd, int targetfd);

/*
 * Check the layers and the writable layer's folders and mount the root at root->mountpoint:
 * their overlay union (lib/layer/union.c, layers handed over as method says), a read-only bind
 * mount for one layer without upper, or a read-write bind mount of root->bind. *rootfd receives
 * an O_PATH descriptor of the mounted root.
 */
int hcs_ns_mount_union(const hcs_ns_root *root, enum hcs_layer_union_method method, int *rootfd,
                       hcs_error **err);

/* Mount the minimal /dev inside the root (tmpfs, host device nodes, devpts, shm, mqueue). */
int hcs_ns_mount_dev(int rootfd, const char *where, const char *registry_socket, hcs_error **err);

/*
 * Open the top-level folder name ("proc", "dev", "sys") of the root, creating it if missing.
 * A symlink there is refused: the kernel's file systems are mounted on real folders only.
 */
int hcs_ns_system_target(int rootfd, const char *where, const char *name, int *out,
                         hcs_error **err);

#endif
