import Foundation
import Testing

/// Checks DESIGN §2's table against the package as SwiftPM sees it, and against the imports actually written in
/// the sources (SwiftPM lets a target import modules of its dependencies' dependencies without declaring them).
@Suite struct DependencyDirectionTests {
    static let package = Result { try PackageDescriptionJSON.load() }

    var ourModules: Set<String> { Set(ModuleTable.allowed.keys) }

    @Test func everyTargetIsInTheTable() throws {
        let package = try Self.package.get()
        #expect(package.name == "mcdns")
        for target in package.targets where target.type != "test" {
            #expect(ModuleTable.allowed[target.name] != nil, "target \(target.name) is missing from DESIGN §2's table")
        }
    }

    @Test func declaredDependenciesFollowTheTable() throws {
        let package = try Self.package.get()
        let libraries = package.targets.filter { $0.type != "test" }
        #expect(libraries.count >= 10)
        for target in libraries {
            // Declaring a module further down an arrow (DNSServer naming DNSAnswer's RequesterAddress, which it
            // also reaches through RecordStore) keeps the direction; declaring one up or across does not.
            let reachable = ModuleTable.reachable(from: target.name)
            for dependency in target.targetDependencies ?? [] {
                #expect(
                    reachable.contains(dependency),
                    "\(target.name) depends on \(dependency); DESIGN §2 lets it reach only \(reachable.sorted())"
                )
            }
        }
    }

    @Test func importsInSourcesFollowTheTable() throws {
        let package = try Self.package.get()
        var checkedImports = 0
        for target in package.targets where target.type != "test" && target.type != "system-target" {
            let reachable = ModuleTable.reachable(from: target.name)
            for (file, module) in try Self.imports(in: "\(Self.root(package))/\(target.path)")
            where ourModules.contains(module) {
                checkedImports += 1
                #expect(
                    reachable.contains(module),
                    "\(file) imports \(module); DESIGN §2 lets \(target.name) import only \(reachable.sorted())"
                )
            }
        }
        // The composition root alone imports several of our modules: a scan that finds nothing is broken.
        #expect(checkedImports >= 5)
    }

    @Test func theTwoHalvesNeverMeet() throws {
        let package = try Self.package.get()
        let declared = Dictionary(
            uniqueKeysWithValues: package.targets.map { ($0.name, Set($0.targetDependencies ?? [])) }
        )
        func closure(_ name: String) -> Set<String> {
            var seen: Set<String> = []
            var pending = Array(declared[name] ?? [])
            while let next = pending.popLast() {
                guard seen.insert(next).inserted else { continue }
                pending.append(contentsOf: declared[next] ?? [])
            }
            return seen
        }
        for name in ModuleTable.dnsHalf where declared[name] != nil {
            #expect(closure(name).isDisjoint(with: ModuleTable.kubernetesHalf), "\(name) reaches the Kubernetes half")
        }
        for name in ModuleTable.kubernetesHalf where declared[name] != nil {
            #expect(closure(name).isDisjoint(with: ModuleTable.dnsHalf), "\(name) reaches the DNS half")
        }
        // The table itself keeps them apart, whatever exists today.
        for name in ModuleTable.dnsHalf {
            #expect(ModuleTable.reachable(from: name).isDisjoint(with: ModuleTable.kubernetesHalf))
        }
        for name in ModuleTable.kubernetesHalf {
            #expect(ModuleTable.reachable(from: name).isDisjoint(with: ModuleTable.dnsHalf))
        }
    }

    @Test func onlyTestsUseTestSupport() throws {
        let package = try Self.package.get()
        // Test support may build on test support (mcdns-apisim runs the simulator for demos); nothing shipped may.
        for target in package.targets where target.type != "test" && !ModuleTable.testSupport.contains(target.name) {
            for dependency in target.targetDependencies ?? [] {
                #expect(
                    !ModuleTable.testSupport.contains(dependency),
                    "\(target.name) (shipped) depends on \(dependency)"
                )
            }
        }
        // The simulator must share no code with the client it checks, or both could carry one bug.
        if let simulator = package.targets.first(where: { $0.name == "KubeAPISimulator" }) {
            #expect(!(simulator.targetDependencies ?? []).contains("KubeClient"))
        }
        // Likewise the reference model and the answer table it checks (DESIGN §9).
        if let model = package.targets.first(where: { $0.name == "DNSReferenceModel" }) {
            #expect(!(model.targetDependencies ?? []).contains("DNSAnswer"))
        }
    }

    @Test func onlyDNSWireTouchesLDNS() throws {
        let package = try Self.package.get()
        for target in package.targets where (target.targetDependencies ?? []).contains("CLDNS") {
            #expect(target.name == "DNSWire", "\(target.name) depends on CLDNS")
        }
    }

    static func root(_ package: PackageDescriptionJSON) -> String { package.path }

    /// Every `import M` (with any access level or attribute) in the Swift files below `directory`.
    static func imports(in directory: String) throws -> [(file: String, module: String)] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var result: [(String, String)] = []
        for case let relative as String in enumerator where relative.hasSuffix(".swift") {
            let text = try String(contentsOfFile: "\(directory)/\(relative)", encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard let index = words.firstIndex(of: "import"),
                    words[..<index].allSatisfy({
                        $0.hasPrefix("@")
                            || ["public", "internal", "package", "private", "fileprivate"].contains(String($0))
                    }),
                    index + 1 < words.count
                else { continue }
                var module = words[index + 1]
                // `import struct Foo.Bar` names the module after the kind.
                if ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"].contains(String(module)),
                    index + 2 < words.count
                {
                    module = words[index + 2]
                }
                result.append(("\(directory)/\(relative)", String(module.split(separator: ".")[0])))
            }
        }
        return result
    }
}
