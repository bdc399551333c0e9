/// The change feed for community platforms: subscriptions, scopes, masking, delivery, audit.
/// See docs/feed.md.
public enum Feed {}
