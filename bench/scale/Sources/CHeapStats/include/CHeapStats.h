#include <stddef.h>

/// Bytes malloc has handed out and not had back (glibc's mallinfo2 uordblks + hblkhd): the heap in use, without
/// the free memory and fragmentation RSS also counts.
size_t heap_stats_in_use(void);
/// Bytes malloc holds from the system (arena + mmapped): what of RSS the heap accounts for.
size_t heap_stats_held(void);
