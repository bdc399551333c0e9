/// Masks values shown in reports unless the operator asks for them (`--show-values`).
public enum ValueMasking {
    /// `张三` -> `张*`; `11010519491231002X` -> `110***********02X`-style: a few characters at
    /// each end of long values, the first character of short ones.
    public static func mask(_ value: String) -> String {
        let chars = Array(value)
        switch chars.count {
        case 0: return ""
        case 1: return "*"
        case 2...6: return String(chars[0]) + String(repeating: "*", count: chars.count - 1)
        default:
            return String(chars[0..<3]) + String(repeating: "*", count: chars.count - 5) + String(chars[(chars.count - 2)...])
        }
    }
}
