import Foundation
import OneRoster
import PassbackConfig
import PassbackCore

/// Builds the OneRoster client for a connection.
public enum ClientFactory {
    public static func client(
        for connection: PassbackConfiguration.Connection, transport: any HTTPTransport = URLSessionTransport(),
        clock: any WallClock = SystemWallClock()
    ) -> OneRosterClient {
        let s = connection.settings
        let authorizer: (any RequestAuthorizer)?
        switch s.auth {
        case .none:
            authorizer = nil
        case .oauth1:
            authorizer = OAuth1Signer(
                consumerKey: s.clientID, consumerSecret: connection.secret,
                method: s.signatureMethod, clock: clock)
        case .oauth2:
            authorizer = OAuth2ClientCredentials(
                configuration: .init(
                    tokenURL: s.tokenURL ?? OAuth2ClientCredentials.Configuration.defaultTokenURL(baseURL: s.baseURL),
                    clientID: s.clientID, clientSecret: connection.secret, scopes: s.scopes.isEmpty ? OneRosterScope.all : s.scopes,
                    replayCookies: s.replayTokenCookies),
                transport: transport, clock: clock)
        }
        return OneRosterClient(configuration: .init(baseURL: s.baseURL, pageSize: s.pageSize), transport: transport, authorizer: authorizer)
    }
}
