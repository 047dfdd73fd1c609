/*
 * ns.h - namespace virtualization: the mount tree, host name and loopback of a silo.
 *
 * These run inside the silo's init, already in new mount, uts, ipc, net and pid namespaces, as
 * root, before anything of the container runs.
 */
#ifndef HCS_NS_NS_H
#define HCS_NS_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

typedef struct hcs_ns_mount {
    const char *host_path;      /* absolute host path (file or folder) */
    const char *container_path; /* absolute path inside the container; created if missing */
    bool read_only;
} hcs_ns_mount;

typedef struct hcs_ns_root {
    /* Read-only layers, nearest parent first (overlayfs lowerdir order). At least one. */
    const char *const *layers;
    size_t n_layers;
    /*
     * The overlay upper and work folders of the writable layer (W/Files and W/Work of
     * Container.Storage.Path), both or neither: NULL for a read-only root. They must exist, on
     * one filesystem, as overlayfs needs.
     */
    const char *upper, *work;
    /*
     * Instead of layers: a folder bind-mounted read-write as the root, no overlay (the copy
     * backend's W/rootfs, or the union a caller attached there). layers, upper and work unset.
     */
    const char *bind;
    /* An empty folder where the root is assembled (under the system's runtime folder). */
    const char *mountpoint;
    const hcs_ns_mount *mounts; /* MappedDirectories */
    size_t n_mounts;
    /*
     * Paths hidden from the container (OCI linux.maskedPaths): /dev/null is bound over files,
     * an empty read-only tmpfs over folders; missing paths are skipped. NULL means the default
     * list (hcs_ns_default_masked_paths); a non-NULL array with n_masked_paths 0 masks nothing.
     */
    const char *const *masked_paths;
    size_t n_masked_paths;
    /* Paths made read-only (OCI linux.readonlyPaths); NULL means hcs_ns_default_readonly_paths. */
    const char *const *readonly_paths;
    size_t n_readonly_paths;
    /*
     * A host socket (the monitor's registry socket) bound at /dev/hcs-registry in the
     * container's /dev (a tmpfs of ours, so this works on a read-only root too); NULL: none.
     */
    const char *registry_socket;
} hcs_ns_root;

/* Docker's default masked paths (/proc/kcore, /proc/keys, /sys/firmware, ...); count in *n. */
const char *const *hcs_ns_default_masked_paths(size_t *n);

/* Docker's default read-only paths (/proc/bus, /proc/fs, /proc/irq, /proc/sys, ...). */
const char *const *hcs_ns_default_readonly_paths(size_t *n);

/*
 * Build the container's root and switch to it: make every mount private, mount the union of
 * the layers (overlayfs through hcs_layer_mount_union's code; a read-only bind mount for a
 * single read-only layer; a read-write bind mount of root->bind), mount /proc, a minimal /dev
 * (null, zero, full, random, urandom, tty: nodes of the host's devices, bind-mounted from the
 * host where mknod is refused; devpts with ptmx; shm; mqueue), /sys read-only, the mapped
 * directories (read-only honoured), mask /proc/kcore-style paths and make /proc/sys and friends
 * read-only as Docker does, then pivot_root and detach the old root. Afterwards no host mount is
 * visible. Errors name the path and step that failed.
 *
 * Paths inside the root are resolved inside it (openat2 RESOLVE_IN_ROOT): an image's symlink
 * cannot send a mount point or a created folder out of the root. Mapped container paths follow
 * symlinks inside the root (missing folders are created where they point); a symlink at /proc,
 * /dev or /sys itself is refused. A read-only root (upper NULL) must already contain the
 * mount points /proc, /dev, /sys and those of the mapped directories. Needs Linux 5.12+ (the
 * descriptor-based mount API); layer chains of any length (up to overlayfs' 500) on 6.8+, about
 * 200 layers on older kernels. On failure the mount namespace is left half-built: the caller
 * (the silo init) exits.
 */
int hcs_ns_enter_root(const hcs_ns_root *root, hcs_error **err);

/* Set the host name (uts namespace), at most 64 bytes. NULL or "" leaves it unchanged. */
int hcs_ns_set_hostname(const char *hostname, hcs_error **err);

/* Bring up "lo" in the current network namespace. */
int hcs_ns_loopback_up(hcs_error **err);

/* Join the network namespace at path (Networking.Namespace; a /run/netns/NAME file). */
int hcs_ns_join_net(const char *path, hcs_error **err);

/*
 * Mapped directories of a running silo (called by the monitor): mount m inside the mount
 * namespace of the init init_pid (the target resolved inside the container's root), or detach
 * what is mounted at container_path. Messages name the paths.
 */
int hcs_ns_hot_mount(pid_t init_pid, const hcs_ns_mount *m, hcs_error **err);
int hcs_ns_hot_unmount(pid_t init_pid, const char *container_path, hcs_error **err);

#endif
