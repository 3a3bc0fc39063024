import Synchronization

/// The password checks (bcrypt, deliberately slow) that may run at once, and the sign-ins that
/// wait for one. Without it, 150 sign-ins with distinct names made a real one take 9.8 s
/// (hardening M4). The queue is bounded in three ways:
/// - at most `runningMax` checks run at once (one per core);
/// - one client address has at most `perAddressMax` checks waiting or running: more are refused
///   at once, so a flood from one address costs it a refusal and nobody else a wait;
/// - at most `waitingMax` sign-ins wait in all.
/// A freed place goes to the waiting address served least recently, so a busy address can't keep
/// the places by sending more: every other address gets its turn first.
final class PasswordCheckQueue: Sendable {
    enum Refusal: Error, Equatable {
        /// This address already has its share of checks waiting or running.
        case addressBusy
        /// The queue is full.
        case full
    }

    let runningMax: Int
    let perAddressMax: Int
    let waitingMax: Int

    private struct Waiter {
        let address: String
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var running = 0
        var waiting: [Waiter] = []
        /// Checks waiting or running, per address; an address with none is not kept.
        var inFlight: [String: Int] = [:]
        /// When each address was last given a place (a counter, not a clock).
        var lastServed: [String: Int] = [:]
        var served = 0

        mutating func serve(_ address: String) {
            served += 1
            lastServed[address] = served
        }
    }

    private let state = Mutex(State())

    /// Sign-ins waiting for a place (for tests and metrics).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    init(runningMax: Int = 2, perAddressMax: Int = 2, waitingMax: Int = 64) {
        precondition(runningMax > 0 && perAddressMax > 0 && waitingMax >= 0)
        self.runningMax = runningMax
        self.perAddressMax = perAddressMax
        self.waitingMax = waitingMax
    }

    /// Runs `check` once a place is free, or throws a `Refusal` at once.
    func run<T: Sendable>(from address: String, _ check: () async throws -> T) async throws -> T {
        try await enter(from: address)
        do {
            let result = try await check()
            leave(from: address)
            return result
        } catch {
            leave(from: address)
            throw error
        }
    }

    private func enter(from address: String) async throws {
        enum Admission { case now, queued, refused(Refusal) }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let admission = state.withLock { state -> Admission in
                guard state.inFlight[address, default: 0] < perAddressMax else { return .refused(.addressBusy) }
                if state.running < runningMax {
                    state.running += 1
                    state.inFlight[address, default: 0] += 1
                    state.serve(address)
                    return .now
                }
                guard state.waiting.count < waitingMax else { return .refused(.full) }
                state.inFlight[address, default: 0] += 1
                state.waiting.append(Waiter(address: address, continuation: continuation))
                return .queued
            }
            switch admission {
            case .now: continuation.resume()
            case .queued: break
            case .refused(let refusal): continuation.resume(throwing: refusal)
            }
        }
    }

    private func leave(from address: String) {
        let next = state.withLock { state -> Waiter? in
            let left = state.inFlight[address, default: 1] - 1
            state.inFlight[address] = left > 0 ? left : nil
            if left == 0 { state.lastServed[address] = nil }
            // The waiter whose address was served least recently (never, first), then the oldest.
            guard let index = state.waiting.indices.min(by: { a, b in
                let (x, y) = (state.waiting[a].address, state.waiting[b].address)
                return (state.lastServed[x] ?? 0, a) < (state.lastServed[y] ?? 0, b)
            }) else {
                state.running -= 1
                return nil
            }
            let waiter = state.waiting.remove(at: index)
            state.serve(waiter.address)
            return waiter
        }
        next?.continuation.resume()
    }
}
