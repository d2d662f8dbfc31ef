import Testing

/// Least privilege, checked on what kubectl actually renders: no wildcards anywhere; the host writes only
/// ServiceDNSRecords (status through the subresource) and its own Lease; members grant nothing but reads of the
/// four kinds mcdns merges.
@Suite struct RBACTests {
    static let readVerbs: Set<String> = ["get", "list", "watch"]

    /// (apiGroup, resource) → verbs, over every rule of every Role and ClusterRole; resourceNames noted.
    func grants(
        _ rendered: RenderedManifests
    ) -> [(role: String, group: String, resource: String, verbs: Set<String>, names: [String])] {
        var result: [(String, String, String, Set<String>, [String])] = []
        for role in rendered.objects(kind: "Role") + rendered.objects(kind: "ClusterRole") {
            let name = "\(role["kind"].string ?? "")/\(role["metadata"]["name"].string ?? "")"
            for rule in role["rules"].array {
                #expect(rule["nonResourceURLs"].array.isEmpty, "\(name) grants non-resource URLs")
                for group in rule["apiGroups"].strings {
                    for resource in rule["resources"].strings {
                        result.append(
                            (name, group, resource, Set(rule["verbs"].strings), rule["resourceNames"].strings)
                        )
                    }
                }
            }
        }
        return result
    }

    func expectNoWildcards(_ rendered: RenderedManifests) {
        for role in rendered.objects(kind: "Role") + rendered.objects(kind: "ClusterRole") {
            for rule in role["rules"].array {
                for field in ["apiGroups", "resources", "verbs", "resourceNames"] {
                    #expect(
                        !rule[field].strings.contains("*"),
                        "\(rendered.base): wildcard in \(field) of \(role["metadata"]["name"])"
                    )
                }
            }
            #expect(!role["aggregationRule"].exists, "\(rendered.base): aggregated roles grant what others add")
        }
    }

    @Test(arguments: DeployFixture.hostBases)
    func hostGrantsOnlyRecordsAndTheLease(base: String) throws {
        let rendered = try DeployFixture.render(base)
        expectNoWildcards(rendered)
        let grants = grants(rendered)
        #expect(!grants.isEmpty)
        for grant in grants {
            switch (grant.group, grant.resource) {
            // Exactly what ClusterController's HostRecordSource, StatusWriter and LeaderElector send, no more.
            case ("multicluster.mcdns.io", "servicednsrecords"):
                // Users own the spec: mcdns never updates or patches it.
                #expect(grant.verbs == ["get", "list", "watch", "create", "delete"], "\(grant)")
            case ("multicluster.mcdns.io", "servicednsrecords/status"):
                // Status is only ever PUT (the object is read through the main resource).
                #expect(grant.verbs == ["update"], "\(grant)")
            case ("", "events"):
                // The status writer's event recorder creates Events and patches their count; it reads none.
                #expect(grant.verbs == ["create", "patch"] && grant.names.isEmpty, "\(grant)")
            case ("", "namespaces"):
                // The reflector reads the kube-system uid (the cluster's identity) before resuming a watch.
                #expect(grant.verbs == ["get"] && grant.names == ["kube-system"], "\(grant)")
            case ("coordination.k8s.io", "leases"):
                #expect(grant.role.hasPrefix("Role/"), "the Lease grant must be namespaced: \(grant)")
                // Anything beyond create is limited to mcdns's own Lease: read it, renew or take it over.
                #expect(
                    (grant.verbs == ["create"] && grant.names.isEmpty)
                        || (grant.verbs == ["get", "update"] && grant.names == ["mcdns-leader"]),
                    "\(grant)"
                )
            default:
                Issue.record("\(base): unexpected grant \(grant)")
            }
        }
        let resources = Set(grants.map(\.resource))
        #expect(resources == ["servicednsrecords", "servicednsrecords/status", "events", "leases", "namespaces"])
        // The bindings name the ServiceAccount the Deployment runs as.
        let deployment = try #require(rendered.object(kind: "Deployment", name: "mcdns"))
        let account = deployment["spec"]["template"]["spec"]["serviceAccountName"].string
        for binding in rendered.objects(kind: "RoleBinding") + rendered.objects(kind: "ClusterRoleBinding") {
            #expect(binding["subjects"].array.map(\.["name"].string) == [account], "\(binding["metadata"]["name"])")
        }
    }

    @Test(arguments: DeployFixture.memberBases)
    func memberGrantsOnlyReads(base: String) throws {
        let rendered = try DeployFixture.render(base)
        expectNoWildcards(rendered)
        let grants = grants(rendered)
        for grant in grants {
            #expect(grant.verbs.isSubset(of: Self.readVerbs), "\(base): write verb in \(grant)")
            #expect(grant.role.hasPrefix("ClusterRole/"), "\(grant)")
        }
        let granted = Set(grants.map { "\($0.group)/\($0.resource)" })
        #expect(
            granted == [
                "/services", "discovery.k8s.io/endpointslices", "/nodes", "multicluster.x-k8s.io/serviceexports",
                "/namespaces",
            ]
        )
        // Namespaces: only `get` of kube-system, whose uid is the member's identity (DESIGN §6), never a list.
        let namespaces = grants.filter { $0.resource == "namespaces" }
        #expect(namespaces.allSatisfy { $0.verbs == ["get"] && $0.names == ["kube-system"] }, "\(namespaces)")
        #expect(rendered.objects(kind: "Role").isEmpty)
        // Reading Secrets would let a stolen member token read every credential of the member.
        #expect(!grants.contains { $0.resource == "secrets" })
    }
}
