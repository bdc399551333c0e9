import Foundation

/// Something holding a connection open (a stream, a deferred response) that must be ended before
/// the daemon stops: MHD aborts if it is stopped while a connection is suspended.
protocol ShutdownParticipant: AnyObject, Sendable {
    /// Ends the exchange soon and resumes its connection if suspended; never suspends it again.
    func shutDown()
    /// The grace period is over and the server is about to close every connection: let go of
    /// anything that uses the connection outside the server (a stream's socket).
    func abandon()
}

extension ShutdownParticipant {
    func abandon() {}
}

/// The open streams and pending deferred responses of one server, so that `stop()` can end them
/// and wait until their connections are done.
final class ShutdownRegistry: @unchecked Sendable {
    private let condition = NSCondition()
    private var participants: [ObjectIdentifier: any ShutdownParticipant] = [:]
    private var stopping = false

    /// Adds `participant`; false once shutdown began (the caller must then end it itself).
    func register(_ participant: any ShutdownParticipant) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        participants[ObjectIdentifier(participant)] = participant
        return true
    }

    func remove(_ participant: any ShutdownParticipant) {
        condition.lock()
        defer { condition.unlock() }
        if participants.removeValue(forKey: ObjectIdentifier(participant)) != nil, participants.isEmpty {
            condition.broadcast()
        }
    }

    /// Accepts participants again (the server is starting, possibly after a stop).
    func reopen() {
        condition.lock()
        defer { condition.unlock() }
        stopping = false
        participants = [:]
    }

    var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return participants.count
    }

    /// Refuses new participants, ends every registered one, and waits until all are removed or
    /// `deadline` passes. Returns how many were still open at the deadline.
    func shutDownAll(waitingUntil deadline: Date) -> Int {
        condition.lock()
        stopping = true
        let current = Array(participants.values)
        condition.unlock()
        for participant in current { participant.shutDown() }
        condition.lock()
        defer { condition.unlock() }
        while !participants.isEmpty {
            if !condition.wait(until: deadline) { break }
        }
        return participants.count
    }

    /// Calls `abandon()` on every participant still registered (after `shutDownAll`).
    func abandonAll() {
        condition.lock()
        let current = Array(participants.values)
        condition.unlock()
        for participant in current { participant.abandon() }
    }
}
