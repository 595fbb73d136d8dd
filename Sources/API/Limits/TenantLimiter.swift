import Domain
import Foundation
import Synchronization

/// How much of the service one tenant may use at once, per replica.
public struct TenantLimits: Sendable, Equatable {
    /// Requests of one tenant (and of one API key) in flight at once; `berth serve` keeps it at half
    /// the database pool unless told otherwise, so other tenants always find a connection.
    public var maxConcurrent: Int
    /// Sustained requests per second, and how many may come at once above it (a token bucket).
    public var ratePerSecond: Double
    public var burst: Double

    public init(maxConcurrent: Int = 16, ratePerSecond: Double = 100, burst: Double = 200) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.ratePerSecond = max(0.01, ratePerSecond)
        self.burst = max(1, burst)
    }
}

/// Admits or refuses one tenant's requests.
public typealias TenantLimiter = RequestLimiter<TenantID>

/// Admits or refuses the requests of one caller (a tenant, or an API key before it is looked up): at
/// most `maxConcurrent` in flight, and a token bucket for the rate. A refusal says when to come back.
public final class RequestLimiter<Caller: Hashable & Sendable>: Sendable {
    public enum Admission: Sendable, Equatable {
        case admitted
        /// Too many in flight, or the bucket is empty: try again after this many seconds.
        case refused(reason: String, retryAfter: Int)
    }

    private struct Bucket {
        var tokens: Double
        var refilled: ContinuousClock.Instant
        var inFlight = 0
    }

    public let limits: TenantLimits
    private let buckets = Mutex<[Caller: Bucket]>([:])

    public init(limits: TenantLimits) {
        self.limits = limits
    }

    /// Takes a slot and a token for `caller`, or says why not. An admitted request must `finish`.
    public func admit(_ caller: Caller, now: ContinuousClock.Instant = .now) -> Admission {
        buckets.withLock { buckets in
            var bucket = buckets[caller] ?? Bucket(tokens: limits.burst, refilled: now)
            let elapsed = max(0, (now - bucket.refilled).inSeconds)
            bucket.tokens = min(limits.burst, bucket.tokens + elapsed * limits.ratePerSecond)
            bucket.refilled = now
            defer { buckets[caller] = bucket }
            if bucket.inFlight >= limits.maxConcurrent {
                return .refused(reason: "more than \(limits.maxConcurrent) requests are in flight", retryAfter: 1)
            }
            if bucket.tokens < 1 {
                let wait = Int(((1 - bucket.tokens) / limits.ratePerSecond).rounded(.up))
                return .refused(reason: "more than \(limits.ratePerSecond) requests a second", retryAfter: max(1, wait))
            }
            bucket.tokens -= 1
            bucket.inFlight += 1
            // Idle buckets that have refilled to full carry no information: forget them so the
            // table stays small. (A bucket's stored tokens are as of its last use; what it holds now
            // includes the refill since.)
            if buckets.count > 10_000 {
                buckets = buckets.filter { $0.value.inFlight > 0 || $0.value.tokens + (now - $0.value.refilled).inSeconds * limits.ratePerSecond < limits.burst }
            }
            return .admitted
        }
    }

    /// How many callers the limiter keeps a bucket for.
    var tracked: Int { buckets.withLock { $0.count } }

    public func finish(_ caller: Caller) {
        buckets.withLock { $0[caller]?.inFlight -= 1 }
    }
}
