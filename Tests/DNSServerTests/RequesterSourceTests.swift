import DNSAnswer
import DNSServer
import DNSWire
import MCDNSModel
import RecordStore
import Testing

/// The listeners pass each query's source address to the responder, which matches it against the requester
/// subnets (DESIGN §4.3): a client on loopback mapped to east-1 gets east-1's targets for the global name.
@Suite struct RequesterSourceTests {
    static let zone = """
        $ORIGIN example.com.
        $TTL 300
        @    IN SOA ns1 hostmaster 1 7200 3600 1209600 60
             IN NS ns1
        ns1  IN A 192.0.2.1

        """

    static let clusters = [
        ClusterInfo(id: "east-1", locality: Locality(region: "us-east-1", zone: "us-east-1a"), link: .synced),
        ClusterInfo(id: "west-1", locality: Locality(region: "us-west-2", zone: "us-west-2a"), link: .synced),
    ]

    static let web = ServiceDNSRecord(
        key: ServiceKey(namespace: "shop", name: "web"),
        status: .init(dns: [
            ClusterDNS(cluster: "east-1", region: "us-east-1", zones: ["us-east-1a"],
                       loadBalancer: [LoadBalancerIngress(ip: "192.0.2.11")], clusterIPs: ["10.1.0.10"],
                       endpoints: [Endpoint(address: "10.1.5.1")], readyEndpoints: 1),
            ClusterDNS(cluster: "west-1", region: "us-west-2", zones: ["us-west-2a"],
                       loadBalancer: [LoadBalancerIngress(ip: "198.51.100.21")], clusterIPs: ["10.3.0.10"],
                       endpoints: [Endpoint(address: "10.3.5.1")], readyEndpoints: 1),
        ])
    )

    static let global = "web.shop.acme.svc.example.com"

    func store(loopbackCluster: String) throws -> RecordStore {
        let naming = NamingConfiguration(
            federationName: "acme",
            federationDomain: try DomainName("example.com"),
            requesterSubnets: [RequesterSubnet(network: try #require(IPNetwork("127.0.0.0/8")), cluster: ClusterID(loopbackCluster))]
        )
        let (zone, errors) = ZoneFile.parse(Self.zone, origin: try DomainName("example.com"))
        #expect(errors.isEmpty)
        let live = try LiveTable(zones: [try #require(zone)], naming: naming)
        let table = try live.apply(RecordChanges(upserted: [Self.web], clusters: Self.clusters), serial: 2)
        return RecordStore(initial: table)
    }

    private func configuration() throws -> DNSServerConfiguration {
        try DNSServerConfiguration(listen: ["127.0.0.1:0"], udpThreadsPerAddress: 1)
    }

    @Test(arguments: [("east-1", "192.0.2.11"), ("west-1", "198.51.100.21")])
    func theLoopbackClientGetsItsClustersTargetsOverUDPAndTCP(cluster: String, target: String) async throws {
        try await ServerFixture.withService(try configuration(), store: try store(loopbackCluster: cluster)) { (addresses: [ListenAddress]) async throws in
            #expect(try await ServerFixture.dig(addresses[0], [Self.global, "A", "+short"]) == target)
            #expect(try await ServerFixture.dig(addresses[0], [Self.global, "A", "+short", "+tcp"]) == target)
        }
    }

    @Test func aClientOutsideTheSubnetsGetsEveryTarget() async throws {
        // The subnet names a cluster that does not exist, so loopback matches no known requester.
        try await ServerFixture.withService(try configuration(), store: try store(loopbackCluster: "nowhere")) { (addresses: [ListenAddress]) async throws in
            let answer = try await ServerFixture.dig(addresses[0], [Self.global, "A", "+short"])
            #expect(answer.split(separator: "\n").sorted() == ["192.0.2.11", "198.51.100.21"])
        }
    }
}
