import Foundation
import Testing
import Yams

/// The host Deployment, Service and PodDisruptionBudget, and the member agent, as rendered: hardened pods,
/// resources, probes on the admin port, anti-affinity, volumes where mcdns.yaml expects them.
@Suite struct WorkloadTests {
    /// Every container of every Deployment in `rendered`, with its pod spec.
    func containers(_ rendered: RenderedManifests) -> [(pod: YAMLNode, container: YAMLNode)] {
        rendered.objects(kind: "Deployment").flatMap { deployment in
            let pod = deployment["spec"]["template"]["spec"]
            return pod["containers"].array.map { (pod, $0) }
        }
    }

    @Test(arguments: DeployFixture.hostBases + ["deploy/member", "deploy/overlays/member-east-1"])
    func podsAreHardened(base: String) throws {
        let rendered = try DeployFixture.render(base)
        let all = containers(rendered)
        #expect(!all.isEmpty, "\(base) has no workload")
        for (pod, container) in all {
            let name = "\(base): \(container["name"])"
            #expect(pod["securityContext"]["runAsNonRoot"].bool == true, "\(name)")
            let user = pod["securityContext"]["runAsUser"].int ?? container["securityContext"]["runAsUser"].int
            #expect((user ?? 0) > 0, "\(name): runs as root")
            #expect(pod["securityContext"]["seccompProfile"]["type"].string == "RuntimeDefault", "\(name)")
            #expect(pod["hostNetwork"].bool != true && pod["hostPID"].bool != true, "\(name)")
            let security = container["securityContext"]
            #expect(security["readOnlyRootFilesystem"].bool == true, "\(name)")
            #expect(security["allowPrivilegeEscalation"].bool == false, "\(name)")
            #expect(security["privileged"].bool != true, "\(name)")
            #expect(security["capabilities"]["drop"].strings == ["ALL"], "\(name)")
            #expect(Set(security["capabilities"]["add"].strings).isSubset(of: ["NET_BIND_SERVICE"]), "\(name)")
            let resources = container["resources"]
            #expect(resources["requests"]["cpu"].exists && resources["requests"]["memory"].exists, "\(name)")
            #expect(resources["limits"]["memory"].exists, "\(name): no memory limit")
            // A read-only root needs somewhere writable for temporary files.
            #expect(container["volumeMounts"].array.contains { $0["mountPath"].string == "/tmp" }, "\(name)")
        }
    }

    @Test(arguments: DeployFixture.hostBases)
    func hostDeploymentServesAndProbes(base: String) throws {
        let rendered = try DeployFixture.render(base)
        let deployment = try #require(rendered.object(kind: "Deployment", name: "mcdns"))
        #expect(deployment["spec"]["replicas"].int == 2)
        let pod = deployment["spec"]["template"]["spec"]
        let container = try #require(pod["containers"].array.first)
        #expect(pod["containers"].array.count == 1)

        // Binding 53 as a non-root user: capabilities added to a non-root process are dropped at exec, so the
        // sysctl is what makes it work; NET_BIND_SERVICE is the only capability on top.
        let sysctls = pod["securityContext"]["sysctls"].array
        #expect(
            sysctls.contains {
                $0["name"].string == "net.ipv4.ip_unprivileged_port_start" && $0["value"].string == "53"
            }
        )
        #expect(container["securityContext"]["capabilities"]["add"].strings == ["NET_BIND_SERVICE"])

