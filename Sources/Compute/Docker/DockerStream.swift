import Foundation

/// Docker's multiplexed output stream (exec and attach without a TTY).
///
/// Each frame is an 8-byte header, `[stream, 0, 0, 0, size as 4 bytes big-endian]`, then `size`
/// bytes of payload; stream 1 is stdout and 2 is stderr.
enum DockerStream {
    /// Splits `data` into what went to stdout and to stderr.
    static func demultiplex(_ data: Data) throws(DockerError) -> (stdout: Data, stderr: Data) {
        var stdout = Data()
        var stderr = Data()
        var index = data.startIndex
        while index < data.endIndex {
            guard data.endIndex - index >= 8 else {
                throw DockerError.decoding("the output stream ends inside a frame header")
            }
            let stream = data[index]
            let size = data[index + 4 ..< index + 8].reduce(0) { $0 << 8 | Int($1) }
            let start = index + 8
            guard data.endIndex - start >= size else {
                throw DockerError.decoding("the output stream ends inside a frame")
            }
            switch stream {
            case 0, 1: stdout.append(data[start ..< start + size])
            case 2: stderr.append(data[start ..< start + size])
            default: throw DockerError.decoding("the output stream has a frame for unknown stream \(stream)")
            }
            index = start + size
        }
        return (stdout, stderr)
    }
}
