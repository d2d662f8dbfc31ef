#ifndef MCDNS_SYS_H
#define MCDNS_SYS_H
// recvmmsg/sendmmsg are behind _GNU_SOURCE and not visible through Swift's Glibc module;
// these thin wrappers expose them together with the batch buffers the UDP loop needs.
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One batch of datagrams: `count` buffers of `bufferSize` bytes, with their iovecs, headers and peer addresses.
typedef struct mcdns_batch mcdns_batch;

mcdns_batch *mcdns_batch_create(int count, int bufferSize);
void mcdns_batch_destroy(mcdns_batch *batch);

/// Blocks until at least one datagram arrives (or the socket's receive timeout passes / it is shut down),
/// then returns how many were read (>= 0), or -1 with errno set.
int mcdns_batch_recv(int fd, mcdns_batch *batch);
/// Sends the first `count` entries; entries whose length is 0 are skipped. Returns how many were sent, or -1.
int mcdns_batch_send(int fd, mcdns_batch *batch, int count);

uint8_t *mcdns_batch_in(mcdns_batch *batch, int index);
size_t mcdns_batch_in_length(mcdns_batch *batch, int index);
/// Non-zero when datagram `index` was larger than the buffer and arrived cut short (MSG_TRUNC).
int mcdns_batch_in_truncated(mcdns_batch *batch, int index);
uint8_t *mcdns_batch_out(mcdns_batch *batch, int index);
void mcdns_batch_set_out_length(mcdns_batch *batch, int index, size_t length);
const struct sockaddr_storage *mcdns_batch_peer(mcdns_batch *batch, int index);
/// The peer of datagram `index` as numbers: returns 4 with `*v4` set (host byte order), 6 with `*high`/`*low` set
/// (the address's two halves, most significant first), or 0 for another family. IPv4-mapped IPv6 reports 4.
int mcdns_batch_peer_address(mcdns_batch *batch, int index, uint32_t *v4, uint64_t *high, uint64_t *low);
int mcdns_batch_buffer_size(mcdns_batch *batch);

/// A UDP socket bound to host:port (IPv4 or IPv6 literal) with SO_REUSEPORT, and a receive timeout.
/// Returns the fd or -1 with errno set. `port` 0 picks a free one; read it back with mcdns_socket_port.
int mcdns_udp_socket(const char *host, int port, int receiveTimeoutMillis);
int mcdns_socket_port(int fd);

/// Names the calling thread (pthread_setname_np is also behind _GNU_SOURCE); longer names are cut to 15 bytes.
void mcdns_thread_set_name(const char *name);

/// Sets the calling thread's nice value (Linux schedules threads one by one: setpriority on the thread's id);
/// returns 0, or the errno. Raising it needs no privilege.
int mcdns_thread_set_nice(int nice);

/// Asks for the cache line at `address` without waiting for it (the UDP loop prefetches what answering a
/// batch will read before it answers any query of the batch).
static inline void mcdns_prefetch(const void *address) {
    __builtin_prefetch(address);
}

/// Asks for the first eight cache lines at `address` (a shard: its layout, slots, node entries, names and, in a
/// small shard, its type and template entries) without waiting for them. Eight gave steadier figures than four.
static inline void mcdns_prefetch_lookup(const void *address) {
    const char *p = (const char *)address;
    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
    __builtin_prefetch(p + 128);
    __builtin_prefetch(p + 192);
    __builtin_prefetch(p + 256);
    __builtin_prefetch(p + 320);
    __builtin_prefetch(p + 384);
    __builtin_prefetch(p + 448);
}

/// Query counters written by one thread and read by another at scrape time. Relaxed atomic loads and stores
/// (not a read-modify-write: each counter has a single writer), so the increment is a plain load, add and store
/// on x86-64 and arm64, yet the reader never sees a torn value and there is no data race.
static inline void mcdns_counter_add(uint64_t *counter, uint64_t amount) {
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + amount, __ATOMIC_RELAXED);
}
/// For counters several threads write (the TCP event loops share one set): an atomic add.
static inline void mcdns_counter_add_shared(uint64_t *counter, uint64_t amount) {
    __atomic_fetch_add(counter, amount, __ATOMIC_RELAXED);
}
static inline uint64_t mcdns_counter_load(const uint64_t *counter) {
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}
/// Monotonic nanoseconds (vDSO, no system call): per-batch answer latency.
uint64_t mcdns_monotonic_nanoseconds(void);

#ifdef __cplusplus
}
#endif
#endif
