/* Heap figures for bench/scale-matrix.sh, preloaded into `mcdns serve` (LD_PRELOAD): a thread writes glibc's
 * mallinfo2() every half second to $MCDNS_BENCH_HEAP_FILE as "<sample number> <bytes in use> <bytes held>\n"
 * (written to a temporary name, then renamed, so a reader never sees half a line). The daemon does not expose
 * its heap itself. The thread never allocates (mallinfo2 and snprintf of integers do not), so it gets no malloc
 * arena of its own and the daemon's one-arena setting (HeapArenas) is unchanged. Bench use only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char path[4096];
static char temporary[4200];

static void *sample(void *unused) {
    (void)unused;
    for (unsigned long number = 1;; number++) {
        struct mallinfo2 info = mallinfo2();
        char line[128];
        int length = snprintf(line, sizeof line, "%lu %zu %zu\n", number, info.uordblks + info.hblkhd,
                              info.arena + info.hblkhd);
        int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            ssize_t written = write(fd, line, (size_t)length);
            close(fd);
            if (written == length) rename(temporary, path);
        }
        struct timespec pause = {0, 500000000};
        nanosleep(&pause, NULL);
    }
    return NULL;
}

__attribute__((constructor)) static void start(void) {
    const char *file = getenv("MCDNS_BENCH_HEAP_FILE");
    if (file == NULL || strlen(file) >= sizeof path) return;
    strcpy(path, file);
    snprintf(temporary, sizeof temporary, "%s.tmp", file);
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    pthread_create(&thread, &attributes, sample, NULL);
    pthread_attr_destroy(&attributes);
}
