import Compute
import Foundation
import Testing

/// Files go into a container and come back out through the archive endpoints, byte for byte.
@Suite struct DockerArchiveTests {
    static func randomBytes(_ count: Int, zeros: Bool = true) -> Data {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        if zeros, count > 16 {
            // Runs of NULs, which a text-minded path would cut.
            for index in stride(from: 0, to: count, by: max(1, count / 7)) { bytes[index] = 0 }
            bytes.replaceSubrange(0..<8, with: repeatElement(0, count: 8))
        }
        return Data(bytes)
    }

    @Test(arguments: ["plain", "tls"])
    func aFolderOfBinaryFilesRoundTrips(daemon: String) async throws {
        let client = try DockerFleet.client(daemon)
        let files: [String: Data] = [
            "payload/empty.bin": Data(),
            "payload/one.bin": Data([0]),
            "payload/block.bin": Self.randomBytes(512),
            "payload/odd.bin": Self.randomBytes(1_000_003),
            "payload/nested/deeper/notes.txt": Data("héllo\nwörld\n".utf8),
            "payload/" + String(repeating: "long-folder-name/", count: 8) + "far.bin": Self.randomBytes(4_096),
        ]
        var entries: [TarArchive.Entry] = [.directory("payload", mode: 0o755)]
        var folders: Set<String> = ["payload"]
        for path in files.keys.sorted() {
            var parts = path.split(separator: "/").dropLast()
            var prefix: [Substring] = []
            while let part = parts.first {
                parts = parts.dropFirst()
                prefix.append(part)
                let folder = prefix.joined(separator: "/")
                if folders.insert(folder).inserted { entries.append(.directory(folder)) }
            }
            entries.append(.file(path, files[path]!, mode: 0o640, modificationTime: 1_700_000_000))
        }
        let tar = try TarArchive(entries: entries).encoded()

        try await DockerFleet.withContainer(on: client, purpose: "archive") { id, _ in
            try await client.putArchive(id, path: "/tmp", tar: tar)

            let listing = try await client.exec(id, command: ["sh", "-c", "cd /tmp/payload && find . -type f | sort"])
            #expect(listing.stdoutText.split(separator: "\n").count == files.count)
            let size = try await client.exec(id, command: ["sh", "-c", "wc -c < /tmp/payload/odd.bin"])
            #expect(size.stdoutText.trimmingCharacters(in: .whitespaces) == "1000003\n")

            let back = try TarArchive(decoding: try await client.archive(id, path: "/tmp/payload"))
            for (path, contents) in files {
                let entry = try #require(back.entry(at: path), "\(path) did not come back")
                #expect(entry.contents == contents, "\(path) changed on the way")
                #expect(entry.mode == 0o640, "\(path)")
                #expect(entry.modificationTime == 1_700_000_000, "\(path)")
            }
            #expect(back.entry(at: "payload/nested/deeper")?.kind == .directory)
            let returnedFiles = back.entries.filter { if case .file = $0.kind { true } else { false } }
            #expect(returnedFiles.count == files.count)
        }
    }

    @Test func aMissingPathIsNotFound() async throws {
        let client = try DockerFleet.plain(2)
        try await DockerFleet.withContainer(on: client, purpose: "archive-missing") { id, _ in
            do throws(DockerError) {
                _ = try await client.archive(id, path: "/no/such/path")
                Issue.record("a missing path was archived")
            } catch {
                #expect(error.isNotFound, "\(error)")
            }
            let tar = try TarArchive(entries: [.file("a", Data([1]))]).encoded()
            do throws(DockerError) {
                try await client.putArchive(id, path: "/no/such/folder", tar: tar)
                Issue.record("an archive was unpacked into a missing folder")
            } catch {
                #expect(error.isNotFound, "\(error)")
            }
        }
    }
}
