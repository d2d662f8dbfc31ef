/// The few validations the recordings show or that clients commonly trip: object names, EndpointSlice
/// addressType (transcript 57) and Service type.
enum SimValidation {
    static func validate(_ resource: SimResource, name: String, object: SimJSON) throws(SimAPIError) {
        if resource == .services {
            if !isDNS1035Label(name) {
                throw SimStatus.invalid(
                    resource, name: name, field: "metadata.name", causeReason: "FieldValueInvalid",
                    causeMessage:
                        "Invalid value: \"\(name)\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
                )
            }
        } else if !isDNS1123Subdomain(name) {
            throw SimStatus.invalid(
                resource, name: name, field: "metadata.name", causeReason: "FieldValueInvalid",
                causeMessage:
                    "Invalid value: \"\(name)\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            )
        }
        switch resource {
        case .endpointSlices:
            let addressType = object["addressType"]?.stringValue ?? ""
            let supported = ["FQDN", "IPv4", "IPv6"]
            if addressType.isEmpty {
                throw SimStatus.invalid(
                    resource, name: name, field: "addressType", causeReason: "FieldValueRequired",
                    causeMessage: "Required value"
                )
            }
            if !supported.contains(addressType) {
                throw SimStatus.invalid(
                    resource, name: name, field: "addressType", causeReason: "FieldValueNotSupported",
                    causeMessage:
                        "Unsupported value: \"\(addressType)\": supported values: \"FQDN\", \"IPv4\", \"IPv6\""
                )
            }
        case .services:
            let type = object["spec"]?["type"]?.stringValue ?? "ClusterIP"
            if !["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"].contains(type) {
                throw SimStatus.invalid(
                    resource, name: name, field: "spec.type", causeReason: "FieldValueNotSupported",
                    causeMessage:
                        "Unsupported value: \"\(type)\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""
                )
            }
            if type == "ExternalName", (object["spec"]?["externalName"]?.stringValue ?? "").isEmpty {
                throw SimStatus.invalid(
                    resource, name: name, field: "spec.externalName", causeReason: "FieldValueRequired",
                    causeMessage: "Required value"
                )
            }
        default:
            break
        }
    }

    static func isDNS1035Label(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, let last = scalars.last, scalars.count <= 63 else { return false }
        return ("a"..."z").contains(first) && (("a"..."z").contains(last) || ("0"..."9").contains(last))
            && scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    static func isDNS1123Subdomain(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            let scalars = Array(label.unicodeScalars)
            guard let first = scalars.first, let last = scalars.last else { return false }
            func alnum(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("0"..."9").contains(s) }
            return alnum(first) && alnum(last) && scalars.allSatisfy { alnum($0) || $0 == "-" }
        }
    }
}
