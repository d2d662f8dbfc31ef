# mcdns container image (deploy/README.md, "Building the image").
#   docker build -t ghcr.io/mcdns/mcdns:0.1.0 .
# Two stages: the Swift toolchain image compiles a release binary with the Swift runtime linked in statically;
# the runtime stage is a slim Debian with libldns and nothing else of the toolchain.

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
# --static-swift-stdlib: the Swift runtime and Foundation go into the binary, so the runtime image needs no
# toolchain libraries.
RUN swift build -c release --product mcdns --static-swift-stdlib \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/mcdns" /out/mcdns

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# libldns3: the one C library mcdns links dynamically (with libssl, its dependency); ca-certificates for the
# member API servers' TLS; libstdc++6 for the statically linked Swift runtime.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libldns3 libstdc++6 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
# A fixed, numeric, non-root user: the Kubernetes manifests run as 65532 and check runAsNonRoot against it.
RUN groupadd --system --gid 65532 mcdns \
    && useradd --system --uid 65532 --gid 65532 --home-dir /var/lib/mcdns --no-create-home \
        --shell /usr/sbin/nologin mcdns \
    && install -d -o 65532 -g 65532 -m 0750 /var/lib/mcdns /etc/mcdns
COPY --from=build /out/mcdns /usr/local/bin/mcdns
COPY zones /etc/mcdns/zones
USER 65532:65532
WORKDIR /var/lib/mcdns
# DNS over UDP and TCP, the admin API (/healthz, /readyz, /metrics), the reverse tunnel.
EXPOSE 53/udp 53/tcp 9253/tcp 8443/tcp
ENTRYPOINT ["/usr/local/bin/mcdns"]
CMD ["serve", "--config", "/etc/mcdns/config/mcdns.yaml"]
