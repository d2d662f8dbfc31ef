import NIOHTTP1

/// HTTP methods by name, so case tables read plainly.
enum HTTPMethodName {
    case get, post, put, patch, delete
    var nio: HTTPMethod {
        switch self {
        case .get: .GET
        case .post: .POST
        case .put: .PUT
        case .patch: .PATCH
        case .delete: .DELETE
        }
    }
}
