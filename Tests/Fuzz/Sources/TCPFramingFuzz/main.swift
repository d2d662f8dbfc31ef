// libFuzzer entry point: the checks are in TCPFramingFuzzEntry.swift, which the root package's FuzzReplayTests
// also compiles, to replay Seeds/ and Crashes/ in `swift test`. A crash, a sanitizer report or a violated
// property is a finding; run.sh copies the input to Tests/Fuzz/Crashes/.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    // An exactly-sized copy: a read past the input's end is then an ASan report.
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    if let violation = TCPFramingFuzzEntry.check(input) { fatalError(violation) }
    return 0
}
