# mcdns container image (deploy/README.md, "Building the image").
#   docker build -t ghcr.io/mcdns/mcdns:0.1.0 .
# Two stages: the Swift toolchain image compiles a release binary; the runtime stage is a slim Debian with
# libldns, the binary and the Swift runtime libraries it links (found with ldd), and nothing else of the toolchain.
# (--static-swift-stdlib is not used: with Swift 6.3.1 it leaves Foundation's ICU and CoreFoundation symbols
# unresolved at link time.)

ARG SWIFT_VERSION=6.3.1
ARG DEBIAN_RELEASE=bookworm

FROM swift:${SWIFT_VERSION}-${DEBIAN_RELEASE} AS build
# ldns headers for the CLDNS module (found through pkg-config).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libldns-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so a source change does not refetch them.
COPY Package.swift Package.resolved* ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
# /out is the runtime image's file tree: the binary, and the Swift runtime libraries it needs (ldd lists them
# transitively) under /usr/lib/swift/linux, registered with the dynamic linker whatever RUNPATH the toolchain set.
RUN swift build -c release --product mcdns \
    && bin="$(swift build -c release --show-bin-path)/mcdns" \
    && install -D -m 0755 "$bin" /out/usr/local/bin/mcdns \
    && mkdir -p /out/usr/lib/swift/linux /out/etc/ld.so.conf.d \
    && ldd "$bin" | awk '$3 ~ /\/lib\/swift\// { print $3 }' | xargs -r cp -L -t /out/usr/lib/swift/linux/ \
    && echo /usr/lib/swift/linux > /out/etc/ld.so.conf.d/swift.conf

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# libldns3: the C library mcdns links (with libssl, its dependency); libstdc++6 for the Swift runtime;
# ca-certificates for the member API servers' TLS.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libldns3 libstdc++6 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
# A fixed, numeric, non-root user: the Kubernetes manifests run as 65532 and check runAsNonRoot against it.
RUN groupadd --system --gid 65532 mcdns \
    && useradd --system --uid 65532 --gid 65532 --home-dir /var/lib/mcdns --no-create-home \
        --shell /usr/sbin/nologin mcdns \
    && install -d -o 65532 -g 65532 -m 0750 /var/lib/mcdns /etc/mcdns
COPY --from=build /out/ /
RUN ldconfig && /usr/local/bin/mcdns --help >/dev/null
COPY zones /etc/mcdns/zones
USER 65532:65532
WORKDIR /var/lib/mcdns
# DNS over UDP and TCP, the admin API (/healthz, /readyz, /metrics), the reverse tunnel.
EXPOSE 53/udp 53/tcp 9253/tcp 8443/tcp
ENTRYPOINT ["/usr/local/bin/mcdns"]
CMD ["serve", "--config", "/etc/mcdns/config/mcdns.yaml"]
