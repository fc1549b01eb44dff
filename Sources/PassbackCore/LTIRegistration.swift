/// An LMS (LTI 1.3 platform) as an admin registers it: its issuer and the client id it gave
/// Passback, Passback's deployments in it, where its users sign in and where its keys are, the
/// connection whose roster names its users (nil: the only one) and the org an Administrator's
/// launch acts on. `passback lti platform add` and the configuration file both make one.
public struct LTIRegistration: Sendable, Equatable {
    public var issuer: String
    public var clientID: String
    public var deploymentIDs: [String]
    public var authURL: String
    public var jwksURL: String
    public var tokenURL: String?
    public var connectionID: String?
    public var orgSourcedId: String?

    public init(
        issuer: String, clientID: String, deploymentIDs: [String], authURL: String, jwksURL: String, tokenURL: String? = nil,
        connectionID: String? = nil, orgSourcedId: String? = nil
    ) {
        self.issuer = issuer
        self.clientID = clientID
        self.deploymentIDs = deploymentIDs
        self.authURL = authURL
        self.jwksURL = jwksURL
        self.tokenURL = tokenURL
        self.connectionID = connectionID
        self.orgSourcedId = orgSourcedId
    }
}
