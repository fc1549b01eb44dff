/// The sync status of a material in one section: exactly one of these, computed from the
/// cache and the outbox (PRODUCT.md).
public enum SyncStatus: String, Sendable, Codable, CaseIterable, Hashable {
    /// Never sent.
    case notSynced = "NOT_SYNCED"
    /// A sync was started and its jobs are queued or running.
    case inProgress = "IN_PROGRESS"
    /// Everything last sent was accepted, and nothing changed since.
    case successful = "SUCCESSFUL"
    /// The item or one of its grades changed since the last successful sync.
    case updatesAvailable = "UPDATES_AVAILABLE"
    /// A rule failed or the SIS refused a write.
    case error = "ERROR"
    /// `syncToSIS` is off for this material.
    case optOut = "OPT_OUT"
}
