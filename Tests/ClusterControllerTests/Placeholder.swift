import Testing

@Test func placeholder_ClusterControllerTests() { #expect(Bool(true)) }
