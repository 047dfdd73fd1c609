/*
 * union.h - private to lib/layer (and lib/ns, which builds container roots with it): the
 * overlay union with a choice of how layers reach the kernel, and the mounted root kept open.
 */
#ifndef HCS_LAYER_UNION_H
#define HCS_LAYER_UNION_H

#include "layer.h"

/* overlayfs' own stacking limit (OVL_MAX_STACK). */
#define HCS_LAYER_MAX_LOWERS 500

/* How the layers of a union are handed to overlayfs. */
enum hcs_layer_union_method {
    HCS_LAYER_UNION_AUTO = 0, /* the first one the kernel supports, in the order below */
    HCS_LAYER_UNION_FD,       /* fsconfig(FSCONFIG_SET_FD, "lowerdir+") per layer: Linux 6.13+ */
    HCS_LAYER_UNION_PLUS,     /* fsconfig("lowerdir+", "/proc/self/fd/N") per layer: Linux 6.8+ */
    HCS_LAYER_UNION_LEGACY,   /* mount(2), "lowerdir=/proc/self/fd/N:..." within one page */
};

/*
 * hcs_layer_mount_union with the method chosen: *mnt (may be NULL) receives a descriptor of the
 * mounted union's root (the caller closes it). A method this kernel lacks gives
 * HCS_E_NOT_SUPPORTED ("does not support" in the message).
 */
int hcs_layer_union_mount(const hcs_layer_union *u, enum hcs_layer_union_method method, int *mnt,
                          hcs_error **err);

/* Read the fs context log of fsfd into buf as "; "-separated messages ("" when empty). */
void hcs_layer_fs_log(int fsfd, char *buf, size_t size);

#endif
