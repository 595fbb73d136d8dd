import Domain
import Testing

/// Property-style tests: generated fleets and requests, invariants checked on every decision.
@Suite struct PlacementPropertyTests {
    /// A small deterministic generator (SplitMix64), so a failure can be replayed from its seed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let regions: [LabelValue] = [.string("eu"), .string("us"), .string("ap")]

    static func fleet(_ g: inout Generator) -> [WorkspaceServer] {
        (0..<Int.random(in: 0...8, using: &g)).map { i in
            let capacity = Capacity(
                cpuMillis: [1000, 2000, 4000, 8000].randomElement(using: &g)!,
                memoryMB: [1024, 4096, 8192].randomElement(using: &g)!,
                diskGB: [0, 10, 50].randomElement(using: &g)!,
                workspaces: Int.random(in: 1...6, using: &g)
            )
            let reserved = Capacity(
                cpuMillis: Int.random(in: 0...capacity.cpuMillis, using: &g) / 250 * 250,
                memoryMB: Int.random(in: 0...capacity.memoryMB, using: &g) / 256 * 256,
                diskGB: Int.random(in: 0...capacity.diskGB, using: &g),
                workspaces: Int.random(in: 0...capacity.workspaces, using: &g)
            )
            var labels: [String: LabelValue] = [:]
            if Bool.random(using: &g) { labels["region"] = regions.randomElement(using: &g)! }
            if Bool.random(using: &g) { labels["gpu"] = .bool(Bool.random(using: &g)) }
            return WorkspaceServer(
                id: ServerID.random(), name: "ws-\(i)",
                connection: ServerConnection(host: "127.0.0.1", dockerPort: 2375 + i),
                capacity: capacity, labels: labels,
                status: [.healthy, .healthy, .healthy, .unhealthy, .offline].randomElement(using: &g)!,
                schedulable: [.active, .active, .active, .cordoned, .draining].randomElement(using: &g)!,
                reserved: reserved
            )
        }
    }

    static func request(_ g: inout Generator, fleet: [WorkspaceServer]) -> PlacementRequest {
        var constraints: [LabelConstraint] = []
        switch Int.random(in: 0..<6, using: &g) {
        case 0: constraints.append(.equals("region", regions.randomElement(using: &g)!))
        case 1: constraints.append(.notEquals("region", regions.randomElement(using: &g)!))
        case 2: constraints.append(.oneOf("region", Array(regions.shuffled(using: &g).prefix(2))))
        case 3: constraints.append(.noneOf("region", Array(regions.shuffled(using: &g).prefix(2))))
        case 4: constraints.append(.equals("gpu", .bool(true)))
        default: break
        }
        return PlacementRequest(
            resources: Resources(
                cpuMillis: [250, 500, 1000, 2000].randomElement(using: &g)!,
                memoryMB: [128, 512, 1024, 2048].randomElement(using: &g)!,
                diskGB: [0, 1, 5, 20].randomElement(using: &g)!
            ),
            strategy: PlacementStrategy.allCases.randomElement(using: &g)!,
            preferredServer: fleet.randomElement(using: &g).map { Bool.random(using: &g) ? $0.name : $0.id.description },
            preferenceIsSoft: Bool.random(using: &g),
            constraints: constraints
        )
    }

    static func fits(_ s: WorkspaceServer, _ r: PlacementRequest) -> Bool {
        s.status == .healthy && s.schedulable == .active
            && s.reserved.cpuMillis + r.resources.cpuMillis <= s.capacity.cpuMillis
            && s.reserved.memoryMB + r.resources.memoryMB <= s.capacity.memoryMB
            && s.reserved.diskGB + r.resources.diskGB <= s.capacity.diskGB
            && s.reserved.workspaces < s.capacity.workspaces
            && r.constraints.allSatisfy { Reference.satisfies(s.labels, $0) }
    }

