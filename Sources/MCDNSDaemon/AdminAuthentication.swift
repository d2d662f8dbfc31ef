import Hummingbird

/// Requires `Authorization: Bearer TOKEN` on every route but the probes (`/healthz`, `/readyz`), which
/// Kubernetes calls without credentials. The comparison takes the same time whatever the first differing byte,
/// so the token cannot be guessed byte by byte from response times; the token is never logged.
struct AdminAuthentication<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        let path = request.uri.path
        if path == "/healthz" || path == "/readyz" { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            Self.constantTimeEqual(Array(header.utf8.dropFirst("Bearer ".utf8.count)), token)
        else {
            context.logger.notice(
                "admin API request refused: missing or wrong bearer token",
                metadata: ["http.path": "\(path)"]
            )
            return AdminServer.json(
                AdminViews.Failure(
                    error: "missing or wrong bearer token: send Authorization: Bearer TOKEN "
                        + "(mcdns: --token-file F or MCDNS_ADMIN_TOKEN)"
                ),
                status: .unauthorized,
                headers: [.wwwAuthenticate: "Bearer"]
            )
        }
        return try await next(request, context)
    }

    /// Equal length and bytes, looking at every byte of the expected token whatever the input.
    static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: given.count ^ expected.count)
        for index in 0..<expected.count {
            let byte = index < given.count ? given[index] : 0
            difference |= byte ^ expected[index]
        }
        return difference == 0 && given.count == expected.count
    }
}
