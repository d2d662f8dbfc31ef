/// Server-side defaults the apiserver fills in, so objects read back as in the recordings: a Service gets its
/// type, a cluster IP from 10.96.0.0/12 (and fd00:10:96:: for dual-stack), ipFamilies, ipFamilyPolicy,
/// sessionAffinity, internalTrafficPolicy, port protocol and targetPort, node ports for NodePort/LoadBalancer
/// and an empty load-balancer status (transcript 21). An update keeps the addresses already allocated.
enum SimDefaults {
    static func apply(
        _ resource: SimResource,
        to object: SimJSON,
        previous: SimJSON?,
        allocator: inout SimStore.State
    ) -> SimJSON {
        switch resource {
        case .services: service(object, previous: previous, allocator: &allocator)
        case .endpointSlices: endpointSlice(object)
        default: object
        }
    }

    private static func endpointSlice(_ object: SimJSON) -> SimJSON {
        guard let ports = object["ports"]?.arrayValue else { return object }
        var copy = object
        copy.set("ports", .array(ports.map { port in
            var port = port
            if port["protocol"] == nil, port.isObject { port.set("protocol", .string("TCP")) }
            return port.ordered(["name", "protocol", "port", "appProtocol"])
        }))
        return copy
    }

    private static func service(_ object: SimJSON, previous: SimJSON?, allocator: inout SimStore.State) -> SimJSON {
        var spec = object["spec"] ?? .object([])
        let previousSpec = previous?["spec"]
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        spec.set("type", .string(type))
        if let ports = spec["ports"]?.arrayValue {
            spec.set("ports", .array(ports.map { port in
                var port = port
                guard port.isObject else { return port }
                if port["protocol"] == nil { port.set("protocol", .string("TCP")) }
                if port["targetPort"] == nil, let number = port["port"] { port.set("targetPort", number) }
                if type == "NodePort" || type == "LoadBalancer", port["nodePort"] == nil {
                    let previousPort = previousSpec?["ports"]?.arrayValue?.first { $0["port"] == port["port"] }
                    if let kept = previousPort?["nodePort"] {
                        port.set("nodePort", kept)
                    } else {
                        port.set("nodePort", .number(allocator.nextNodePort))
                        allocator.nextNodePort += 1
                    }
                }
                return port.ordered(["name", "protocol", "appProtocol", "port", "targetPort", "nodePort"])
            }))
        }
        if type == "ExternalName" {
            for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] { spec.set(field, nil) }
        } else {
            var clusterIPs = spec["clusterIPs"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if clusterIPs.isEmpty, let single = spec["clusterIP"]?.stringValue, !single.isEmpty {
                clusterIPs = [single]
            }
            if clusterIPs.isEmpty, let kept = previousSpec?["clusterIPs"]?.arrayValue?.compactMap(\.stringValue),
                !kept.isEmpty, previousSpec?["type"]?.stringValue != "ExternalName"
            {
                clusterIPs = kept
            }
            let policy = spec["ipFamilyPolicy"]?.stringValue
            let requestedFamilies = spec["ipFamilies"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if clusterIPs.isEmpty {
                let families: [String] =
                    if !requestedFamilies.isEmpty {
                        policy == "SingleStack" || policy == nil ? [requestedFamilies[0]] : requestedFamilies
                    } else if policy == "RequireDualStack" || policy == "PreferDualStack" {
                        ["IPv4", "IPv6"]
                    } else {
                        ["IPv4"]
                    }
                let counter = allocator.nextClusterIP
                allocator.nextClusterIP += 1
                clusterIPs = families.map { family in
                    family == "IPv6"
                        ? "fd00:10:96::\(String(counter, radix: 16))"
                        : "10.\(96 + (counter >> 16) & 0x0F).\((counter >> 8) & 0xFF).\(counter & 0xFF)"
                }
            }
            spec.set("clusterIP", .string(clusterIPs[0]))
            spec.set("clusterIPs", .array(clusterIPs.map { .string($0) }))
            if clusterIPs != ["None"] {
                let families = clusterIPs.map { $0.contains(":") ? "IPv6" : "IPv4" }
                spec.set("ipFamilies", .array(families.map { .string($0) }))
                spec.set("ipFamilyPolicy", .string(policy ?? (families.count > 1 ? "RequireDualStack" : "SingleStack")))
            } else {
                if spec["ipFamilies"] == nil { spec.set("ipFamilies", .array([.string("IPv4")])) }
                if spec["ipFamilyPolicy"] == nil { spec.set("ipFamilyPolicy", .string("SingleStack")) }
            }
        }
        if spec["sessionAffinity"] == nil { spec.set("sessionAffinity", .string("None")) }
        if type != "ExternalName", spec["internalTrafficPolicy"] == nil {
            spec.set("internalTrafficPolicy", .string("Cluster"))
        }
        if type == "NodePort" || type == "LoadBalancer", spec["externalTrafficPolicy"] == nil {
            spec.set("externalTrafficPolicy", .string("Cluster"))
        }
        spec = spec.ordered([
            "ports", "selector", "clusterIP", "clusterIPs", "type", "externalName", "sessionAffinity",
            "externalTrafficPolicy", "publishNotReadyAddresses", "ipFamilies", "ipFamilyPolicy",
            "internalTrafficPolicy",
        ])
        var copy = object
        copy.set("spec", spec)
        if copy["status"] == nil {
            copy.set("status", previous?["status"] ?? .object([("loadBalancer", .object([]))]))
        }
        return copy.ordered(["kind", "apiVersion", "metadata", "spec", "status"])
    }
}
