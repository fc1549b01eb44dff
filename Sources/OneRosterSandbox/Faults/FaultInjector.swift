import Foundation
import OneRoster
import Synchronization

/// One injected failure.
public enum Fault: Sendable, Hashable {
    /// 429 with `Retry-After` seconds.
    case tooManyRequests(retryAfter: Int)
    /// 403 whose body says "Rate Limit" (how one large SIS signals it), with `Retry-After`.
    case rateLimit403(retryAfter: Int)
    /// 500.
    case serverError
    /// 503 with `Retry-After`.
    case unavailable(retryAfter: Int)
    /// The answer is delayed, then given normally.
    case slow(milliseconds: Int)
    /// The connection is cut after the headers, mid-body.
    case dropConnection
}

/// How often each failure happens, as fractions of API requests (the token endpoint is spared).
public struct FaultRates: Sendable, Hashable {
    public var tooManyRequests = 0.0
    public var rateLimit403 = 0.0
    public var serverError = 0.0
    public var unavailable = 0.0
    public var slow = 0.0
    public var slowMilliseconds = 200
    public var dropConnection = 0.0
    /// `Retry-After` seconds sent with 429, 403 and 503.
    public var retryAfterSeconds = 1

    public init() {}

    /// Parses `429=0.1,403=0.05,500=0.05,503=0.05,slow=0.1:200,drop=0.02,retry-after=2`.
    public init(parsing text: String) throws(SandboxOptionError) {
        self.init()
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw SandboxOptionError("fault '\(item)' needs a value, as in 429=0.1") }
            func fraction(_ s: String) throws(SandboxOptionError) -> Double {
                guard let f = Double(s), (0...1).contains(f) else { throw SandboxOptionError("fault '\(kv[0])': '\(s)' is not a fraction between 0 and 1") }
                return f
            }
            switch kv[0] {
            case "429": tooManyRequests = try fraction(kv[1])
            case "403": rateLimit403 = try fraction(kv[1])
            case "500": serverError = try fraction(kv[1])
            case "503": unavailable = try fraction(kv[1])
            case "drop": dropConnection = try fraction(kv[1])
            case "slow":
                let parts = kv[1].split(separator: ":").map(String.init)
                slow = try fraction(parts[0])
                if parts.count > 1 {
                    guard let ms = Int(parts[1].replacingOccurrences(of: "ms", with: "")), ms >= 0 else {
                        throw SandboxOptionError("fault 'slow': write slow=FRACTION:MILLISECONDS, as in slow=0.1:200")
                    }
                    slowMilliseconds = ms
                }
            case "retry-after":
                guard let s = Int(kv[1]), s >= 0 else { throw SandboxOptionError("retry-after must be whole seconds") }
                retryAfterSeconds = s
            default:
                throw SandboxOptionError("unknown fault '\(kv[0])'; known: 429, 403, 500, 503, slow, drop, retry-after")
            }
        }
        guard tooManyRequests + rateLimit403 + serverError + unavailable + dropConnection <= 1 else {
            throw SandboxOptionError("fault fractions 429+403+500+503+drop add up to more than 1")
        }
    }
}

/// Decides, request by request, whether to fail: first from a script of exact faults (for
/// tests that need one precise failure), then at random with the configured rates, from a
/// seeded generator so a run can be repeated.
public final class FaultInjector: Sendable {
    struct State {
        var rates: FaultRates
        var random: SeededRandom
        var script: [Fault] = []
        var injected: [String: Int] = [:]
    }

    private let state: Mutex<State>

    public init(rates: FaultRates = FaultRates(), seed: UInt64 = 1) {
        state = Mutex(State(rates: rates, random: SeededRandom(seed: seed ^ 0xFA17)))
    }

    /// Changes the rates of a running sandbox.
    public func setRates(_ rates: FaultRates) { state.withLock { $0.rates = rates } }

    /// The next API requests get exactly these faults, in order.
    public func script(_ faults: [Fault]) { state.withLock { $0.script.append(contentsOf: faults) } }

    /// How many faults of each kind were injected.
    public var injectedCounts: [String: Int] { state.withLock { $0.injected } }

    func next() -> [Fault] {
        state.withLock { s in
            var out: [Fault] = []
            if !s.script.isEmpty {
                out.append(s.script.removeFirst())
            } else {
                let r = s.rates
                if r.slow > 0, s.random.unit() < r.slow { out.append(.slow(milliseconds: r.slowMilliseconds)) }
                let u = s.random.unit()
                var edge = 0.0
                let table: [(Double, Fault)] = [
                    (r.tooManyRequests, .tooManyRequests(retryAfter: r.retryAfterSeconds)),
                    (r.rateLimit403, .rateLimit403(retryAfter: r.retryAfterSeconds)),
                    (r.serverError, .serverError),
                    (r.unavailable, .unavailable(retryAfter: r.retryAfterSeconds)),
                    (r.dropConnection, .dropConnection)
                ]
                for (rate, fault) in table {
                    edge += rate
                    if u < edge {
                        out.append(fault)
                        break
                    }
                }
            }
            for f in out { s.injected[Self.name(f), default: 0] += 1 }
            return out
        }
    }

    static func name(_ f: Fault) -> String {
        switch f {
        case .tooManyRequests: "429"
        case .rateLimit403: "403"
        case .serverError: "500"
        case .unavailable: "503"
        case .slow: "slow"
        case .dropConnection: "drop"
        }
    }
}