    /// What the design says, written here from its words rather than from `Placement`'s code:
    /// nothing below calls `LabelConstraint.violation(by:)` or `Placement.utilisation`.
    enum Reference {
        /// `key=v` needs the key with that value; `key!=v` refuses only that value (a server without
        /// the key passes); `key in [..]` needs the key with one of the values; `key notin [..]`
        /// refuses the key holding one of them (a server without the key passes).
        static func satisfies(_ labels: [String: LabelValue], _ constraint: LabelConstraint) -> Bool {
            let key: String, listed: [LabelValue], mustBeListed: Bool, missingPasses: Bool
            switch constraint {
            case .equals(let k, let v): (key, listed, mustBeListed, missingPasses) = (k, [v], true, false)
            case .notEquals(let k, let v): (key, listed, mustBeListed, missingPasses) = (k, [v], false, true)
            case .oneOf(let k, let vs): (key, listed, mustBeListed, missingPasses) = (k, vs, true, false)
            case .noneOf(let k, let vs): (key, listed, mustBeListed, missingPasses) = (k, vs, false, true)
            }
            guard let actual = labels[key] else { return missingPasses }
            var isListed = false
            for value in listed where value == actual { isListed = true }
            return isListed == mustBeListed
        }

        /// An exact fraction, so that ties are ties and not rounding.
        struct Fraction: Comparable {
            var numerator: Int
            var denominator: Int

            init(_ numerator: Int, _ denominator: Int) {
                let divisor = max(Self.gcd(numerator, denominator), 1)
                self.numerator = numerator / divisor
                self.denominator = denominator / divisor
            }

            static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? abs(a) : gcd(b, a % b) }

            /// Over the least common denominator, which stays small here (1,024,000 at most).
            static func + (a: Fraction, b: Fraction) -> Fraction {
                let common = a.denominator / gcd(a.denominator, b.denominator) * b.denominator
                return Fraction(a.numerator * (common / a.denominator) + b.numerator * (common / b.denominator), common)
            }
            static func < (a: Fraction, b: Fraction) -> Bool { a.numerator * b.denominator < b.numerator * a.denominator }
            static func == (a: Fraction, b: Fraction) -> Bool { a.numerator * b.denominator == b.numerator * a.denominator }
            var value: Double { Double(numerator) / Double(denominator) }
        }

        /// The share of the server in use once the workspace is added: the mean of the CPU, memory
        /// and (on a server that has any) disk shares.
        static func utilisation(_ s: WorkspaceServer, _ r: Resources) -> Fraction {
            var shares = [
                Fraction(s.reserved.cpuMillis + r.cpuMillis, s.capacity.cpuMillis),
                Fraction(s.reserved.memoryMB + r.memoryMB, s.capacity.memoryMB),
            ]
            if s.capacity.diskGB > 0 { shares.append(Fraction(s.reserved.diskGB + r.diskGB, s.capacity.diskGB)) }
            var sum = Fraction(0, 1)
            for share in shares { sum = sum + share }
            return Fraction(sum.numerator, sum.denominator * shares.count)
        }

