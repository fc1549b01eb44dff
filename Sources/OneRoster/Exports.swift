import Foundation
/// The models are their own target (`OneRosterModels`, which `PassbackCore` may import); importing
/// `OneRoster` brings them too.
@_exported import OneRosterModels
