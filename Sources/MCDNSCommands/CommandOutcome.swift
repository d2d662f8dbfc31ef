import ArgumentParser

/// Carries a parsed async command into the detached task that runs it and its error back to the waiting main
/// thread (`MCDNSCommand.start`). Only one task touches it at a time: the main thread reads `failure` after the
/// semaphore the task signals when done, so the unchecked sendability is upheld by that hand-over.
final class CommandOutcome: @unchecked Sendable {
    private var command: any AsyncParsableCommand
    private(set) var failure: (any Error)?

    init(_ command: any AsyncParsableCommand) {
        self.command = command
    }

    func run() async {
        do {
            try await command.run()
        } catch {
            failure = error
        }
    }
}
