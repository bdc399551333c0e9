/// A feed operation that cannot be done, with a message that says which object and why (never
/// personal data). The HTTP layer maps `kind` to a status.
public struct FeedError: Error, Sendable, CustomStringConvertible {
    /// `conflict`: the request is fine but the object is not in a state that allows it.
    public enum Kind: Sendable { case notFound, invalid, forbidden, conflict }
    public var kind: Kind
    public var message: String

    public static func notFound(_ message: String) -> FeedError { FeedError(kind: .notFound, message: message) }
    public static func invalid(_ message: String) -> FeedError { FeedError(kind: .invalid, message: message) }
    public static func forbidden(_ message: String) -> FeedError { FeedError(kind: .forbidden, message: message) }
    public static func conflict(_ message: String) -> FeedError { FeedError(kind: .conflict, message: message) }

    public var description: String { message }
}
