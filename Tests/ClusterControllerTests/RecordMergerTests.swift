import ClusterController
import KubeClient
import MCDNSModel
import Testing

typealias F = Fixture

/// One merge: members in, a check of the record out.
struct MergeCase: Sendable, CustomTestStringConvertible {
    var name: String
    var members: [MergeInput]
    var check: @Sendable (ServiceDNSRecord) -> Void
    var testDescription: String { name }
}

@Suite("RecordMerger")
struct RecordMergerTests {
    // MARK: EndpointSlice rules

    static let endpointCases: [MergeCase] = [
        MergeCase(
            name: "one IP in two slices counts once",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(),
                    slices: [
                        F.slice(
                            "web-a",
                            [F.endpoint("10.0.0.1", ready: false, hostname: "web-0"), F.endpoint("10.0.0.2")]
                        ),
                        F.slice("web-b", [F.endpoint("10.0.0.1", ready: true, zone: "us-east-1a")]),
                    ]
                )
            ],
            check: { record in
                let dns = record.dns("east-1")
                #expect(dns?.endpoints.map(\.address) == ["10.0.0.1", "10.0.0.2"])
                #expect(dns?.readyEndpoints == 2)
                // Ready if any copy is; hostname and zone taken from whichever copy has them.
                #expect(
                    dns?.endpoints.first
                        == Endpoint(
                            address: "10.0.0.1",
                            hostname: "web-0",
                            zone: "us-east-1a",
                            ready: true,
                            serving: true,
                            terminating: false
                        )
                )
            }
        ),
        MergeCase(
            name: "ready absent means ready, ready false does not count",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(),
                    slices: [
                        F.slice(
                            "web-a",
                            [
                                F.endpoint("10.0.0.1"), F.endpoint("10.0.0.2", ready: false),
                                F.endpoint("10.0.0.3", ready: true),
                            ]
                        )
                    ]
                )
            ],
            check: { record in
                let endpoints = record.dns("east-1")?.endpoints ?? []
                #expect(endpoints.map(\.ready) == [true, false, true])
                // serving absent follows ready.
                #expect(endpoints.map(\.serving) == [true, false, true])
                #expect(record.dns("east-1")?.readyEndpoints == 2)
                #expect(record.condition("Ready")?.status == .true)
            }
        ),
        MergeCase(
            name: "dual-stack clusterIPs and IPv4 plus IPv6 slices",
            members: [
                MergeInput(
                    cluster: "west-1",
                    topology: F.west1,
                    service: F.service(clusterIPs: ["172.22.0.10", "fd00:22::10"]),
                    slices: [
                        F.slice("web-v4", [F.endpoint("10.3.0.11")]),
                        F.slice("web-v6", type: .ipv6, [F.endpoint("fd00:3::11")]),
                        F.slice("web-fqdn", type: .fqdn, [KubeEndpointSlice.Endpoint(addresses: [], fqdns: ["ignored.example.net"])]),
                    ]
                )
            ],
            check: { record in
                let dns = record.dns("west-1")
                #expect(dns?.clusterIPs == ["172.22.0.10", "fd00:22::10"])
                #expect(dns?.endpoints.map(\.address) == ["10.3.0.11", "fd00:3::11"])
                #expect(dns?.readyEndpoints == 2)
            }
        ),
        MergeCase(
            name: "publishNotReadyAddresses makes unready endpoints ready",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(headless: true, publishNotReady: true),
                    slices: [
                        F.slice(
                            "db",
                            service: "web",
                            [F.endpoint("10.0.0.1", ready: false), F.endpoint("10.0.0.2", ready: false)]
                        )
                    ]
                )
            ],
            check: { record in
                #expect(record.dns("east-1")?.readyEndpoints == 2)
                #expect(record.dns("east-1")?.endpoints.allSatisfy(\.ready) == true)
            }
        ),
        MergeCase(
            name: "terminating endpoints keep serving but are not ready",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(),
                    slices: [
                        F.slice(
                            "web-a",
                            [
                                F.endpoint("10.0.0.1", ready: false, serving: true, terminating: true),
                                F.endpoint("10.0.0.2", ready: true),
                            ]
                        )
                    ]
                )
            ],
            check: { record in
                let first = record.dns("east-1")?.endpoints.first
                #expect(first?.ready == false)
                #expect(first?.serving == true)
                #expect(first?.terminating == true)
                #expect(record.dns("east-1")?.readyEndpoints == 1)
            }
        ),
        MergeCase(
            name: "endpoint zone from its node when the slice has none",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(),
                    slices: [
                        F.slice(
                            "web-a",
                            [F.endpoint("10.0.0.1", node: "node-b"), F.endpoint("10.0.0.2", node: "node-x")]
                        )
                    ],
                    nodes: ["node-b": KubeNode(name: "node-b", region: "us-east-1", zone: "us-east-1b")]
                )
            ],
            check: { record in
                #expect(record.dns("east-1")?.endpoints.map(\.zone) == ["us-east-1b", nil])
            }
        ),
        MergeCase(
            name: "no ready endpoint anywhere",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(),
                    slices: [
                        F.slice("web-a", [F.endpoint("10.0.0.1", ready: false)])
                    ]
                )
            ],
            check: { record in
                #expect(
                    record.condition("Ready")
                        == Condition(
                            type: "Ready",
                            status: .false,
                            reason: "NoReadyEndpoints",
                            message: "no connected cluster has a ready endpoint"
                        )
                )
            }
        ),
    ]

    @Test(arguments: endpointCases)
    func endpointSlices(_ testCase: MergeCase) throws {
        let record = try #require(RecordMerger.merge(key: F.key, members: testCase.members))
        testCase.check(record)
    }

    // MARK: Service rules

    static let serviceCases: [MergeCase] = [
        MergeCase(
            name: "headless conflict: the oldest export (headless) wins",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(clusterIPs: ["172.20.0.10"], created: "2024-02-01T00:00:00Z")
                ),
                MergeInput(
                    cluster: "west-1",
                    topology: F.west1,
                    service: F.service(headless: true, created: "2024-01-01T00:00:00Z")
                ),
            ],
            check: { record in
                #expect(record.status.headless)
                let conflict = record.condition("Conflict")
                #expect(conflict?.status == .true)
                #expect(conflict?.reason == "HeadlessConflict")
                #expect(conflict?.message == "west-1 (oldest export) is headless; east-1 is not headless")
                // Every member stays in the record.
                #expect(record.status.dns.map(\.cluster) == ["east-1", "west-1"])
            }
        ),
        MergeCase(
            name: "headless conflict: the oldest export (not headless) wins",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(clusterIPs: ["172.20.0.10"], created: "2024-01-01T00:00:00Z")
                ),
                MergeInput(
                    cluster: "west-1",
                    topology: F.west1,
                    service: F.service(headless: true, created: "2024-02-01T00:00:00Z")
                ),
            ],
            check: { record in
                #expect(!record.status.headless)
                #expect(record.condition("Conflict")?.reason == "HeadlessConflict")
            }
        ),
        MergeCase(
            name: "the ServiceExport's creation time is the export time",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(clusterIPs: ["172.20.0.10"], created: "2020-01-01T00:00:00Z"),
                    serviceExport: F.export(created: "2024-05-01T00:00:00Z")
                ),
                MergeInput(
                    cluster: "west-1",
                    topology: F.west1,
                    service: F.service(headless: true, created: "2023-01-01T00:00:00Z"),
                    serviceExport: F.export(created: "2024-04-01T00:00:00Z")
                ),
            ],
            check: { record in
                #expect(record.status.headless)
            }
        ),
        MergeCase(
            name: "ports are the union, with a conflict when they differ",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(ports: [
                        .init(name: "http", port: 80), .init(name: "grpc", port: 9090),
                    ])
                ),
                MergeInput(
                    cluster: "west-1",
                    topology: F.west1,
                    service: F.service(ports: [
                        .init(name: "http", port: 80), .init(name: "http", port: 8080),
                    ])
                ),
            ],
            check: { record in
                #expect(
                    record.status.ports == [
                        ServicePort(name: "grpc", protocol: "TCP", port: 9090),
                        ServicePort(name: "http", protocol: "TCP", port: 80),
                        ServicePort(name: "http", protocol: "TCP", port: 8080),
                    ]
                )
                #expect(record.condition("Conflict")?.reason == "PortConflict")
                #expect(record.condition("Conflict")?.message.contains("east-1 [grpc/TCP/9090, http/TCP/80]") == true)
            }
        ),
        MergeCase(
            name: "equal ports: no conflict",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(ports: [.init(name: "http", port: 80)])
                ),
                MergeInput(
                    cluster: "west-1",
                    topology: F.west1,
                    service: F.service(ports: [.init(name: "http", port: 80)])
                ),
            ],
            check: { record in
                #expect(record.condition("Conflict") == nil)
                #expect(record.condition("Degraded") == nil)
                #expect(record.status.ports == [ServicePort(name: "http", protocol: "TCP", port: 80)])
            }
        ),
        MergeCase(
            name: "ExternalName",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service("legacy", type: .externalName, externalName: "legacy.corp.example.net")
                )
            ],
            check: { record in
                #expect(record.status.externalTarget == "legacy.corp.example.net")
                #expect(!record.status.headless)
                #expect(record.condition("Ready")?.status == .true)
                #expect(record.condition("Ready")?.reason == "ExternalName")
            }
        ),
        MergeCase(
            name: "ExternalName against a ClusterIP member is a type conflict",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(
                        type: .externalName,
                        externalName: "x.example.net",
                        created: "2024-01-01T00:00:00Z"
                    )
                ),
                MergeInput(
                    cluster: "west-1",
                    topology: F.west1,
                    service: F.service(clusterIPs: ["10.0.0.1"], created: "2024-02-01T00:00:00Z")
                ),
            ],
            check: { record in
                #expect(record.status.externalTarget == "x.example.net")
                #expect(record.condition("Conflict")?.reason == "TypeConflict")
            }
        ),
        MergeCase(
            name: "LoadBalancer ips and hostnames",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(
                        type: .loadBalancer,
                        clusterIPs: ["172.20.0.10"],
                        ingress: [.init(hostname: "lb-1.elb.example.net")]
                    )
                ),
                MergeInput(
                    cluster: "west-1",
                    topology: F.west1,
                    service: F.service(
                        type: .loadBalancer,
                        clusterIPs: ["172.22.0.10"],
                        ingress: [.init(ip: "198.51.100.30"), .init(ip: "2001:db8::30")]
                    )
                ),
            ],
            check: { record in
                #expect(record.dns("east-1")?.loadBalancer == [LoadBalancerIngress(hostname: "lb-1.elb.example.net")])
                #expect(
                    record.dns("west-1")?.loadBalancer == [
                        LoadBalancerIngress(ip: "198.51.100.30"),
                        LoadBalancerIngress(ip: "2001:db8::30"),
                    ]
                )
                #expect(record.dns("west-1")?.clusterIPs == ["172.22.0.10"])
            }
        ),
        MergeCase(
            name: "unknown topology degrades the record but keeps the member",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(),
                    slices: [F.slice("a", [F.endpoint("10.0.0.1")])]
                ),
                MergeInput(
                    cluster: "lost-1",
                    topology: MemberTopology(
                        region: "unknown",
                        zones: ["unknown"],
                        regionKnown: false,
                        zoneKnown: false
                    ),
                    service: F.service(),
                    slices: [F.slice("b", [F.endpoint("10.9.0.1")])]
                ),
            ],
            check: { record in
                #expect(record.dns("lost-1")?.region == "unknown")
                #expect(record.dns("lost-1")?.zone == "unknown")
                #expect(record.dns("lost-1")?.readyEndpoints == 1)
                #expect(record.dns("east-1")?.locality == Locality(region: "us-east-1", zone: "us-east-1a"))
                #expect(record.condition("Degraded")?.reason == "UnknownTopology")
                #expect(record.condition("Degraded")?.message.hasPrefix("lost-1 has no region") == true)
                #expect(record.condition("Ready")?.status == .true)
            }
        ),
        MergeCase(
            name: "spec from annotations",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(annotations: [
                        "mcdns.io/export": "true", "mcdns.io/ttl": "15", "mcdns.io/dns-prefix": "www",
                        "mcdns.io/external-name": "storefront", "mcdns.io/allow-service-without-endpoints": "true",
                    ])
                )
            ],
            check: { record in
                #expect(
                    record.spec
                        == ServiceDNSRecord.Spec(
                            recordTTL: 15,
                            dnsPrefix: "www",
                            externalName: "storefront",
                            allowServiceWithoutEndpoints: true
                        )
                )
                #expect(record.condition("Degraded") == nil)
            }
        ),
        MergeCase(
            name: "a bad TTL annotation is ignored and reported",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(annotations: ["mcdns.io/export": "true", "mcdns.io/ttl": "soon"])
                )
            ],
            check: { record in
                #expect(record.spec.recordTTL == nil)
                #expect(record.condition("Degraded")?.reason == "InvalidAnnotation")
            }
        ),
        MergeCase(
            name: "a traffic policy annotation is parsed once into the spec",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(annotations: [
                        "mcdns.io/export": "true", "mcdns.io/traffic-policy": " weighted: us-east-1=70 , west-1=30 ",
                    ])
                )
            ],
            check: { record in
                #expect(record.spec.trafficPolicy == .weighted([.init(key: "us-east-1", weight: 70),
                                                               .init(key: "west-1", weight: 30)]))
                #expect(record.condition("Degraded") == nil)
            }
        ),
        MergeCase(
            name: "a traffic policy that does not parse is reported, and nearest is used",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(annotations: [
                        "mcdns.io/export": "true", "mcdns.io/traffic-policy": "weighted: us-east-1=seventy",
                    ])
                )
            ],
            check: { record in
                #expect(record.spec.trafficPolicy == nil)
                #expect(record.condition("Degraded")?.reason == "InvalidAnnotation")
                #expect(record.condition("Degraded")?.message.contains("mcdns.io/traffic-policy") == true)
            }
        ),
        MergeCase(
            name: "a traffic policy's answers limit is parsed with it",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(annotations: [
                        "mcdns.io/export": "true", "mcdns.io/traffic-policy": "failover: west-1, us-east-1; answers: 1",
                    ])
                )
            ],
            check: { record in
                #expect(record.spec.trafficPolicy == .failover(["west-1", "us-east-1"], answers: 1))
                #expect(record.condition("Degraded") == nil)
            }
        ),
        MergeCase(
            name: "an answers limit that is no whole number from 1 is reported with what to write, and nearest is used",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(annotations: [
                        "mcdns.io/export": "true", "mcdns.io/traffic-policy": "weighted: us-east-1=70; answers: 0",
                    ])
                )
            ],
            check: { record in
                #expect(record.spec.trafficPolicy == nil)
                #expect(record.condition("Degraded")?.reason == "InvalidAnnotation")
                #expect(record.condition("Degraded")?.message.contains(
                    "answers: \"0\" is not a whole number from 1 to 1000") == true)
            }
        ),
        MergeCase(
            name: "annotations that differ: the oldest export decides",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    service: F.service(
                        created: "2024-01-01T00:00:00Z",
                        annotations: ["mcdns.io/export": "true", "mcdns.io/ttl": "60"]
                    )
                ),
                MergeInput(
                    cluster: "west-1",
                    topology: F.west1,
                    service: F.service(
                        created: "2024-02-01T00:00:00Z",
                        annotations: ["mcdns.io/export": "true", "mcdns.io/ttl": "5"]
                    )
                ),
            ],
            check: { record in
                #expect(record.spec.recordTTL == 60)
                #expect(record.condition("Conflict")?.reason == "SpecConflict")
            }
        ),
        MergeCase(
            name: "offline and stale members stay in status.dns, marked stale",
            members: [
                MergeInput(
                    cluster: "east-1",
                    topology: F.east1,
                    link: .offline,
                    lastObserved: 100,
                    service: F.service(),
                    slices: [F.slice("a", [F.endpoint("10.1.0.1")])]
                ),
                MergeInput(
                    cluster: "east-2",
                    topology: F.east2,
                    link: .stale,
                    lastObserved: 200,
                    service: F.service(),
                    slices: [F.slice("b", [F.endpoint("10.2.0.1", ready: false)])]
                ),
                MergeInput(
                    cluster: "west-1",
                    topology: F.west1,
                    link: .synced,
                    lastObserved: 300,
                    service: F.service()
                ),
            ],
            check: { record in
                #expect(record.status.dns.map(\.cluster) == ["east-1", "east-2", "west-1"])
                #expect(record.status.dns.map(\.stale) == [true, true, false])
                #expect(record.status.dns.map(\.lastObserved) == [100, 200, 300])
                // Reported as observed; the DNS side drops offline targets by the cluster's link state.
                #expect(record.dns("east-1")?.readyEndpoints == 1)
                // Only the offline member has ready endpoints: not ready.
                #expect(record.condition("Ready")?.status == .false)
                #expect(record.condition("Degraded")?.reason == "Multiple")
                #expect(record.condition("Degraded")?.message.contains("MemberOffline: east-1 is offline") == true)
                #expect(record.condition("Degraded")?.message.contains("MemberStale: east-2 is disconnected") == true)
            }
        ),
    ]

    @Test(arguments: serviceCases)
    func services(_ testCase: MergeCase) throws {
        let record = try #require(RecordMerger.merge(key: F.key, members: testCase.members))
        #expect(record.key == F.key)
        testCase.check(record)
    }

    @Test func noMembersNoRecord() {
        #expect(RecordMerger.merge(key: F.key, members: []) == nil)
    }

    @Test func mergeIsIndependentOfMemberOrder() {
        let members =
            Self.serviceCases[0].members + [
                MergeInput(cluster: "east-2", topology: F.east2, service: F.service(clusterIPs: ["172.21.0.10"]))
            ]
        #expect(
            RecordMerger.merge(key: F.key, members: members)
                == RecordMerger.merge(key: F.key, members: members.reversed())
        )
    }
}
