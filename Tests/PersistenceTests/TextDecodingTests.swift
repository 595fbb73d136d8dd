import Domain
import Foundation
import Testing

@testable import Persistence

/// The hand-written decoders of PostgreSQL's text form agree with Foundation's.
@Suite struct TextDecodingTests {
    @Test func aCanonicalUUIDParsesAsFoundationParsesItAndAnythingElseIsRefused() throws {
        for _ in 0..<200 {
            let uuid = UUID()
            #expect(UUID.parseCanonical(uuid.uuidString.lowercased()) == uuid)
            #expect(UUID.parseCanonical(uuid.uuidString) == uuid)
            #expect(UUID(postgresText: uuid.uuidString.lowercased(), type: .uuid) == uuid)
        }
        let good = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
        #expect(UUID.parseCanonical(good) == UUID(uuidString: good))
        for bad in ["", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg", "0f1e2d3c_4b5a-6978-8796-a5b4c3d2e1f0",
                    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f00", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2é1f"] {
            #expect(UUID.parseCanonical(bad) == nil, "\(bad)")
            #expect(UUID(postgresText: bad, type: .uuid) == UUID(uuidString: bad), "\(bad)")
        }
    }

    @Test func anEmptyJSONObjectDecodesWithoutADecoderAndOthersStillDo() throws {
        #expect(PostgresJSON<[String: LabelValue]>(postgresText: "{}", type: .jsonb)?.value == [:])
        #expect(PostgresJSON<[String: String]>(postgresText: "{}", type: .jsonb)?.value == [:])
        #expect(PostgresJSON<[String: LabelValue]>(postgresText: #"{"zone": "a", "gpu": 2}"#, type: .jsonb)?.value == ["zone": .string("a"), "gpu": .number(2)])
        struct Shape: Codable, Sendable, Equatable { var a: Int? }
        #expect(PostgresJSON<Shape>(postgresText: "{}", type: .jsonb)?.value == Shape(a: nil))
        #expect(PostgresJSON<[String]>(postgresText: "{}", type: .jsonb) == nil)
    }
}
