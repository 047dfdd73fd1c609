/*
 * service-info - print what libhcs and this host offer: supported schema versions, library
 * version, cgroup mode, overlayfs, KVM, user namespaces, runtime and data roots.
 *
 * Build: cc service-info.c $(pkg-config --cflags --libs hcs) -o service-info
 */
#include <stdio.h>

#include <hcs.h>

int main(void)
{
    char *properties = NULL;
    HRESULT hr = HcsGetServiceProperties(NULL, &properties);
    if (FAILED(hr)) {
        fprintf(stderr, "HcsGetServiceProperties: 0x%08X %s\n", (unsigned)hr,
                properties ? properties : "");
        HcsFree(properties);
        return 1;
    }
    printf("%s\n", properties);
    HcsFree(properties);
    return 0;
}
