import Testing

@Test func placeholder_KubeClientTests() { #expect(Bool(true)) }
