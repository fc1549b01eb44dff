import Foundation
import OneRosterSandbox
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Starting the sandbox")
struct StartTests {
    @Test("a sandbox told to listen on a port in use fails at once, naming the address, instead of waiting forever")
    func portInUse() async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let held = withUnsafeMutablePointer(to: &address) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(held)
        let port = Int(UInt16(bigEndian: address.sin_port))
        // Bounded: before the fix the start never returned.
        let outcome = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do {
                    _ = try await Sandbox(configuration: SandboxConfiguration(host: "127.0.0.1", port: port)).start()
                    return "started"
                } catch {
                    return "\(error)"
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(30))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let message = try #require(outcome, "the start did not end in 30 s")
        #expect(message.contains("could not listen on 127.0.0.1:\(port)"), "\(message)")
    }
}
