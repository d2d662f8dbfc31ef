import DNSTestSupport
import Foundation
import Testing

/// The mcdns.yaml and zone files each host kustomization ships pass `mcdns check`, the same code `mcdns serve`
/// starts with: the pod's volumes are laid out in a temp dir as the container sees them (config/, zones/,
/// tls/, members/ side by side), with placeholder files for the Secrets a user creates first.
@Suite struct ShippedConfigTests {
    @Test(arguments: DeployFixture.hostBases)
    func renderedConfigPassesCheck(base: String) throws {
        let rendered = try DeployFixture.render(base)
        let root = try TemporaryDirectory(prefix: "mcdns-etc")
        defer { root.remove() }
        let config = try #require(rendered.generatedConfigMap("mcdns-config"))
        let zones = try #require(rendered.generatedConfigMap("mcdns-zones"))
        #expect(config["data"].keys == ["mcdns.yaml"])
        let configFile = try root.write("config/mcdns.yaml", config["data"]["mcdns.yaml"].string ?? "")
        #expect(zones["data"].keys.count >= 2)
        for (name, text) in zones["data"].mapping { try root.write("zones/\(name)", text.string ?? "") }
        // What `kubectl create secret tls mcdns-tunnel-tls` and the members Secret put there.
        try root.write("tls/tls.crt", "placeholder\n")
        try root.write("tls/tls.key", "placeholder\n")
        try root.write("members/west-1.kubeconfig", "placeholder\n")
        // What `kubectl create secret generic mcdns-admin-token` puts there.
        try root.write("admin/token", "placeholder-token\n")

        let output = try ProcessRunner.run(
            DeployFixture.mcdnsBinary,
            ["check", "--config", configFile],
            timeout: .seconds(30)
        )
        #expect(output.status == 0, "\(base):\n\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("\(configFile): configuration ok"), "\(output.stdout)")
        // Both served zones (the federation domain and clusterset.local) compiled.
        #expect(output.stdout.contains("zone clusterset.local. ok"), "\(output.stdout)")
        #expect(output.stdout.contains("zone example.com. ok"), "\(output.stdout)")
    }

    /// The check is not vacuous: without the tunnel certificate the same config is refused, naming the file.
    @Test func checkNoticesAMissingSecret() throws {
        let rendered = try DeployFixture.render("deploy/host")
        let root = try TemporaryDirectory(prefix: "mcdns-etc")
        defer { root.remove() }
        let config = try #require(rendered.generatedConfigMap("mcdns-config"))
        let configFile = try root.write("config/mcdns.yaml", config["data"]["mcdns.yaml"].string ?? "")
        let zones = try #require(rendered.generatedConfigMap("mcdns-zones"))
        for (name, text) in zones["data"].mapping { try root.write("zones/\(name)", text.string ?? "") }
        let output = try ProcessRunner.run(
            DeployFixture.mcdnsBinary,
            ["check", "--config", configFile],
            timeout: .seconds(30)
        )
        #expect(output.status != 0)
        #expect((output.stdout + output.stderr).contains("tls.crt"), "\(output.stdout)\(output.stderr)")
    }
}
