#define _GNU_SOURCE
#include "CMCDNSSys.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct mcdns_batch {
    int count;
    int bufferSize;
    uint8_t *in;
    uint8_t *out;
    struct mmsghdr *recvHeaders;
    struct mmsghdr *sendHeaders;
    struct iovec *recvIov;
    struct iovec *sendIov;
    struct sockaddr_storage *peers;
    /// How many receive headers the last recvmmsg filled: only those need resetting before the next one.
    int lastReceived;
};

mcdns_batch *mcdns_batch_create(int count, int bufferSize) {
    mcdns_batch *b = calloc(1, sizeof(*b));
    if (!b) return NULL;
    b->count = count;
    b->bufferSize = bufferSize;
    b->in = calloc((size_t)count, (size_t)bufferSize);
    b->out = calloc((size_t)count, (size_t)bufferSize);
    b->recvHeaders = calloc((size_t)count, sizeof(struct mmsghdr));
    b->sendHeaders = calloc((size_t)count, sizeof(struct mmsghdr));
    b->recvIov = calloc((size_t)count, sizeof(struct iovec));
    b->sendIov = calloc((size_t)count, sizeof(struct iovec));
    b->peers = calloc((size_t)count, sizeof(struct sockaddr_storage));
    if (!b->in || !b->out || !b->recvHeaders || !b->sendHeaders || !b->recvIov || !b->sendIov || !b->peers) {
        mcdns_batch_destroy(b);
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        b->recvIov[i].iov_base = b->in + (size_t)i * (size_t)bufferSize;
        b->recvIov[i].iov_len = (size_t)bufferSize;
        b->recvHeaders[i].msg_hdr.msg_iov = &b->recvIov[i];
        b->recvHeaders[i].msg_hdr.msg_iovlen = 1;
        b->recvHeaders[i].msg_hdr.msg_name = &b->peers[i];
        b->recvHeaders[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    }
    return b;
}

void mcdns_batch_destroy(mcdns_batch *b) {
    if (!b) return;
    free(b->in); free(b->out); free(b->recvHeaders); free(b->sendHeaders);
    free(b->recvIov); free(b->sendIov); free(b->peers); free(b);
}

int mcdns_batch_recv(int fd, mcdns_batch *b) {
    // recvmmsg writes only msg_len, msg_namelen and msg_flags of the headers it fills (the iovecs and the
    // rest were set up once by mcdns_batch_create), so only the entries the last call filled are reset: resetting
    // all 64 cost more instructions than answering when batches are small.
    for (int i = 0; i < b->lastReceived; i++) {
        b->recvHeaders[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
        b->recvHeaders[i].msg_hdr.msg_flags = 0;
        b->recvHeaders[i].msg_len = 0;
    }
    // Wait for the first datagram, then take whatever else is already queued.
    int received = recvmmsg(fd, b->recvHeaders, (unsigned int)b->count, MSG_WAITFORONE, NULL);
    b->lastReceived = received > 0 ? received : 1;  // a failed call may have touched the first entry
    return received;
}

int mcdns_batch_send(int fd, mcdns_batch *b, int count) {
    int n = 0;
    for (int i = 0; i < count; i++) {
        size_t len = b->sendIov[i].iov_len;
        if (len == 0) continue;
        b->sendIov[n].iov_base = b->out + (size_t)i * (size_t)b->bufferSize;
        b->sendIov[n].iov_len = len;
        memset(&b->sendHeaders[n].msg_hdr, 0, sizeof(struct msghdr));
        b->sendHeaders[n].msg_hdr.msg_iov = &b->sendIov[n];
        b->sendHeaders[n].msg_hdr.msg_iovlen = 1;
        b->sendHeaders[n].msg_hdr.msg_name = &b->peers[i];
        b->sendHeaders[n].msg_hdr.msg_namelen = b->recvHeaders[i].msg_hdr.msg_namelen;
        n++;
    }
    int sent = 0;
    while (sent < n) {
        int r = sendmmsg(fd, b->sendHeaders + sent, (unsigned int)(n - sent), 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            // Drop the datagram that failed (for example an unreachable peer) and go on with the rest.
            sent += 1;
            continue;
        }
        sent += r;
    }
    for (int i = 0; i < count; i++) b->sendIov[i].iov_len = 0;
    return n;
}

uint8_t *mcdns_batch_in(mcdns_batch *b, int i) { return b->in + (size_t)i * (size_t)b->bufferSize; }
size_t mcdns_batch_in_length(mcdns_batch *b, int i) { return b->recvHeaders[i].msg_len; }
int mcdns_batch_in_truncated(mcdns_batch *b, int i) { return (b->recvHeaders[i].msg_hdr.msg_flags & MSG_TRUNC) != 0; }
uint8_t *mcdns_batch_out(mcdns_batch *b, int i) { return b->out + (size_t)i * (size_t)b->bufferSize; }
void mcdns_batch_set_out_length(mcdns_batch *b, int i, size_t len) { b->sendIov[i].iov_len = len; }
const struct sockaddr_storage *mcdns_batch_peer(mcdns_batch *b, int i) { return &b->peers[i]; }

static uint64_t mcdns_load_be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) v = (v << 8) | p[k];
    return v;
}

int mcdns_batch_peer_address(mcdns_batch *b, int i, uint32_t *v4, uint64_t *high, uint64_t *low) {
    const struct sockaddr_storage *peer = &b->peers[i];
    if (peer->ss_family == AF_INET) {
        *v4 = ntohl(((const struct sockaddr_in *)peer)->sin_addr.s_addr);
        return 4;
    }
    if (peer->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)peer)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            uint32_t mapped;
            memcpy(&mapped, a->s6_addr + 12, 4);
            *v4 = ntohl(mapped);
            return 4;
        }
        *high = mcdns_load_be64(a->s6_addr);
        *low = mcdns_load_be64(a->s6_addr + 8);
        return 6;
    }
    return 0;
}
int mcdns_batch_buffer_size(mcdns_batch *b) { return b->bufferSize; }

int mcdns_udp_socket(const char *host, int port, int receiveTimeoutMillis) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    int family;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        family = AF_INET; v4->sin_family = AF_INET; v4->sin_port = htons((uint16_t)port); len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        family = AF_INET6; v6->sin6_family = AF_INET6; v6->sin6_port = htons((uint16_t)port); len = sizeof(*v6);
    } else {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    // Queries that arrive while the thread answers a batch wait in the receive buffer; the default (about
    // 200 KiB, a few hundred datagrams) overflows under a client with hundreds of queries in flight, and a
    // dropped query costs the client a whole timeout. Ask for 8 MiB: privileged processes get it (FORCE),
    // others get what net.core.rmem_max allows. The send side likewise, for bursts of 64 answers.
    int buffer = 8 * 1024 * 1024;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof(buffer)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof(buffer));
    if (receiveTimeoutMillis > 0) {
        struct timeval tv = { receiveTimeoutMillis / 1000, (receiveTimeoutMillis % 1000) * 1000 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int mcdns_socket_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

void mcdns_thread_set_name(const char *name) {
    char shortName[16];
    strncpy(shortName, name, sizeof(shortName) - 1);
    shortName[sizeof(shortName) - 1] = 0;
    pthread_setname_np(pthread_self(), shortName);
}

int mcdns_thread_set_nice(int nice) {
#ifdef __linux__
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice) == 0 ? 0 : errno;
#else
    return ENOTSUP;
#endif
}

uint64_t mcdns_monotonic_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}
