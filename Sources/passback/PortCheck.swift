import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Whether a port can be listened on, checked before a command does anything else.
enum PortCheck {
    /// Why `host:port` cannot be listened on (in use, say), or nil when it can, or when `host` is
    /// not an IPv4 address (the server reports that itself). Binds with `SO_REUSEADDR` as the
    /// server does, so a port only in TIME_WAIT is free.
    static func problem(host: String, port: Int) -> String? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1, (1...65535).contains(port) else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var on: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound != 0 else { return nil }
        return errno == EADDRINUSE ? "another process is listening there" : String(cString: strerror(errno))
    }
}
