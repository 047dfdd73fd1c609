/* pool.c - on-demand worker threads with an idle timeout. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "pool.h"

/*
 * An idle worker exits after this long. Short, because a managed runtime that ran a callback on
 * a worker may wait for it at exit (Mono 6.8 waits for every thread it attached, background or
 * not): a C# program that made an asynchronous call exits at most this long after its last one.
 * Long enough that a busy caller keeps its workers between calls.
 */
#define IDLE_EXIT_SECONDS 1

struct job {
    void (*fn)(void *);
    void *arg;
    struct job *next;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;
    struct job *head, *tail;
    int threads, idle, queued;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, 0};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* After fork() only the forking thread exists in the child: forget the parent's workers. */
static void pool_atfork_child(void)
{
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.work, NULL);
    pool.threads = pool.idle = pool.queued = 0;
    pool.head = pool.tail = NULL;
}

static void pool_init(void)
{
    pthread_atfork(NULL, NULL, pool_atfork_child);
}

static void *worker(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (pool.head == NULL) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += IDLE_EXIT_SECONDS;
            pool.idle++;
            int rc = pthread_cond_timedwait(&pool.work, &pool.lock, &until);
            pool.idle--;
            if (rc == ETIMEDOUT && pool.head == NULL) {
                pool.threads--;
                pthread_mutex_unlock(&pool.lock);
                return NULL;
            }
        }
        struct job *j = pool.head;
        pool.head = j->next;
        if (pool.head == NULL)
            pool.tail = NULL;
        pool.queued--;
        pthread_mutex_unlock(&pool.lock);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&pool.lock);
    }
}

int hcs_pool_submit(void (*fn)(void *arg), void *arg, hcs_error **err)
{
    pthread_once(&pool_once, pool_init);
    struct job *j = malloc(sizeof(*j));
    if (j == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory queueing work");
    j->fn = fn;
    j->arg = arg;
    j->next = NULL;
    pthread_mutex_lock(&pool.lock);
    /* Every queued job gets a thread of its own (up to the limit): work may wait on other work. */
    if (pool.queued >= pool.idle && pool.threads < HCS_POOL_MAX_THREADS) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* Workers never take signals meant for the application. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_t t;
        int rc = pthread_create(&t, &attr, worker, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (rc == 0) {
            pool.threads++;
        } else if (pool.threads == 0) {
            pthread_mutex_unlock(&pool.lock);
            free(j);
            return hcs_err_errno(err, rc, "start a library thread");
        }
    }
    if (pool.tail != NULL)
        pool.tail->next = j;
    else
        pool.head = j;
    pool.tail = j;
    pool.queued++;
    pthread_cond_signal(&pool.work);
    pthread_mutex_unlock(&pool.lock);
    return 0;
}

int hcs_pool_threads(void)
{
    pthread_mutex_lock(&pool.lock);
    int n = pool.threads;
    pthread_mutex_unlock(&pool.lock);
    return n;
}
