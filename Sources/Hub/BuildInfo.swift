/// What this build is. `GET /version` and `recordonce version` report it.
public enum BuildInfo {
    public static let version = "0.1.0"
    public static let name = "recordonce"
}