        let ports = container["ports"].array.map { "\($0["containerPort"].int ?? 0)/\($0["protocol"].string ?? "TCP")" }
        #expect(Set(ports) == ["53/UDP", "53/TCP", "9253/TCP", "8443/TCP"])
        let admin = try #require(container["ports"].array.first { $0["name"].string == "admin" })
        #expect(admin["containerPort"].int == 9253)
        #expect(container["livenessProbe"]["httpGet"]["path"].string == "/healthz")
        #expect(container["readinessProbe"]["httpGet"]["path"].string == "/readyz")
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            let port = container[probe]["httpGet"]["port"]
            #expect(port.string == "admin" || port.int == 9253, "\(probe) is not on the admin port")
        }

        let antiAffinity = pod["affinity"]["podAntiAffinity"]
        let terms =
            antiAffinity["preferredDuringSchedulingIgnoredDuringExecution"].array.map(\.["podAffinityTerm"])
            + antiAffinity["requiredDuringSchedulingIgnoredDuringExecution"].array
        #expect(terms.contains { $0["topologyKey"].string == "kubernetes.io/hostname" })
        let podLabels =
            pod.exists ? deployment["spec"]["template"]["metadata"]["labels"].mapping.compactMapValues(\.string) : [:]
        for term in terms {
            for (key, value) in term["labelSelector"]["matchLabels"].mapping {
                #expect(podLabels[key] == value.string, "anti-affinity selects \(key)=\(value), which the pods lack")
            }
        }

        // mcdns.yaml, as mounted, agrees with the pod: config path, listeners, stateDir on the emptyDir.
        let args = container["args"].strings
        #expect(args.first == "serve")
        let configPath = try #require(args.firstIndex(of: "--config").map { args[$0 + 1] })
        let mounts = container["volumeMounts"].array
        let configMount = try #require(mounts.first { configPath.hasPrefix(($0["mountPath"].string ?? "") + "/") })
        let configVolume = try #require(pod["volumes"].array.first { $0["name"].string == configMount["name"].string })
        let configMapName = try #require(configVolume["configMap"]["name"].string)
        let configMap = try #require(rendered.object(kind: "ConfigMap", name: configMapName))
        let fileName = String(configPath.split(separator: "/").last ?? "")
        let config = YAMLNode(try #require(try Yams.load(yaml: configMap["data"][fileName].string ?? "")))
        #expect(config["listen"]["dns"].strings == ["0.0.0.0:53"])
        #expect(config["listen"]["admin"].string == "0.0.0.0:9253")
        #expect(config["tunnel"]["listen"].string == "0.0.0.0:8443")
        #expect(config["host"]["inCluster"].bool == true)
        let stateDir = try #require(config["stateDir"].string)
        let stateMount = try #require(
            mounts.first { $0["mountPath"].string == stateDir },
            "nothing mounted at stateDir \(stateDir)"
        )
        let stateVolume = pod["volumes"].array.first { $0["name"].string == stateMount["name"].string }
        #expect(stateVolume?["emptyDir"].exists == true)
        #expect(stateMount["readOnly"].bool != true)
    }

    @Test(arguments: DeployFixture.hostBases)
    func serviceAndDisruptionBudgetSelectThePods(base: String) throws {
        let rendered = try DeployFixture.render(base)
        let deployment = try #require(rendered.object(kind: "Deployment", name: "mcdns"))
        let podLabels = deployment["spec"]["template"]["metadata"]["labels"].mapping.compactMapValues(\.string)
        let service = try #require(rendered.object(kind: "Service", name: "mcdns"))
        let ports = service["spec"]["ports"].array.map { "\($0["port"].int ?? 0)/\($0["protocol"].string ?? "TCP")" }
        #expect(Set(ports) == ["53/UDP", "53/TCP", "8443/TCP"])
        let containerPorts = Set(
            deployment["spec"]["template"]["spec"]["containers"][0]["ports"].array.compactMap(\.["name"].string)
        )
        for port in service["spec"]["ports"].array {
            #expect(
                containerPorts.contains(port["targetPort"].string ?? ""),
                "targetPort \(port["targetPort"]) is no container port"
            )
        }
        let pdb = try #require(rendered.objects(kind: "PodDisruptionBudget").first)
        #expect(pdb["spec"]["minAvailable"].int == 1)
        for selector in [service["spec"]["selector"], pdb["spec"]["selector"]["matchLabels"]] {
            #expect(!selector.mapping.isEmpty)
            for (key, value) in selector.mapping {
                #expect(podLabels[key] == value.string, "\(key)=\(value) selects no mcdns pod")
            }
        }
        // The namespace enforces the restricted Pod Security Standard the pods are written for.
        let namespace = try #require(rendered.object(kind: "Namespace", name: "mcdns-system"))
        #expect(namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"].string == "restricted")
    }

    @Test func agentDialsTheHostAsTheReader() throws {
        let rendered = try DeployFixture.render("deploy/overlays/member-east-1")
        let deployment = try #require(rendered.object(kind: "Deployment", name: "mcdns-agent"))
        let pod = deployment["spec"]["template"]["spec"]
        #expect(pod["serviceAccountName"].string == "mcdns-reader")
        let container = pod["containers"][0]
        #expect(container["args"].strings.first == "agent")
        #expect(container["securityContext"]["capabilities"]["add"].strings.isEmpty, "the agent only dials out")
        for flag in ["--host=$(MCDNS_HOST)", "--cluster=$(MCDNS_CLUSTER)", "--token-file=", "--ca-file="] {
            #expect(container["args"].strings.contains { $0.hasPrefix(flag) }, "\(flag) missing")
        }
        // The overlay's values reach the container through the generated ConfigMap.
        let configMapName = container["env"].array.first { $0["name"].string == "MCDNS_CLUSTER" }?["valueFrom"][
            "configMapKeyRef"
        ]["name"].string
        let configMap = try #require(rendered.object(kind: "ConfigMap", name: configMapName ?? ""))
        #expect(configMap["data"]["cluster"].string == "east-1")
        #expect(configMap["data"]["host"].string?.hasPrefix("wss://") == true)
        #expect(rendered.objects(kind: "ConfigMap").count == 1, "behavior: replace left two agent ConfigMaps")
    }

    @Test func directModeHasATokenForTheReader() throws {
        let rendered = try DeployFixture.render("deploy/member/direct")
        #expect(rendered.objects(kind: "Deployment").isEmpty, "direct mode runs nothing in the member")
        let secret = try #require(rendered.objects(kind: "Secret").first)
        #expect(secret["type"].string == "kubernetes.io/service-account-token")
        #expect(secret["metadata"]["annotations"]["kubernetes.io/service-account.name"].string == "mcdns-reader")
        #expect(rendered.object(kind: "ServiceAccount", name: "mcdns-reader") != nil)
    }
}
