import Foundation

/// How the most recent finished sync attempt of an item ended.
public enum LastAttempt: String, Sendable, Codable {
    /// Every write was accepted.
    case succeeded
    /// A rule failed or the SIS refused a write.
    case failed
}

/// The sync status of a material in one section (PRODUCT.md's table), computed from facts
/// the store holds, never guessed or stored on its own, so it cannot drift from them.
public enum StatusRules {
    /// The status, by precedence:
    /// `OPT_OUT` if `syncToSIS` is off for this section (the LMS's or a teacher's off; it overrides everything: someone said never);
    /// else `IN_PROGRESS` while any job of the item is queued or running (what is shown must
    /// not claim a result the SIS has not given yet);
    /// else `ERROR` if the last attempt failed (a later success clears it);
    /// else `NOT_SYNCED` if nothing was ever accepted (`acceptedFingerprint` is `nil`);
    /// else `SUCCESSFUL` if what was accepted is what is there now, otherwise `UPDATES_AVAILABLE`.
    public static func status(
        syncToSIS: Bool, pendingJobs: Int, lastAttempt: LastAttempt?, acceptedFingerprint: String?, currentFingerprint: String
    ) -> SyncStatus {
        if !syncToSIS { return .optOut }
        if pendingJobs > 0 { return .inProgress }
        if lastAttempt == .failed { return .error }
        guard let accepted = acceptedFingerprint else { return .notSynced }
        return accepted == currentFingerprint ? .successful : .updatesAvailable
    }
}
