import Synchronization

/// Failed sign-ins per name and per client address, so passwords can't be guessed as fast as the
/// machine can check them. After `failuresPerNameMax` attempts for a name (or
/// `failuresPerAddressMax` from one address) within `window`, further attempts are refused until
/// `window` has passed since the first of them, without checking the password: a flood of guesses
/// then costs no bcrypt hashes either. A success takes its attempt back. Unknown names are counted
/// like known ones, so the answers don't tell which names exist.
///
/// The table is bounded. When it is full and nothing in it has expired, a name or address not yet
/// counted is refused (hardening M2): failing open would let a flood of new names through
/// uncounted. The counts live in the process: each of several servers keeps its own.
final class SignInThrottle: Sendable {
    static let failuresPerNameMax = 5
    /// Higher than a name's: many people may sign in from behind one office's address.
    static let failuresPerAddressMax = 50
    static let window: Duration = .seconds(15 * 60)
    static let keysMax = 10_000

    enum Key: Hashable {
        case name(String)
        case address(String)

        var limit: Int {
            switch self {
            case .name: SignInThrottle.failuresPerNameMax
            case .address: SignInThrottle.failuresPerAddressMax
            }
        }
    }

    private struct Attempts {
        var count: Int
        let since: ContinuousClock.Instant
    }

    private let now: @Sendable () -> ContinuousClock.Instant
    private let attempts = Mutex<[Key: Attempts]>([:])

    init(now: @escaping @Sendable () -> ContinuousClock.Instant) {
        self.now = now
    }

    /// Counts an attempt for `name` from `address` before its password is checked, so guesses
    /// sent at once are counted too: nil if it may go on, or how long until it may try again.
    func admit(name: String, address: String) -> Duration? {
        let now = self.now()
        let keys = [Key.name(name), .address(address)]
        return attempts.withLock { attempts -> Duration? in
            // Refused if either key is at its limit or can't be counted; then nothing is counted.
            var waits: [Duration] = []
            for key in keys {
                if let counted = attempts[key], counted.since + Self.window > now, counted.count >= key.limit {
                    waits.append(counted.since + Self.window - now)
                }
            }
            if let wait = Self.room(in: &attempts, for: keys.filter { attempts[$0] == nil }.count, now: now) {
                waits.append(wait)
            }
            if let wait = waits.max() { return wait }
            for key in keys {
                if let counted = attempts[key], counted.since + Self.window > now {
                    attempts[key]?.count += 1
                } else {
                    attempts[key] = Attempts(count: 1, since: now)
                }
            }
            return nil
        }
    }

    /// Makes room for `needed` more keys: nil if there is, else how long until the oldest goes.
    private static func room(in attempts: inout [Key: Attempts], for needed: Int, now: ContinuousClock.Instant) -> Duration? {
        guard needed > 0, attempts.count + needed > keysMax else { return nil }
        attempts = attempts.filter { $0.value.since + window > now }
        guard attempts.count + needed > keysMax, let oldest = attempts.values.map(\.since).min() else { return nil }
        return oldest + window - now
    }

    /// A right password: the name starts afresh, and the address gets its attempt back.
    func succeeded(name: String, address: String) {
        attempts.withLock { attempts in
            attempts[.name(name)] = nil
            Self.takeBack(.address(address), from: &attempts)
        }
    }

    /// An attempt that checked no password (the check queue refused it): it counts for neither.
    /// NB: not `succeeded`, which would clear the name and let refused guesses reset its count.
    func notChecked(name: String, address: String) {
        attempts.withLock { attempts in
            Self.takeBack(.name(name), from: &attempts)
            Self.takeBack(.address(address), from: &attempts)
        }
    }

    private static func takeBack(_ key: Key, from attempts: inout [Key: Attempts]) {
        guard let counted = attempts[key] else { return }
        attempts[key] = counted.count > 1 ? Attempts(count: counted.count - 1, since: counted.since) : nil
    }
}
