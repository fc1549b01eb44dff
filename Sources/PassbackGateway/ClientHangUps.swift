import NIOCore
import Synchronization

/// Which connections' clients have hung up, so a query they are waiting for can be stopped.
///
/// The server lets a client half-close its side (`allowRemoteHalfClosure`, so an answer can
/// still be written to a client that only stopped sending), so a client that gave up does not
/// make the channel inactive: its end of input arrives as `ChannelEvent.inputClosed`. A
/// ``Watch`` in each connection's pipeline notes that event (and the channel closing) on the
/// connection's ``Flag``; a route looks its flag up once and reads it while its work runs.
enum ClientHangUps {
    /// Whether one connection's client has closed its side.
    final class Flag: Sendable {
        let closed = Atomic<Bool>(false)
        var isClosed: Bool { closed.load(ordering: .relaxed) }
    }

    private static let flags = Mutex<[ObjectIdentifier: Flag]>([:])

    /// The flag of `channel`'s connection, or nil for a channel without a ``Watch``.
    static func flag(for channel: any Channel) -> Flag? {
        flags.withLock { $0[ObjectIdentifier(channel)] }
    }

    /// Notes a connection's end of input on its flag; one per connection, after HTTP decoding.
    final class Watch: ChannelInboundHandler, RemovableChannelHandler, Sendable {
        typealias InboundIn = NIOAny
        let flag = Flag()

        func handlerAdded(context: ChannelHandlerContext) {
            let flag = self.flag
            ClientHangUps.flags.withLock { $0[ObjectIdentifier(context.channel)] = flag }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            flag.closed.store(true, ordering: .relaxed)
            _ = ClientHangUps.flags.withLock { $0.removeValue(forKey: ObjectIdentifier(context.channel)) }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .inputClosed? = event as? ChannelEvent { flag.closed.store(true, ordering: .relaxed) }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            flag.closed.store(true, ordering: .relaxed)
            context.fireChannelInactive()
        }
    }
}
