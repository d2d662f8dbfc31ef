import Testing

@Test func placeholder_DNSAnswerTests() { #expect(Bool(true)) }
