import Testing

@Test func placeholder_DNSWireTests() { #expect(Bool(true)) }