        /// The fitting servers in the order a strategy must try them, found by brute force: each
        /// place goes to the server that no remaining one beats (lower utilisation for spread,
        /// higher for best fit; on a tie, the smaller name, then id).
        static func order(_ fitting: [WorkspaceServer], _ r: Resources, leastUtilisedFirst: Bool) -> [WorkspaceServer] {
            func beats(_ a: WorkspaceServer, _ b: WorkspaceServer) -> Bool {
                let ua = utilisation(a, r), ub = utilisation(b, r)
                if !(ua == ub) { return leastUtilisedFirst ? ua < ub : ub < ua }
                return a.name != b.name ? a.name < b.name : a.id.description < b.id.description
            }
            var remaining = fitting, result: [WorkspaceServer] = []
            while !remaining.isEmpty {
                let index = remaining.indices.first { i in remaining.indices.allSatisfy { j in j == i || beats(remaining[i], remaining[j]) } }!
                result.append(remaining.remove(at: index))
            }
            return result
        }
    }

    @Test(arguments: 0..<40)
    func noDecisionViolatesCapacityConstraintsCordonOrHealth(seed: Int) {
        var g = Generator(state: UInt64(seed) &* 7919)
        for _ in 0..<50 {
            let servers = Self.fleet(&g)
            let request = Self.request(&g, fleet: servers)
            let plan = Placement.plan(request, servers: servers, roundRobinCursor: Int.random(in: 0...100, using: &g))
            for candidate in plan.candidates {
                #expect(Self.fits(candidate, request), "seed \(seed): \(candidate.name) chosen but does not fit")
            }
            #expect(plan.evaluations.count == servers.count)
            #expect(plan.anyHealthy == servers.contains { $0.status == .healthy })
            // Every fitting server is a candidate unless hard affinity rules it out, with that as the reason.
            let hard = request.strategy == .affinity && !request.preferenceIsSoft
            for server in servers where Self.fits(server, request) {
                let isCandidate = plan.candidates.contains { $0.id == server.id }
                if hard {
                    let preferred = server.name == request.preferredServer || server.id.description == request.preferredServer
                    #expect(isCandidate == preferred)
                    if !isCandidate { #expect(plan.exclusions[server.name]?.first?.contains("hard affinity") == true) }
                } else {
                    #expect(isCandidate, "seed \(seed): fitting \(server.name) was excluded: \(plan.exclusions[server.name] ?? [])")
                }
            }
            // Every exclusion names the real reasons.
            for server in servers where !Self.fits(server, request) {
                let reasons = plan.exclusions[server.name] ?? []
                #expect(!reasons.isEmpty, "seed \(seed): \(server.name) excluded without reason")
                #expect(reasons.contains(server.status.rawValue) == (server.status != .healthy))
                #expect(reasons.contains(server.schedulable.rawValue) == (server.schedulable != .active))
                #expect(reasons.contains { $0.hasPrefix("cpu ") } == (server.reserved.cpuMillis + request.resources.cpuMillis > server.capacity.cpuMillis))
                #expect(reasons.contains { $0.hasPrefix("memory ") } == (server.reserved.memoryMB + request.resources.memoryMB > server.capacity.memoryMB))
                #expect(reasons.contains { $0.hasPrefix("disk ") } == (server.reserved.diskGB + request.resources.diskGB > server.capacity.diskGB))
                #expect(reasons.contains { $0.hasPrefix("workspaces ") } == (server.reserved.workspaces >= server.capacity.workspaces))
                // One label reason per constraint the reference says is broken, in the request's order,
                // naming the key and what the server has (its value, or that it is missing).
                let broken = request.constraints.filter { !Reference.satisfies(server.labels, $0) }
                let labelReasons = reasons.filter { $0.hasPrefix("label ") }
                #expect(labelReasons.count == broken.count, "seed \(seed): \(server.name) \(server.labels) \(request.constraints): \(labelReasons)")
                for (reason, constraint) in zip(labelReasons, broken) {
                    let has = server.labels[constraint.key].map { "\(constraint.key)=\($0)" } ?? "\(constraint.key) missing"
                    #expect(reason.hasPrefix("label \(has) "), "seed \(seed): \(reason) for \(constraint) on \(server.labels)")
                }
            }
            // Deterministic, whatever order the servers come in.
            #expect(Placement.plan(request, servers: servers.shuffled(using: &g), roundRobinCursor: 3) == Placement.plan(request, servers: servers, roundRobinCursor: 3))
        }
    }

    @Test(arguments: 0..<20)
    func spreadPicksLeastAndBestFitMostUtilised(seed: Int) {
        var g = Generator(state: UInt64(seed) &+ 101)
        for _ in 0..<50 {
            let servers = Self.fleet(&g)
            var request = Self.request(&g, fleet: servers)
            let fitting = servers.filter { Self.fits($0, request) }
            guard !fitting.isEmpty else { continue }
            let utilisations = fitting.map { Reference.utilisation($0, request.resources) }
            request.strategy = .spread
            let spread = Placement.plan(request, servers: servers)
            #expect(Reference.utilisation(spread.candidates[0], request.resources) == utilisations.min()!, "seed \(seed)")
            request.strategy = .bestFit
            let bestFit = Placement.plan(request, servers: servers)
            #expect(Reference.utilisation(bestFit.candidates[0], request.resources) == utilisations.max()!, "seed \(seed)")
            // The whole order is the reference's, ties included.
            let expectedSpread = Reference.order(fitting, request.resources, leastUtilisedFirst: true)
            let expectedBestFit = Reference.order(fitting, request.resources, leastUtilisedFirst: false)
            #expect(spread.candidates.map(\.name) == expectedSpread.map(\.name), "seed \(seed)")
            #expect(bestFit.candidates.map(\.name) == expectedBestFit.map(\.name), "seed \(seed)")
            // The score each candidate is shown with is its utilisation.
            for evaluation in spread.evaluations {
                guard case .candidate(_, let score) = evaluation.outcome, let server = fitting.first(where: { $0.id == evaluation.serverID }) else { continue }
                #expect(abs(score - Reference.utilisation(server, request.resources).value) < 1e-9, "seed \(seed): \(server.name) scored \(score)")
            }
        }
    }

    @Test(arguments: 0..<20)
    func affinityHonoursHardAndSoftPreference(seed: Int) {
        var g = Generator(state: UInt64(seed) &+ 5000)
        for _ in 0..<50 {
            let servers = Self.fleet(&g)
            guard let preferred = servers.randomElement(using: &g) else { continue }
            var request = Self.request(&g, fleet: servers)
            request.strategy = .affinity
            request.preferredServer = preferred.name
            request.preferenceIsSoft = false
            let hard = Placement.plan(request, servers: servers)
            #expect(hard.candidates.map(\.id) == (Self.fits(preferred, request) ? [preferred.id] : []))
            request.preferenceIsSoft = true
            let soft = Placement.plan(request, servers: servers)
            let fitting = servers.filter { Self.fits($0, request) }
            #expect(soft.candidates.count == fitting.count)
            if Self.fits(preferred, request) { #expect(soft.candidates.first?.id == preferred.id) }
            // After the preferred server, the others as spread would order them.
            let others = Reference.order(fitting.filter { $0.id != preferred.id }, request.resources, leastUtilisedFirst: true)
            #expect(soft.candidates.filter { $0.id != preferred.id }.map(\.name) == others.map(\.name), "seed \(seed)")
        }
    }

    @Test(arguments: 0..<20)
    func roundRobinVisitsFittingServersInTurn(seed: Int) {
        var g = Generator(state: UInt64(seed) &+ 9000)
        for _ in 0..<30 {
            let servers = Self.fleet(&g)
            var request = Self.request(&g, fleet: servers)
            request.strategy = .roundRobin
            let fitting = servers.filter { Self.fits($0, request) }.sorted { $0.name < $1.name }
            guard !fitting.isEmpty else { continue }
            let start = Int.random(in: 0...1000, using: &g)
            let firsts = (0..<fitting.count * 2).map { Placement.plan(request, servers: servers, roundRobinCursor: start + $0).candidates[0].id }
            let expected = (0..<fitting.count * 2).map { fitting[(start + $0) % fitting.count].id }
            #expect(firsts == expected)
            // Each full turn visits every fitting server exactly once.
            #expect(Set(firsts.prefix(fitting.count)).count == fitting.count)
        }
    }

    @Test func explanationsReadAsTheDesignSays() {
        let server = WorkspaceServer(
            id: ServerID.random(), name: "ws-eu-1", connection: ServerConnection(host: "127.0.0.1", dockerPort: 1),
            capacity: Capacity(cpuMillis: 4000, memoryMB: 4096, diskGB: 10, workspaces: 5),
            labels: ["region": .string("eu")], status: .healthy,
            reserved: Capacity(cpuMillis: 3500, memoryMB: 0, diskGB: 0, workspaces: 0)
        )
        let reasons = Placement.exclusionReasons(server, resources: Resources(cpuMillis: 1000, memoryMB: 128, diskGB: 1), constraints: [.equals("region", .string("us"))])
        #expect(reasons == ["cpu 3.5/4 + 1 > 4", "label region=eu ≠ us"])
        // Each kind of label constraint, with the value present and missing.
        let labelled = { (labels: [String: LabelValue], constraint: LabelConstraint) in
            var s = server
            s.labels = labels
            s.reserved = .zero
            return Placement.exclusionReasons(s, resources: Resources(cpuMillis: 100, memoryMB: 1, diskGB: 0), constraints: [constraint])
        }
        let eu: [String: LabelValue] = ["region": .string("eu")], none: [String: LabelValue] = [:]
        #expect(labelled(none, .equals("region", .string("us"))) == ["label region missing ≠ us"])
        #expect(labelled(eu, .notEquals("region", .string("eu"))) == ["label region=eu is excluded"])
        #expect(labelled(none, .notEquals("region", .string("eu"))) == [])
        #expect(labelled(eu, .oneOf("region", [.string("us"), .string("ap")])) == ["label region=eu not in [us, ap]"])
        #expect(labelled(none, .oneOf("region", [.string("eu")])) == ["label region missing not in [eu]"])
        #expect(labelled(eu, .noneOf("region", [.string("us"), .string("eu")])) == ["label region=eu is in excluded [us, eu]"])
        #expect(labelled(none, .noneOf("region", [.string("eu")])) == [])
        #expect(labelled(["gpu": .bool(true)], .equals("gpu", .bool(true))) == [])
        var down = server
        down.status = .unhealthy
        #expect(Placement.exclusionReasons(down, resources: Resources(cpuMillis: 100, memoryMB: 1, diskGB: 0), constraints: []) == ["unhealthy"])
    }
}
