import Testing

@Test func placeholder_DNSServerTests() { #expect(Bool(true)) }
