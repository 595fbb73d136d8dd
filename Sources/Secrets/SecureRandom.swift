import COpenSSL

/// Random bytes from OpenSSL's CSPRNG.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let ok = buffer.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        // A CSPRNG that cannot produce bytes leaves no safe way to go on.
        precondition(ok == 1, "OpenSSL RAND_bytes failed")
        return buffer
    }
}
