/*
 * async-callback - the asynchronous style: start a call with a completion callback and let the
 * callback read the result and close the operation (legal inside its own callback).
 *
 * Build: cc async-callback.c $(pkg-config --cflags --libs hcs) -lpthread -o async-callback
 */
#include <pthread.h>
#include <stdio.h>

#include <hcs.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int done;

static void on_complete(HCS_OPERATION op, void *context)
{
    const char *label = context;
    char *result = NULL;
    HRESULT hr = HcsGetOperationResult(op, &result);
    printf("%s finished on a library thread: 0x%08X %s\n", label, (unsigned)hr,
           result ? result : "");
    HcsFree(result);
    HcsCloseOperation(op);
    pthread_mutex_lock(&lock);
    done = 1;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&lock);
}

int main(void)
{
    HCS_OPERATION op = HcsCreateOperation((void *)"enumerate", on_complete);
    HRESULT hr = HcsEnumerateComputeSystems(NULL, op);
    if (FAILED(hr)) {
        fprintf(stderr, "enumerate was refused: 0x%08X\n", (unsigned)hr);
        HcsCloseOperation(op);
        return 1;
    }
    pthread_mutex_lock(&lock);
    while (!done)
        pthread_cond_wait(&done_cond, &lock);
    pthread_mutex_unlock(&lock);
    return 0;
}
