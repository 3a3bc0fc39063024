@testable import CreditsServer
import Synchronization
import Testing

/// The sign-in throttle on a clock the test moves.
@Suite("Sign-in throttle")
struct SignInThrottleTests {
    final class ManualClock: Sendable {
        private let instant = Mutex(ContinuousClock.now)
        var now: ContinuousClock.Instant { instant.withLock { $0 } }
        func advance(_ duration: Duration) { instant.withLock { $0 += duration } }
    }

    static let window = SignInThrottle.window

    /// Five attempts for a name at the start, then a sixth after `later`: refused inside the
    /// window (with the wait left), let in from its end on.
    @Test("a sixth attempt inside the window waits for its end; from the end on it is let in",
          arguments: [(Duration.zero, Optional(window)), (.seconds(1), window - .seconds(1)),
                      (window - .seconds(1), .seconds(1)), (window, nil), (window + .seconds(1), nil)])
    func sixthAttempt(later: Duration, wait: Duration?) {
        let clock = ManualClock()
        let throttle = SignInThrottle(now: { clock.now })
        for _ in 1...SignInThrottle.failuresMax { #expect(throttle.admit("anna") == nil) }
        clock.advance(later)
        #expect(throttle.admit("anna") == wait)
    }

    @Test("at its bound of names a new name is not counted, until the names whose window has passed are dropped")
    func boundedNames() {
        let clock = ManualClock()
        let throttle = SignInThrottle(now: { clock.now })
        for index in 0..<SignInThrottle.namesMax { #expect(throttle.admit("name-\(index)") == nil) }
        // Full: a new name's attempts are let in uncounted (each still costs a bcrypt check).
        for _ in 0...SignInThrottle.failuresMax { #expect(throttle.admit("newcomer") == nil) }
        // A counted name is still counted.
        for _ in 1..<SignInThrottle.failuresMax { _ = throttle.admit("name-0") }
        #expect(throttle.admit("name-0") != nil)
        // Once the window has passed, the old names are dropped and the new one is counted.
        clock.advance(Self.window)
        for _ in 1...SignInThrottle.failuresMax { #expect(throttle.admit("newcomer") == nil) }
        #expect(throttle.admit("newcomer") == Self.window)
    }

    @Test("a success clears the name's count; names are counted apart")
    func successAndNames() {
        let clock = ManualClock()
        let throttle = SignInThrottle(now: { clock.now })
        for _ in 1..<SignInThrottle.failuresMax { #expect(throttle.admit("anna") == nil) }
        throttle.succeeded("anna")
        for _ in 1...SignInThrottle.failuresMax { #expect(throttle.admit("anna") == nil) }
        #expect(throttle.admit("anna") == Self.window)
        #expect(throttle.admit("bert") == nil, "another name is not held back by anna's")
    }
}
