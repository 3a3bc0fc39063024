import Synchronization

/// Failed sign-ins per name, so passwords can't be guessed as fast as the machine can check
/// them. After `failuresMax` failures within `window`, the name is refused until `window` has
/// passed since the first of them, without checking the password: a flood of guesses then costs
/// no bcrypt hashes either. A success clears the name. Unknown names are counted like known ones,
/// so the answers don't tell which names exist.
///
/// The counts live in the process: each of several servers keeps its own.
final class SignInThrottle: Sendable {
    static let failuresMax = 5
    static let window: Duration = .seconds(15 * 60)
    /// Names counted at once. When it is reached, names whose window has passed are dropped; if
    /// that frees nothing, a name not yet counted isn't, and each of its guesses still costs a hash.
    static let namesMax = 10_000

    private struct Attempts {
        var count: Int
        let since: ContinuousClock.Instant
    }

    private let now: @Sendable () -> ContinuousClock.Instant
    private let attempts = Mutex<[String: Attempts]>([:])

    init(now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.now = now
    }

    /// Counts an attempt for `name` before its password is checked, so guesses sent at once
    /// are counted too: nil if it may go on, or how long until it may try again. An attempt that
    /// succeeds is taken back (`succeeded`).
    func admit(_ name: String) -> Duration? {
        let now = self.now()
        return attempts.withLock { attempts -> Duration? in
            if let counted = attempts[name], counted.since + Self.window > now {
                guard counted.count < Self.failuresMax else { return counted.since + Self.window - now }
                attempts[name]?.count += 1
                return nil
            }
            if attempts[name] == nil, attempts.count >= Self.namesMax {
                attempts = attempts.filter { $0.value.since + Self.window > now }
                guard attempts.count < Self.namesMax else { return nil }
            }
            attempts[name] = Attempts(count: 1, since: now)
            return nil
        }
    }

    func succeeded(_ name: String) {
        _ = attempts.withLock { $0.removeValue(forKey: name) }
    }
}
