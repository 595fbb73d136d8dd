import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener for the length of a test, which never answers.
public final class Listener {
    let fd: Int32
    public let port: Int

    /// Listens on `host` (a port the kernel picks); connections complete and are never answered.
    public init(host: String = "127.0.0.1") throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw TestEnvironment.Missing(description: "cannot listen on \(host): errno \(errno)") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
