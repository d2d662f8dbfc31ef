import ClusterController
import ClusterTunnel
import DNSServer
import Foundation
import MCDNSModel
public import Prometheus
import RecordStore

/// Renders `/metrics` in the Prometheus text format: the swift-metrics registry (what libraries such as
/// KubeClient emit through swift-metrics, e.g. `mcdns_watch_restarts_total`, `mcdns_relists_total`), plus the
/// values the hot path and the store keep as plain counters, summed at scrape time (DESIGN §8: no metrics call
/// per query).
public struct MetricsExporter: Sendable {
    public let registry: PrometheusCollectorRegistry
    let store: RecordStore
    let queries: QueryStatistics
    let members: @Sendable () -> [MemberStatus]
    /// The tunnel listener's view of each tunnel member (empty without a `tunnel:` block).
    var tunnels: @Sendable () -> [TunnelConnectionStatus] = { [] }
    /// The tunnel listener's refusals by reason (`TunnelServer.refusalCounts()`); empty without a tunnel.
    var tunnelRefusals: @Sendable () -> [String: Int] = { [:] }
    /// The host cluster's leader election and status writer (nil without a `host:` block).
    var host: @Sendable () -> HostStatus? = { nil }
    /// Zone transfers and NOTIFY (nil without a `transfer:` block).
    var transfer: ZoneTransfer? = nil
    var notifier: NotifySender? = nil
    /// When this process started (seconds since the epoch): a restart shows as a change of the value, which
    /// the `MCDNSRestartingRepeatedly` alert counts with `changes()`.
    var startTime: Double = Date().timeIntervalSince1970

    /// The families KubeClient counts through swift-metrics, which have no series until the first event (and never
    /// with manifest-directory members): their HELP and TYPE are written anyway, so dashboards and alerts that use
    /// them find the names.
    static let registryFamilies: [(name: String, help: String)] = [
        (
            "mcdns_relists_total",
            "Complete lists of a member's resource after the first, by cluster, resource and reason."
        ),
        ("mcdns_watch_restarts_total", "Watches of a member's resource restarted, by cluster, resource and reason."),
    ]

    func render() -> String {
        var out = registry.emitToString()
        for family in Self.registryFamilies where !out.contains("# TYPE \(family.name) ") {
            out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) counter\n"
        }
        out += gauge(
            "mcdns_daemon_start_time_seconds",
            "When this mcdns process started, in seconds since the epoch.",
            "\(startTime)"
        )
        let totals = queries.totals()
        out += "# HELP mcdns_dns_queries_total DNS queries answered, by transport, query type and response code.\n"
        out += "# TYPE mcdns_dns_queries_total counter\n"
        for (key, value) in totals.queries.sorted(by: {
            ($0.key.transport, $0.key.type, $0.key.rcode) < ($1.key.transport, $1.key.type, $1.key.rcode)
        }) {
            out +=
                "mcdns_dns_queries_total{transport=\"\(key.transport)\",type=\"\(key.type)\",rcode=\"\(key.rcode)\"} \(value)\n"
        }
        out +=
            "# HELP mcdns_dns_zone_queries_total DNS queries by the zone they fell in (none: outside every zone or"
            + " refused before the lookup; other: zones past the first 62).\n"
        out += "# TYPE mcdns_dns_zone_queries_total counter\n"
        for (zone, value) in totals.zones.sorted(by: { $0.key < $1.key }) {
            let label = zone.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            out += "mcdns_dns_zone_queries_total{zone=\"\(label)\"} \(value)\n"
        }
        out +=
            "# HELP mcdns_dns_answer_latency_seconds Time to answer a query inside mcdns (UDP: the mean of each recvmmsg batch; TCP: per query).\n"
        out += "# TYPE mcdns_dns_answer_latency_seconds histogram\n"
        var cumulative: UInt64 = 0
        let bounds = QueryStatistics.Totals.latencyBoundsSeconds
        for (index, count) in totals.latencyBuckets.enumerated() {
            cumulative += count
            let le = index < bounds.count ? "\(bounds[index])" : "+Inf"
            out += "mcdns_dns_answer_latency_seconds_bucket{le=\"\(le)\"} \(cumulative)\n"
        }
        out += "mcdns_dns_answer_latency_seconds_sum \(Double(totals.latencySumNanoseconds) / 1e9)\n"
        out += "mcdns_dns_answer_latency_seconds_count \(totals.latencyCount)\n"
        out +=
            "# HELP mcdns_dns_rate_limited_total UDP responses the rate limiter sent truncated (slipped) or dropped, by response class.\n"
        out += "# TYPE mcdns_dns_rate_limited_total counter\n"
        for responseClass in ["answer", "nodata", "nxdomain", "referral", "wildcard", "error"] {
            for action in ["slipped", "dropped"] {
                let value = totals.rateLimited[.init(responseClass: responseClass, action: action)] ?? 0
                out += "mcdns_dns_rate_limited_total{class=\"\(responseClass)\",action=\"\(action)\"} \(value)\n"
            }
        }

