import Foundation
import OneRoster
import PassbackConfig
import PassbackStore

extension PassbackConfiguration {
    /// A roster importer for this configuration: its pull wait and its CSV bounds.
    public func rosterImporter(store: RosterStore, clock: any WallClock = SystemWallClock()) -> RosterImporter {
        var importer = RosterImporter(store: store, clock: clock)
        importer.pullRetry.maxWait = TimeInterval(rosterMaxWaitSeconds)
        importer.csvLimits = csvLimits
        importer.deletionLimit = rosterDeletionLimit
        return importer
    }
}
