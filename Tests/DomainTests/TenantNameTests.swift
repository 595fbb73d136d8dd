import Domain
import Testing

@Suite struct TenantNameTests {
    @Test(arguments: ["acme", "a", "team-7", String(repeating: "x", count: 63)])
    func acceptsValidNames(_ name: String) {
        #expect(TenantName.problem(with: name) == nil)
    }

    @Test(arguments: ["", "-acme", "acme-", "Acme", "a b", "a_b", "ünï", "x'; DROP TABLE tenants; --", String(repeating: "x", count: 64)])
    func refusesInvalidNames(_ name: String) {
        #expect(TenantName.problem(with: name) != nil)
    }

    @Test func identifiersRoundTripThroughText() throws {
        let id = TenantID.random()
        #expect(TenantID(id.description) == id)
        #expect(TenantID("not-a-uuid") == nil)
    }
}
