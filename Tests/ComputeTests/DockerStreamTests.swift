@testable import Compute
import Foundation
import Testing

/// Docker's framed stdout/stderr stream, split without a daemon.
@Suite struct DockerStreamTests {
    static func frame(_ stream: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let size = UInt32(payload.count)
        return [stream, 0, 0, 0, UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + payload
    }

    @Test func framesAreSplitByStream() throws {
        let data = Data(Self.frame(1, Array("out\n".utf8)) + Self.frame(2, Array("err\n".utf8)) + Self.frame(1, [0, 255]) + Self.frame(2, []))
        let (stdout, stderr) = try DockerStream.demultiplex(data)
        #expect(stdout == Data("out\n".utf8) + Data([0, 255]))
        #expect(stderr == Data("err\n".utf8))
    }

    @Test func aLargeFrameUsesAllFourSizeBytes() throws {
        let payload = [UInt8](repeating: 7, count: 70_000)
        let (stdout, stderr) = try DockerStream.demultiplex(Data(Self.frame(1, payload)))
        #expect(stdout.count == 70_000)
        #expect(stderr.isEmpty)
    }

    @Test func aTruncatedStreamIsADecodingError() {
        #expect(throws: DockerError.self) { try DockerStream.demultiplex(Data([1, 0, 0])) }
        #expect(throws: DockerError.self) { try DockerStream.demultiplex(Data(Self.frame(1, [1, 2, 3]).dropLast())) }
    }

    @Test func dockerTimestampsKeepTheirFraction() throws {
        let date = try #require(DockerTimestamp.parse("2024-05-06T07:08:09.123456789Z"))
        #expect(abs(date.timeIntervalSince1970 - 1_714_979_289.123456789) < 0.000_001)
        #expect(DockerTimestamp.parse("2024-05-06T09:08:09+02:00")?.timeIntervalSince1970 == 1_714_979_289)
        #expect(try DockerTimestamp.date("0001-01-01T00:00:00Z") == nil)
        #expect(DockerTimestamp.parse("yesterday") == nil)
    }
}