        let stats = store.stats
        let serial = store.current().serial
        out += gauge(
            "mcdns_records_snapshot_serial",
            "The serial (generation) of the answer table being served.",
            "\(serial)"
        )
        out += counter(
            "mcdns_records_snapshot_builds_total",
            "Answer tables compiled and published.",
            "\(stats.builds)"
        )
        out += counter(
            "mcdns_records_snapshot_build_failures_total",
            "Compiles that failed (the previous table kept serving).",
            "\(stats.failedBuilds)"
        )
        out += counter(
            "mcdns_records_snapshot_build_seconds_total",
            "Time spent compiling answer tables.",
            "\(stats.buildSeconds)"
        )
        out += gauge(
            "mcdns_records_snapshot_last_build_seconds",
            "How long the last compile took.",
            "\(Double(stats.lastBuild.components.seconds) + Double(stats.lastBuild.components.attoseconds) / 1e18)"
        )
        out += gauge("mcdns_records_services", "Merged service records being served.", "\(stats.recordCount)")
        out += gauge(
            "mcdns_records_ready",
            "1 once a saved state was loaded or every member synced once.",
            stats.ready ? "1" : "0"
        )
        out += counter("mcdns_records_state_writes_total", "State file writes (warm restart).", "\(stats.writes)")
        out += counter(
            "mcdns_records_state_write_failures_total",
            "State file writes that failed.",
            "\(stats.writeFailures)"
        )

