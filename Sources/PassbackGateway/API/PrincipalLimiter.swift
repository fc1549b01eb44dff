import Foundation
import GraphQL

/// What one token may spend: requests in flight at once, and query cost over time, as a leaky
/// bucket in the manner of GitHub's and Shopify's GraphQL APIs. The bucket holds up to
/// `maximumAvailable` points and refills at `restoreRate` points a second; a request takes
/// its static cost from it before it runs, or is refused (HTTP 429) with the seconds to wait.
/// Every answer that ran reports the bucket in `extensions.cost`.
public final class PrincipalLimiter: @unchecked Sendable {
    public struct Settings: Sendable {
        /// Requests one token may have running at once.
        public var maxInFlight = 6
        /// Points the bucket holds (twice the largest query the cost limit allows).
        public var maximumAvailable = 20_000
        /// Points restored each second: 60,000 a minute.
        public var restoreRate = 1_000

        public init() {}
    }

    struct Admission: Sendable {
        var cost: Int
        var currentlyAvailable: Int
        var settings: Settings

        /// What the answer turned out to cost, once it ran.
        var actualCost: Int?

        /// `extensions.cost` of the answer.
        var extensions: Map {
            .dictionary([
                "requestedQueryCost": .number(Number(cost)), "actualQueryCost": actualCost.map { .number(Number($0)) } ?? .null,
                "throttleStatus": .dictionary([
                    "maximumAvailable": .number(Number(settings.maximumAvailable)),
                    "currentlyAvailable": .number(Number(currentlyAvailable)),
                    "restoreRate": .number(Number(settings.restoreRate))
                ])
            ])
        }
    }

    struct Refusal: Error, Sendable {
        var message: String
        var retryAfter: Int
        var admission: Admission
    }

    private struct Account {
        var inFlight = 0
        var available: Double
        var updated: ContinuousClock.Instant
    }

    let settings: Settings
    private let lock = NSLock()
    private var accounts: [Int64: Account] = [:]
    private let now: @Sendable () -> ContinuousClock.Instant

    init(settings: Settings = Settings(), now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.settings = settings
        self.now = now
    }

    /// Takes `cost` points and a slot for `token`, or says how long to wait. Call `release`
    /// when the request's work has ended (not merely when it was answered).
    func admit(token: Int64, cost: Int) -> Result<Admission, Refusal> {
        let at = now()
        return lock.withLock {
            var account = accounts[token] ?? Account(available: Double(settings.maximumAvailable), updated: at)
            let elapsed = at - account.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            account.available = min(Double(settings.maximumAvailable), account.available + seconds * Double(settings.restoreRate))
            account.updated = at
            defer { accounts[token] = account }
            let admission = Admission(cost: cost, currentlyAvailable: Int(account.available), settings: settings)
            if account.inFlight >= settings.maxInFlight {
                return .failure(
                    Refusal(
                        message: "this token already has \(settings.maxInFlight) requests running; wait for one to finish",
                        retryAfter: 1, admission: admission))
            }
            if Double(cost) > account.available {
                let wait = Int(((Double(cost) - account.available) / Double(settings.restoreRate)).rounded(.up))
                return .failure(
                    Refusal(
                        message: "this query costs \(cost) points and the token has \(Int(account.available)) left "
                            + "(\(settings.restoreRate) come back each second, up to \(settings.maximumAvailable)); retry in \(max(1, wait)) s",
                        retryAfter: max(1, wait), admission: admission))
            }
            account.available -= Double(cost)
            account.inFlight += 1
            return .success(Admission(cost: cost, currentlyAvailable: Int(account.available), settings: settings))
        }
    }

    /// Settles a request's charge with what it turned out to cost: gives back what its answer
    /// did not use (smaller than its pages allowed), as Shopify's bucket does, and takes what it
    /// used beyond its price (a payload's `userErrors`, the one list not priced by a `first`), so the bucket follows
    /// real use either way. A bucket may go below zero: the token then waits until it refills.
    func settle(token: Int64, charged: Int, cost: Int) {
        let points = charged - cost
        guard points != 0 else { return }
        lock.withLock {
            if var account = accounts[token] {
                account.available = min(Double(settings.maximumAvailable), account.available + Double(points))
                accounts[token] = account
            }
        }
    }

    /// What an answer cost: one point per field it holds, nested objects and list items included.
    static func actualCost(_ data: Map?) -> Int {
        guard let data else { return 0 }
        var total = 0
        var stack = [data]
        while let value = stack.popLast() {
            switch value {
            case .dictionary(let fields):
                total += fields.count
                stack.append(contentsOf: fields.values)
            case .array(let items):
                stack.append(contentsOf: items)
            default:
                continue
            }
        }
        return total
    }

    func release(token: Int64) {
        lock.withLock {
            if var account = accounts[token] {
                account.inFlight = max(0, account.inFlight - 1)
                accounts[token] = account
            }
        }
    }
}
