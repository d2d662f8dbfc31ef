public import Foundation
public import KubeClient

/// A Service as the merge reads it, packed into one byte array: its type and flags, the creation time, the
/// `mcdns.io/*` annotations, cluster IPs and families, ports, the external name and the load balancer ingress.
/// Namespace and name are the cache's key; `uid` and `resourceVersion` are not kept (nothing merges on them).
///
/// Kept as `KubeService`, a Service cost about 380 bytes at 100,000 services: a dictionary bucket of about 180
/// bytes (the struct inline) at the dictionary's 1.6 buckets per entry, and a heap array of ports. Packed, the
/// bucket holds one array reference and a plain ClusterIP or headless Service takes about 60 bytes of heap
/// (issue 3, `bench/scale.sh`).
struct CachedService: Sendable, Equatable {
    let bytes: [UInt8]

    private enum Flag {
        static let headless: UInt8 = 1 << 2
        static let publishNotReady: UInt8 = 1 << 3
        static let externalName: UInt8 = 1 << 4
        static let created: UInt8 = 1 << 5
        static let portName: UInt8 = 1
        static let ingressIP: UInt8 = 1
        static let ingressHostname: UInt8 = 2
    }

    init(_ service: KubeService) {
        var writer = PackedWriter()
        let types = KubeService.ServiceType.allCases
        var flags = UInt8(types.firstIndex(of: service.type) ?? 0)
        if service.headless { flags |= Flag.headless }
        if service.publishNotReadyAddresses { flags |= Flag.publishNotReady }
        if service.externalName != nil { flags |= Flag.externalName }
        if service.metadata.creationTimestamp != nil { flags |= Flag.created }
        writer.byte(flags)
        if let created = service.metadata.creationTimestamp {
            writer.uint64(created.timeIntervalSinceReferenceDate.bitPattern)
        }
        // Sorted, so that equal annotations always pack to equal bytes (a dictionary's order is not fixed).
        let annotations = service.metadata.annotations.sorted { $0.key < $1.key }
        writer.varint(annotations.count)
        for (key, value) in annotations {
            writer.text(key)
            writer.text(value)
        }
        for list in [service.clusterIPs, service.ipFamilies] {
            writer.varint(list.count)
            for text in list { writer.text(text) }
        }
        writer.varint(service.ports.count)
        for port in service.ports {
            writer.byte(port.name == nil ? 0 : Flag.portName)
            if let name = port.name { writer.text(name) }
            writer.text(port.protocol)
            writer.varint(port.port)
        }
        if let externalName = service.externalName { writer.text(externalName) }
        writer.varint(service.loadBalancerIngress.count)
        for ingress in service.loadBalancerIngress {
            writer.byte((ingress.ip == nil ? 0 : Flag.ingressIP) | (ingress.hostname == nil ? 0 : Flag.ingressHostname))
            if let ip = ingress.ip { writer.text(ip) }
            if let hostname = ingress.hostname { writer.text(hostname) }
        }
        bytes = writer.finish()
    }

    /// The Service again, under the namespace and name it is filed under.
    func service(namespace: String, name: String) -> KubeService {
        var reader = PackedReader(bytes)
        let flags = reader.byte()
        let types = KubeService.ServiceType.allCases
        let typeIndex = Int(flags & 3)
        var metadata = KubeObjectMeta(namespace: namespace, name: name)
        if flags & Flag.created != 0 {
            metadata.creationTimestamp = Date(timeIntervalSinceReferenceDate: Double(bitPattern: reader.uint64()))
        }
        for _ in 0..<max(reader.varint(), 0) {
            let key = reader.text()
            metadata.annotations[key] = reader.text()
        }
        var service = KubeService(metadata: metadata, type: typeIndex < types.count ? types[typeIndex] : .clusterIP,
                                  headless: flags & Flag.headless != 0,
                                  publishNotReadyAddresses: flags & Flag.publishNotReady != 0)
        service.clusterIPs = (0..<max(reader.varint(), 0)).map { _ in reader.text() }
        service.ipFamilies = (0..<max(reader.varint(), 0)).map { _ in reader.text() }
        service.ports = (0..<max(reader.varint(), 0)).map { _ in
            let name = reader.byte() & Flag.portName != 0 ? reader.text() : nil
            let proto = reader.text()
            return KubeService.Port(name: name, protocol: proto, port: reader.varint())
        }
        if flags & Flag.externalName != 0 { service.externalName = reader.text() }
        service.loadBalancerIngress = (0..<max(reader.varint(), 0)).map { _ in
            let present = reader.byte()
            let ip = present & Flag.ingressIP != 0 ? reader.text() : nil
            let hostname = present & Flag.ingressHostname != 0 ? reader.text() : nil
            return KubeService.LoadBalancerIngress(ip: ip, hostname: hostname)
        }
        return service
    }
}
