#include "CHeapStats.h"
#include <malloc.h>

size_t heap_stats_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

size_t heap_stats_held(void) {
    struct mallinfo2 info = mallinfo2();
    return info.arena + info.hblkhd;
}
