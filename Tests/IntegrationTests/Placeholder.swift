import Testing

@Test func placeholder_integration() { #expect(Bool(true)) }
