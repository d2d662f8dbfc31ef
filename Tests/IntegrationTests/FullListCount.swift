import KubeAPISimulator

extension KubeAPISimulator {
    /// Complete lists of `resource` this server answered: every list but the `limit=1` one a reflector makes to
    /// read the server's current version before it resumes a watch (DESIGN §6), which is no relist.
    func fullListCount(_ resource: SimResource) -> Int {
        requests().filter { $0.isList && $0.resource == resource && $0.queryValue("limit") != "1" }.count
    }
}