        let links = store.liveState()?.clusters ?? [:]
        out += "# HELP mcdns_member_link_state Each member's link (1 for its current state), as the answers see it.\n"
        out += "# TYPE mcdns_member_link_state gauge\n"
        let statuses = members()
        for status in statuses {
            let current = links[status.cluster]?.link ?? status.link
            for state in [LinkState.synced, .stale, .offline] {
                out +=
                    "mcdns_member_link_state{cluster=\"\(status.cluster)\",state=\"\(state.rawValue)\"} \(current == state ? 1 : 0)\n"
            }
        }
        out +=
            "# HELP mcdns_member_last_sync_timestamp_seconds When each member was last current"
            + " (seconds since the epoch; absent before its first sync).\n"
        out += "# TYPE mcdns_member_last_sync_timestamp_seconds gauge\n"
        for status in statuses {
            guard let lastSync = status.lastSync else { continue }
            out += "mcdns_member_last_sync_timestamp_seconds{cluster=\"\(status.cluster)\"} \(lastSync)\n"
        }
        out += "# HELP mcdns_cluster_drained 1 while the member is drained (mcdns drain or clusters[].drain), as the answers see it.\n"
        out += "# TYPE mcdns_cluster_drained gauge\n"
        for status in statuses {
            let drained = links[status.cluster].map { $0.drain != nil } ?? (status.drain != nil)
            out += "mcdns_cluster_drained{cluster=\"\(status.cluster)\"} \(drained ? 1 : 0)\n"
        }
        // Counted only while some member is stale (a walk over the records), else every member's count is 0.
        var staleTargets: [ClusterID: Int] = [:]
        if links.values.contains(where: { $0.link == .stale }), let records = store.liveState()?.records {
            for record in records.values {
                for contribution in record.status.dns where contribution.stale {
                    staleTargets[contribution.cluster, default: 0] += 1
                }
            }
        }
        out +=
            "# HELP mcdns_records_stale_targets Services answered with a member's last-known (stale) targets,"
            + " by member.\n"
        out += "# TYPE mcdns_records_stale_targets gauge\n"
        for status in statuses {
            out += "mcdns_records_stale_targets{cluster=\"\(status.cluster)\"} \(staleTargets[status.cluster] ?? 0)\n"
        }
        out += "# HELP mcdns_member_objects Objects in each member's cache, by kind.\n"
        out += "# TYPE mcdns_member_objects gauge\n"
        for status in statuses {
            for (kind, count) in status.objects.sorted(by: { $0.key < $1.key }) {
                out += "mcdns_member_objects{cluster=\"\(status.cluster)\",kind=\"\(kind)\"} \(count)\n"
            }
        }
        // The tunnel families are written without a tunnel too (with no series), so the dashboard and the
        // alerts find their names on every daemon.
        let tunnelStatus = tunnels().sorted { $0.cluster < $1.cluster }
        do {
            out += "# HELP mcdns_tunnel_connected 1 while an authenticated agent session is current for the cluster.\n"
            out += "# TYPE mcdns_tunnel_connected gauge\n"
            for tunnel in tunnelStatus {
                out += "mcdns_tunnel_connected{cluster=\"\(tunnel.cluster)\"} \(tunnel.connected ? 1 : 0)\n"
            }
            out += "# HELP mcdns_tunnel_sessions_total Agent sessions accepted per cluster since the start.\n"
            out += "# TYPE mcdns_tunnel_sessions_total counter\n"
            for tunnel in tunnelStatus {
                out += "mcdns_tunnel_sessions_total{cluster=\"\(tunnel.cluster)\"} \(tunnel.sessionsAccepted)\n"
            }
            out +=
                "# HELP mcdns_tunnel_takeovers_total Agent sessions that replaced a still connected one (two agents, or a stolen token).\n"
            out += "# TYPE mcdns_tunnel_takeovers_total counter\n"
            for tunnel in tunnelStatus {
                out += "mcdns_tunnel_takeovers_total{cluster=\"\(tunnel.cluster)\"} \(tunnel.takeovers)\n"
            }
            out +=
                "# HELP mcdns_tunnel_refusals_total Connections the tunnel listener refused before a session, by reason.\n"
            out += "# TYPE mcdns_tunnel_refusals_total counter\n"
            for (reason, count) in tunnelRefusals().sorted(by: { $0.key < $1.key }) {
                out += "mcdns_tunnel_refusals_total{reason=\"\(reason)\"} \(count)\n"
            }
        }
        if let transfer {
            out += "# HELP mcdns_transfer_refusals_total Zone transfer requests refused, by reason.\n"
            out += "# TYPE mcdns_transfer_refusals_total counter\n"
            let counts = transfer.refusalCounts
            for reason in ZoneTransfer.Refusal.allCases {
                out += "mcdns_transfer_refusals_total{reason=\"\(reason.rawValue)\"} \(counts[reason] ?? 0)\n"
            }
            out += counter("mcdns_transfers_total", "Zone transfers answered with zone data (AXFR, or IXFR in full or up to date).",
                           "\(transfer.transfersServed)")
            out += gauge("mcdns_transfers_active", "Zone transfers being answered now.", "\(transfer.transfersActive)")
            out += counter("mcdns_transfers_abandoned_total",
                           "Zone transfers stopped because the client went away before the last message.",
                           "\(transfer.transfersAbandoned)")
        }
        if let notifier {
            out += counter("mcdns_notify_sent_total", "NOTIFY messages sent to secondaries, retries included.",
                           "\(notifier.sent)")
            out += counter("mcdns_notify_acknowledged_total", "NOTIFY messages secondaries answered with NOERROR.",
                           "\(notifier.acknowledgedCount)")
        }
        if let host = host() {
            out += gauge(
                "mcdns_leader",
                "1 while this replica holds the leader Lease and writes ServiceDNSRecord status.",
                host.leader ? "1" : "0"
            )
            out += counter(
                "mcdns_status_writes_total",
                "ServiceDNSRecord status updates written by this replica.",
                "\(host.statusWrites)"
            )
            out += counter(
                "mcdns_status_write_conflicts_total",
                "Status writes answered 409 Conflict (stale resourceVersion) and retried.",
                "\(host.conflicts)"
            )
            out +=
                "# HELP mcdns_status_blocked_records Records whose ServiceDNSRecord could not be written at the last"
                + " status round, by cause (namespaceMissing, crdMissing, forbidden).\n"
            out += "# TYPE mcdns_status_blocked_records gauge\n"
            for cause in HostStatusProblem.allCases {
                let count = host.problems.first { $0.cause == cause }?.services ?? 0
                out += "mcdns_status_blocked_records{cause=\"\(cause.rawValue)\"} \(count)\n"
            }
        }
        return out
    }

    private func gauge(_ name: String, _ help: String, _ value: String) -> String {
        "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(value)\n"
    }

    private func counter(_ name: String, _ help: String, _ value: String) -> String {
        "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
    }
}
