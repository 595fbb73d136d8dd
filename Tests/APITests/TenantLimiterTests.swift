@testable import API
import Domain
import Testing

@Suite struct TenantLimiterTests {
    @Test func concurrencyIsCappedPerTenant() {
        let limiter = TenantLimiter(limits: TenantLimits(maxConcurrent: 2, ratePerSecond: 1000, burst: 1000))
        let a = TenantID.random(), b = TenantID.random()
        #expect(limiter.admit(a) == .admitted)
        #expect(limiter.admit(a) == .admitted)
        guard case .refused(_, let retry) = limiter.admit(a) else { Issue.record("a third request of A was admitted"); return }
        #expect(retry == 1)
        // Another tenant is not affected by A's requests.
        #expect(limiter.admit(b) == .admitted)
        limiter.finish(a)
        #expect(limiter.admit(a) == .admitted)
    }

    /// Callers seen once (such as key prefixes a client makes up) are forgotten once their bucket
    /// has refilled, counting the refill since their last request, not only the tokens stored then.
    @Test func bucketsThatHaveRefilledAreForgotten() {
        let limiter = RequestLimiter<Int>(limits: TenantLimits(maxConcurrent: 10, ratePerSecond: 10, burst: 20))
        let start = ContinuousClock.now
        for caller in 0..<10_001 {
            #expect(limiter.admit(caller, now: start) == .admitted)
            limiter.finish(caller)
        }
        #expect(limiter.tracked == 10_001)
        // A tenth of a second later none has refilled (each is one token short): all are kept.
        #expect(limiter.admit(-1, now: start + .milliseconds(50)) == .admitted)
        #expect(limiter.tracked == 10_002)
        limiter.finish(-1)
        // A second later each has: only the caller being admitted is left.
        #expect(limiter.admit(-2, now: start + .seconds(1)) == .admitted)
        #expect(limiter.tracked == 1)
    }

    @Test func theRateRefillsOverTime() {
        let limiter = TenantLimiter(limits: TenantLimits(maxConcurrent: 100, ratePerSecond: 2, burst: 3))
        let tenant = TenantID.random()
        let start = ContinuousClock.now
        for _ in 0..<3 {
            #expect(limiter.admit(tenant, now: start) == .admitted)
            limiter.finish(tenant)
        }
        #expect(limiter.admit(tenant, now: start) == .refused(reason: "more than 2.0 requests a second", retryAfter: 1))
        // Half a second later one token is back, and only one.
        #expect(limiter.admit(tenant, now: start + .milliseconds(500)) == .admitted)
        limiter.finish(tenant)
        #expect(limiter.admit(tenant, now: start + .milliseconds(500)) != .admitted)
        // A long quiet spell refills up to the burst, no more.
        for _ in 0..<3 {
            #expect(limiter.admit(tenant, now: start + .seconds(60)) == .admitted)
            limiter.finish(tenant)
        }
        #expect(limiter.admit(tenant, now: start + .seconds(60)) != .admitted)
    }
}
