import TollgateConfiguration

/// Method + URI → the permissions a request needs (any one of them), in the authorization
/// plugin's `Permissions` format: `[method, regex, "a|b"]`, first match wins, `DICOM_WEB_ROOT`
/// stands for the DICOMweb root. An empty permission list means anyone may pass.
public struct PermissionTable: Sendable {
    struct Rule: Sendable {
        let method: String
        let pattern: PathPattern
        let permissions: [String]
    }

    private let rules: [Rule]

    public init(rules table: [[String]], dicomWebRoot: String) throws {
        let root = dicomWebRoot.trimmingCharacters(in: ["/"])
        rules = try table.map { rule in
            let source = rule[1].replacingOccurrences(of: "DICOM_WEB_ROOT", with: root)
            return Rule(method: rule[0], pattern: try PathPattern(source), permissions: rule[2].split(separator: "|").map(String.init))
        }
    }

    public struct Match: Sendable, Equatable {
        public let pattern: String
        public let permissions: [String]
    }

    public func required(method: String, uri: String) -> Match? {
        for rule in rules where rule.method == method && rule.pattern.wholeMatches(uri) {
            return Match(pattern: rule.pattern.source, permissions: rule.permissions)
        }
        return nil
    }

    static let anyPermission = OrthancPermission.all.joined(separator: "|")

    /// Tollgate's default table, written from the plugin's documented defaults (orthanc-authorization
    /// `DefaultConfiguration.json`) plus what a 1.10 Orthanc without the plugin needs: DICOMweb
    /// reads need `view`, STOW `upload`; job control, modality definitions and the plugin's own
    /// settings need `admin-permissions` (which `all` does not include, as upstream).
    public static let defaultRules: [[String]] = [
        ["post", "^/auth/tokens/decode$", ""],
        ["post", "^/tools/lookup$", ""],
        ["get", "^/(system|tools/now|tools/now-local|plugins|plugins/[^/]+)$", anyPermission],
        // browsing (OE2, REST)
        ["post", "^/tools/find$", "all|view"],
        ["get", "^/tools/labels$", "all|view"],
        ["get", "^/(statistics|changes)$", "all|view"],
        ["get", "^/(patients|studies|series|instances)/([a-f0-9-]+)/(archive|media|file)$", "all|download"],
        ["get", "^/(patients|studies|series|instances)/([a-f0-9-]+)(/.*)?$", "all|view"],
        ["get", "^/DICOM_WEB_ROOT/(studies|series|instances)(/.*)?$", "all|view"],
        ["get", "^/wado$", "all|view"],
        // links
        ["put", "^/auth/tokens/(viewer-instant-link|meddream-instant-link)$", "all|view"],
        ["put", "^/auth/tokens/(download-instant-link)$", "all|download"],
        ["put", "^/auth/tokens/(stone-viewer-publication|meddream-viewer-publication|osimis-viewer-publication|ohif-viewer-publication|volview-viewer-publication)$", "all|share"],
        // uploads
        ["post", "^/instances$", "all|upload"],
        ["post", "^/DICOM_WEB_ROOT/studies(/[^/]+)?$", "all|upload"],
        // jobs: your own, and everyone's
        ["get", "^/jobs/([a-f0-9-]+)$", "all|send|modify|anonymize|q-r-remote-modalities"],
        ["get", "^/jobs$", "admin-permissions"],
        ["post", "^/jobs/([a-f0-9-]+)/(pause|resume|resubmit|cancel)$", "admin-permissions"],
        ["delete", "^/jobs/([a-f0-9-]+)$", "admin-permissions"],
        // peers, modalities, DICOMweb servers
        ["post", "^/(peers|modalities)/(.*)/store$", "all|send"],
        ["get", "^/(peers|modalities)$", "all|send|q-r-remote-modalities"],
        ["post", "^/modalities/(.*)/echo$", "all|send|q-r-remote-modalities"],
        ["post", "^/modalities/(.*)/query$", "all|q-r-remote-modalities"],
        ["get", "^/queries/([a-f0-9-]+)/answers(/.*)?$", "all|q-r-remote-modalities"],
        ["post", "^/queries/([a-f0-9-]+)/(answers/[0-9]+/)?retrieve$", "all|q-r-remote-modalities"],
        ["post", "^/modalities/(.*)/move$", "all|q-r-remote-modalities"],
        ["put", "^/modalities/(.*)$", "admin-permissions"],
        ["delete", "^/modalities/(.*)$", "admin-permissions"],
        ["get", "^/DICOM_WEB_ROOT/servers$", "all|send|q-r-remote-modalities"],
        ["put", "^/DICOM_WEB_ROOT/servers/([^/]+)$", "admin-permissions"],
        ["delete", "^/DICOM_WEB_ROOT/servers/([^/]+)$", "admin-permissions"],
        ["post", "^/DICOM_WEB_ROOT/servers/([^/]+)/stow$", "all|send"],
        ["post", "^/DICOM_WEB_ROOT/servers/([^/]+)/(qido|get|retrieve)$", "all|q-r-remote-modalities"],
        // changes
        ["post", "^/(patients|studies|series|instances)/([a-f0-9-]+)/modify(.*)$", "all|modify"],
        ["post", "^/(patients|studies|series|instances)/([a-f0-9-]+)/anonymize(.*)$", "all|anonymize"],
        ["put", "^/(patients|studies|series|instances)/([a-f0-9-]+)/labels/([^/]+)$", "all|edit-labels"],
        ["delete", "^/(patients|studies|series|instances)/([a-f0-9-]+)/labels/([^/]+)$", "all|edit-labels"],
        ["delete", "^/(patients|studies|series|instances)/([a-f0-9-]+)$", "all|delete"],
        ["post", "^/tools/bulk-delete$", "all|delete"],
        // settings, worklists, the plugin's own administration
        ["get", "^/tools/log-level$", "all|settings"],
        ["put", "^/tools/log-level$", "all|settings"],
        ["get", "^/worklists(/.*)?$", "all|worklists"],
        ["post", "^/worklists(/.*)?$", "all|worklists"],
        ["put", "^/worklists(/.*)?$", "all|worklists"],
        ["delete", "^/worklists(/.*)?$", "all|worklists"],
        ["get", "^/auth/settings/(.*)$", "admin-permissions"],
        ["put", "^/auth/settings/(.*)$", "admin-permissions"],
        ["get", "^/auth/audit-logs$", "admin-permissions|audit-logs"],
    ]
}
