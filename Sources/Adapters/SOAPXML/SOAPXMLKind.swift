import Foundation
import JSON5

/// `soap-xml`: a department's SOAP service, polled by POSTing an envelope over libcurl and read
/// with XPath through libxml2. Settings in `SOAPXMLSettings`; reference in docs/adapters.md ("Pull kinds").
public enum SOAPXMLKind: PullKind {
    public static let name = "soap-xml"

    public static func validate(_ settings: JSONNode, file: String) -> [AdapterProblem] {
        var reader = PullSettingsReader(settings, file: file, known: SOAPXMLSettings.keys)
        _ = SOAPXMLSettings.read(&reader, baseDirectory: (file as NSString).deletingLastPathComponent)
        return reader.problems
    }

    public static func makeSource(_ settings: JSONNode, context: PullContext) throws(PullFailure) -> any PullSource {
        var reader = PullSettingsReader(settings, file: context.adapterID, known: SOAPXMLSettings.keys)
        guard let parsed = SOAPXMLSettings.read(&reader, baseDirectory: context.baseDirectory), reader.problems.isEmpty else {
            throw PullFailure(.permanent, "soap-xml settings are invalid: " + reader.problems.map(\.description).joined(separator: "; "))
        }
        return SOAPXMLSource(settings: parsed, context: context)
    }
}
