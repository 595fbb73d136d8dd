import Compute
import Foundation
import Testing

/// The tar writer and reader, without Docker: round trips, long names, and what `tar` itself makes.
@Suite struct TarArchiveTests {
    @Test func filesAndFoldersRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        for size in [0, 1, 511, 512, 513, 1024, 70_001] {
            let contents = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let archive = TarArchive(entries: [
                .directory("top", mode: 0o750, modificationTime: 1_600_000_000),
                .file("top/data.bin", contents, mode: 0o600, modificationTime: 1_600_000_001),
                Entry(path: "top/link", kind: .symbolicLink(target: "data.bin"), mode: 0o777),
            ])
            let bytes = try archive.encoded()
            #expect(bytes.count % 512 == 0)
            #expect(try TarArchive(decoding: bytes) == archive)
        }
    }

    typealias Entry = TarArchive.Entry

    @Test func longPathsUseThePrefixOrAPaxRecord() throws {
        let splittable = String(repeating: "folder/", count: 20) + "file.txt" // 148 bytes: fits name + prefix
        let unsplittable = "x/" + String(repeating: "y", count: 150) // the last part alone is over 100 bytes
        let archive = TarArchive(entries: [
            .file(splittable, Data("a".utf8)),
            .file(unsplittable, Data("b".utf8)),
            .file("ünïcödé/名前.txt", Data("c".utf8)),
        ])
        let decoded = try TarArchive(decoding: try archive.encoded())
        #expect(decoded.entries.map(\.path) == [splittable, unsplittable, "ünïcödé/名前.txt"])
        #expect(decoded.entry(at: unsplittable)?.contents == Data("b".utf8))
    }

    @Test func readsWhatTheSystemTarWrites() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("berth-tar-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let deep = folder.appendingPathComponent("src/" + String(repeating: "d", count: 120) + "/" + String(repeating: "e", count: 90))
        try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
        let binary = Data([0, 0, 1, 2, 0, 255, 254, 0])
        try binary.write(to: deep.appendingPathComponent("bin.dat"))
        try Data("text\n".utf8).write(to: folder.appendingPathComponent("src/top.txt"))

        for format in ["ustar", "pax", "gnu"] {
            let output = folder.appendingPathComponent("out-\(format).tar")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/tar")
            process.arguments = ["--format=\(format)", "-C", folder.path, "-cf", output.path, "src"]
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            if format == "ustar" {
                // ustar cannot hold this path: tar refuses it, which is fine.
                continue
            }
            #expect(process.terminationStatus == 0)
            let archive = try TarArchive(decoding: try Data(contentsOf: output))
            let deepPath = "src/" + String(repeating: "d", count: 120) + "/" + String(repeating: "e", count: 90) + "/bin.dat"
            #expect(archive.entry(at: deepPath)?.contents == binary, "\(format): \(archive.entries.map(\.path))")
            #expect(archive.entry(at: "src/top.txt")?.contents == Data("text\n".utf8))
            #expect(archive.entry(at: "src")?.kind == .directory)
        }
    }

    @Test func theSystemTarReadsWhatWeWrite() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("berth-tar-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let long = "a/" + String(repeating: "b", count: 130) + "/c.bin"
        let binary = Data([0, 1, 0, 2, 0, 3] + Array(repeating: 0, count: 700))
        let archive = TarArchive(entries: [.directory("a"), .directory("a/" + String(repeating: "b", count: 130)), .file(long, binary)])
        let tarFile = folder.appendingPathComponent("ours.tar")
        try archive.encoded().write(to: tarFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = ["-C", folder.path, "-xf", tarFile.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(try Data(contentsOf: folder.appendingPathComponent(long)) == binary)
    }

    @Test func aDamagedHeaderIsRejected() throws {
        var bytes = [UInt8](try TarArchive(entries: [.file("a.txt", Data("hello".utf8))]).encoded())
        bytes[0] = UInt8(ascii: "b")
        #expect(throws: TarArchive.Failure.self) { try TarArchive(decoding: Data(bytes)) }
        let truncated = Data(try TarArchive(entries: [.file("a.txt", Data(count: 2000))]).encoded().prefix(1024))
        #expect(throws: TarArchive.Failure.self) { try TarArchive(decoding: truncated) }
    }
}
