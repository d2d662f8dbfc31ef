import Testing

@Test func placeholder_PackageTests() { #expect(Bool(true)) }
