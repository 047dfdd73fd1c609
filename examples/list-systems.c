/*
 * list-systems - list compute systems, optionally filtered by a SystemQuery document.
 *
 *   list-systems                                  every system
 *   list-systems '{"Owners":["demo"]}'            only those created with Owner "demo"
 *
 * Build: cc list-systems.c $(pkg-config --cflags --libs hcs) -o list-systems
 */
#include <stdio.h>

#include <hcs.h>

int main(int argc, char **argv)
{
    const char *query = argc > 1 ? argv[1] : NULL;
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    if (op == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    char *result = NULL;
    HRESULT hr = HcsEnumerateComputeSystems(query, op);
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResult(op, HCS_INFINITE, &result);
    else
        HcsGetOperationResult(op, &result); /* the ResultError of the refused call */
    if (FAILED(hr)) {
        fprintf(stderr, "enumerate failed: 0x%08X %s\n", (unsigned)hr, result ? result : "");
    } else {
        printf("%s\n", result);
    }
    HcsFree(result);
    HcsCloseOperation(op);
    return FAILED(hr) ? 1 : 0;
}
