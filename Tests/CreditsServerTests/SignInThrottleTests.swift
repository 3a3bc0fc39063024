@testable import CreditsServer
import Synchronization
import Testing

/// The sign-in throttle on a clock the test moves.
@Suite("Sign-in throttle")
struct SignInThrottleTests {
    static let window = SignInThrottle.window

    /// Five attempts for a name at the start, then a sixth after `later`: refused inside the
    /// window (with the wait left), let in from its end on.
    @Test("a sixth attempt inside the window waits for its end; from the end on it is let in",
          arguments: [(Duration.zero, Optional(window)), (.seconds(1), window - .seconds(1)),
                      (window - .seconds(1), .seconds(1)), (window, nil), (window + .seconds(1), nil)])
    func sixthAttempt(later: Duration, wait: Duration?) {
        let clock = ManualClock()
        let throttle = SignInThrottle(now: { clock.now })
        for _ in 1...SignInThrottle.failuresPerNameMax { #expect(throttle.admit(name: "anna", address: "a") == nil) }
        clock.advance(later)
        #expect(throttle.admit(name: "anna", address: "a") == wait)
    }

    @Test("M2: a full table refuses a name or address it has not counted, until the oldest window passes (fails closed)")
    func m2FullTableFailsClosed() {
        let clock = ManualClock()
        let throttle = SignInThrottle(now: { clock.now })
        // Half the table in names, half in addresses, one attempt each.
        for index in 0..<(SignInThrottle.keysMax / 2) {
            #expect(throttle.admit(name: "name-\(index)", address: "10.0.\(index / 256).\(index % 256)") == nil)
        }
        clock.advance(.seconds(60))
        #expect(throttle.admit(name: "newcomer", address: "10.0.0.0") == Self.window - .seconds(60),
                "a new name is refused with the time until room is made")
        #expect(throttle.admit(name: "name-0", address: "192.0.2.1") == Self.window - .seconds(60), "so is a new address")
        #expect(throttle.admit(name: "name-1", address: "10.0.0.1") == nil, "a counted pair is still counted")
        clock.advance(Self.window - .seconds(60))
        #expect(throttle.admit(name: "newcomer", address: "10.0.0.0") == nil, "once the window has passed, old keys go")
    }

    @Test("M2: one address is held back after its own limit, across any number of names")
    func m2PerAddress() {
        let clock = ManualClock()
        let throttle = SignInThrottle(now: { clock.now })
        for index in 0..<SignInThrottle.failuresPerAddressMax {
            #expect(throttle.admit(name: "guess-\(index)", address: "198.51.100.7") == nil)
        }
        #expect(throttle.admit(name: "another", address: "198.51.100.7") == Self.window)
        #expect(throttle.admit(name: "another", address: "198.51.100.8") == nil, "another address is not held back")
    }

    @Test("a success clears the name's count and gives the address its attempt back; names are counted apart")
    func successAndNames() {
        let clock = ManualClock()
        let throttle = SignInThrottle(now: { clock.now })
        for _ in 1..<SignInThrottle.failuresPerNameMax { #expect(throttle.admit(name: "anna", address: "a") == nil) }
        throttle.succeeded(name: "anna", address: "a")
        for _ in 1...SignInThrottle.failuresPerNameMax { #expect(throttle.admit(name: "anna", address: "a") == nil) }
        #expect(throttle.admit(name: "anna", address: "a") == Self.window)
        #expect(throttle.admit(name: "bert", address: "a") == nil, "another name is not held back by anna's")
    }
}

/// The bounded, fair queue of password checks (hardening M4), with checks the test holds open.
@Suite("Password check queue")
struct PasswordCheckQueueTests {
    /// A check that runs until the test lets it finish, saying when it has started.
    final class HeldCheck: Sendable {
        let started: AsyncStream<Void>
        private let startedSink: AsyncStream<Void>.Continuation
        private let released: AsyncStream<Void>
        private let release: AsyncStream<Void>.Continuation

        init() {
            (started, startedSink) = AsyncStream.makeStream()
            (released, release) = AsyncStream.makeStream()
        }

        func run() async {
            startedSink.yield()
            for await _ in released { break }
        }

        func finish() { release.yield() }
        func waitStarted() async { for await _ in started { break } }
    }

    @Test("M4: one address past its share is refused at once; the queue's bound refuses the rest")
    func m4Bounds() async throws {
        let queue = PasswordCheckQueue(runningMax: 1, perAddressMax: 2, waitingMax: 1)
        let first = HeldCheck()
        let running = Task { try await queue.run(from: "flood") { await first.run() } }
        await first.waitStarted()
        let second = Task { try await queue.run(from: "flood") { "second" } }
        // The flood's second check queues without anything to await: yield (bounded) until it has.
        for _ in 0..<1_000_000 where queue.waitingCount < 1 { await Task.yield() }
        #expect(queue.waitingCount == 1)
        var refusal: PasswordCheckQueue.Refusal?
        do {
            _ = try await queue.run(from: "flood") { "third" }
        } catch let error as PasswordCheckQueue.Refusal {
            refusal = error
        }
        #expect(refusal == .addressBusy)
        await #expect(throws: PasswordCheckQueue.Refusal.full) { try await queue.run(from: "someone") { "x" } }
        first.finish()
        try await running.value
        #expect(try await second.value == "second")
    }

    @Test("M4: a freed place goes to the address served least recently, not to the flood's next check")
    func m4Fairness() async throws {
        let queue = PasswordCheckQueue(runningMax: 1, perAddressMax: 3, waitingMax: 10)
        let first = HeldCheck()
        let order = Recorder()
        let running = Task { try await queue.run(from: "flood") { await first.run() } }
        await first.waitStarted()
        let flood = Task { try await queue.run(from: "flood") { order.append("flood") } }
        // The flood's waiter must be queued before the real user's, so the order would be wrong
        // without fairness: yield (bounded) until it is.
        for _ in 0..<1_000_000 where queue.waitingCount < 1 { await Task.yield() }
        #expect(queue.waitingCount == 1)
        let user = Task { try await queue.run(from: "user") { order.append("user") } }
        for _ in 0..<1_000_000 where queue.waitingCount < 2 { await Task.yield() }
        #expect(queue.waitingCount == 2)
        first.finish()
        try await running.value
        try await user.value
        try await flood.value
        #expect(order.items == ["user", "flood"])
    }

    final class Recorder: Sendable {
        private let list = Mutex<[String]>([])
        func append(_ item: String) { list.withLock { $0.append(item) } }
        var items: [String] { list.withLock { $0 } }
    }
}
