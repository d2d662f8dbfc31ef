import Foundation
import Testing

/// Docker does not run on the build machine, so the image is checked as text: two stages (the Swift toolchain
/// builds, a slim Debian runs), libldns on both sides, a numeric non-root user that matches the manifests, the
/// ports the Service and probes use, and `mcdns` as the entry point.
@Suite struct DockerfileTests {
    func dockerfile() throws -> Dockerfile {
        try Dockerfile(String(contentsOfFile: DeployFixture.path("Dockerfile"), encoding: .utf8))
    }

    @Test func twoStagesBuildAndRun() throws {
        let file = try dockerfile()
        #expect(file.stages.count == 2)
        let build = try #require(file.stages.first)
        let runtime = try #require(file.stages.last)
        #expect(file.expand(build.image).hasPrefix("swift:6."), "\(file.expand(build.image))")
        #expect(build.name == "build")
        #expect(build.all("RUN").contains { $0.arguments.contains("libldns-dev") })
        #expect(build.all("RUN").contains { $0.arguments.contains("swift build -c release") })
        let runtimeImage = file.expand(runtime.image)
        #expect(runtimeImage.hasPrefix("debian:") && runtimeImage.hasSuffix("-slim"), "\(runtimeImage)")
        // The runtime stage takes one prepared tree from the build stage: the binary and the Swift runtime
        // libraries ldd found, registered with the dynamic linker; ldns comes from Debian.
        let copies = runtime.all("COPY").filter { $0.arguments.hasPrefix("--from=") }
        #expect(copies.map(\.arguments) == ["--from=build /out/ /"])
        let assemble = build.all("RUN").map(\.arguments).joined(separator: "\n")
        for step in ["/out/usr/local/bin/mcdns", "ldd", "/out/usr/lib/swift/linux", "/out/etc/ld.so.conf.d/"] {
            #expect(assemble.contains(step), "the build stage does not prepare \(step)")
        }
        #expect(runtime.all("RUN").contains { $0.arguments.contains("ldconfig") })
        #expect(runtime.all("RUN").contains { $0.arguments.contains("libldns3") })
        #expect(!runtime.all("RUN").contains { $0.arguments.contains("-dev") }, "no headers in the runtime image")
    }

    @Test func runsAsTheManifestsNonRootUser() throws {
        let runtime = try #require(try dockerfile().stages.last)
        let user = try #require(runtime.all("USER").last?.arguments)
        let uid = try #require(Int(user.split(separator: ":")[0]), "USER must be numeric for runAsNonRoot: \(user)")
        #expect(uid != 0)
        // The last instruction that changes the user wins; nothing runs as root after it.
        let userLine = try #require(runtime.all("USER").last?.line)
        #expect(!runtime.instructions.contains { $0.keyword == "RUN" && $0.line > userLine })
        for base in ["deploy/host", "deploy/member"] {
            let rendered = try DeployFixture.render(base)
            for deployment in rendered.objects(kind: "Deployment") {
                #expect(
                    deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"].int == uid,
                    "\(base): \(deployment["metadata"]["name"]) runs as another user than the image's"
                )
            }
        }
    }

    @Test func exposesThePortsAndStartsMcdns() throws {
        let runtime = try #require(try dockerfile().stages.last)
        let exposed = Set(runtime.all("EXPOSE").flatMap { $0.arguments.split(separator: " ").map(String.init) })
        #expect(exposed == ["53/udp", "53/tcp", "9253/tcp", "8443/tcp"])
        let entrypoint = try #require(runtime.all("ENTRYPOINT").last?.arguments)
        let decoded = try JSONDecoder().decode([String].self, from: Data(entrypoint.utf8))
        #expect(decoded == ["/usr/local/bin/mcdns"])
        let command = try JSONDecoder().decode(
            [String].self,
            from: Data((runtime.all("CMD").last?.arguments ?? "").utf8)
        )
        // The default command reads the config where the host Deployment mounts it.
        let deployment = try #require(try DeployFixture.render("deploy/host").object(kind: "Deployment", name: "mcdns"))
        #expect(command == deployment["spec"]["template"]["spec"]["containers"][0]["args"].strings)
    }

    @Test func parserReadsContinuationsAndRejectsGarbage() throws {
        let file = try Dockerfile("ARG V=1\nFROM a:${V} AS one\nRUN x \\\n    # note\n    y\nFROM b\nUSER 7\n")
        #expect(file.stages.map { file.expand($0.image) } == ["a:1", "b"])
        #expect(file.stages[0].all("RUN").map(\.arguments) == ["x y"])
        #expect(throws: DeployTestError.self) { try Dockerfile("RUN x\nFROM a") }
        #expect(throws: DeployTestError.self) { try Dockerfile("FROM a AS\n") }
    }
}
