import Testing

@Test func placeholder_MCDNSDaemonTests() { #expect(Bool(true)) }
