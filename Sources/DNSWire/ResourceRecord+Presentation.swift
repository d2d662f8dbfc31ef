internal import CLDNS

#if canImport(Glibc)
import Glibc
#endif

extension ResourceRecord {
    /// The record in presentation form as ldns prints it (`web.example.com.	30	IN	A	192.0.2.1`), for tools
    /// such as `explain`; nil if ldns cannot read it back.
    public var presentation: String? {
        var wire = owner.wire
        wire += [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 0, 1]
        wire += [UInt8(ttl >> 24), UInt8(ttl >> 16 & 0xFF), UInt8(ttl >> 8 & 0xFF), UInt8(ttl & 0xFF)]
        wire += [UInt8(rdata.count >> 8 & 0xFF), UInt8(rdata.count & 0xFF)] + rdata
        var record: UnsafeMutablePointer<ldns_rr>? = nil
        var position = 0
        let status = wire.withUnsafeBufferPointer {
            ldns_wire2rr(&record, $0.baseAddress, $0.count, &position, LDNS_SECTION_ANSWER)
        }
        guard status == LDNS_STATUS_OK, let rr = record else { return nil }
        defer { ldns_rr_free(rr) }
        guard let text = ldns_rr2str(rr) else { return nil }
        defer { free(text) }
        return String(cString: text).trimmingTrailingNewlines()
    }
}
