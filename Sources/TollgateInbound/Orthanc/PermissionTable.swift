import TollgateConfiguration

/// Method + URI → the permissions a request needs (any one of them), in the authorization
/// plugin's `Permissions` format: `[method, regex, "a|b"]`, first match wins, `DICOM_WEB_ROOT`
/// stands for the DICOMweb root. An empty permission list means anyone may pass.
package struct PermissionTable: Sendable {
    struct Rule: Sendable {
        let method: String
        let pattern: PathPattern
        let permissions: [String]
    }

    private let rules: [Rule]

    package init(rules table: [[String]], dicomWebRoot: String) throws {
        let root = dicomWebRoot.trimmingCharacters(in: ["/"])
        rules = try table.flatMap { rule in
            let permissions = rule[2].split(separator: "|").map(String.init)
            let sources = rule[1] == Self.singleResourcePatternsAlias ? Self.singleResourcePatterns : [rule[1]]
            return try sources.map { source in
                Rule(method: rule[0], pattern: try PathPattern(source.replacingOccurrences(of: "DICOM_WEB_ROOT", with: root)), permissions: permissions)
            }
        }
    }

    /// The plugin's alias for every pattern naming one resource (`DefaultAuthorizationParser`'s
    /// single-resource patterns, 0.11.4): Orthanc ids, the viewers' own routes and DICOMweb's.
    static let singleResourcePatternsAlias = "SINGLE_RESOURCE_PATTERNS"
    static let singleResourcePatterns = [
        "^/(patients|studies|series|instances)/([a-f0-9-]+)(|/.*)$",
        "^/(web-viewer/series|web-viewer/is-stable-series|wsi/pyramids|wsi/tiles)/([a-f0-9-]+)(|/.*)$",
        "^/web-viewer/instances/[a-z0-9]+-([a-f0-9-]+)_[0-9]+$",
        "^/osimis-viewer/series/([a-f0-9-]+)(|/.*)$",
        "^/osimis-viewer/(images|custom-command)/([a-f0-9-]+)(|/.*)$",
        "^/osimis-viewer/studies/([a-f0-9-]+)(|/.*)$",
        "^/DICOM_WEB_ROOT/studies/([.0-9]+)(|/series|/metadata|/instances|/rendered|/thumbnail)(|/)$",
        "^/DICOM_WEB_ROOT/studies/([.0-9]+)/series/([.0-9]+)(|/instances|/rendered|/thumbnail|/metadata)(|/)$",
        "^/DICOM_WEB_ROOT/studies/([.0-9]+)/series/([.0-9]+)/instances/([.0-9]+)(|/|/frames/.*|/rendered|/thumbnail|/metadata|/bulk/.*)(|/)$",
    ]

    package struct Match: Sendable, Equatable {
        package let pattern: String
        package let permissions: [String]
    }

    package func required(method: String, uri: String) -> Match? {
        for rule in rules where rule.method == method && rule.pattern.wholeMatches(uri) {
            return Match(pattern: rule.pattern.source, permissions: rule.permissions)
        }
        return nil
    }

    /// The orthanc-authorization plugin's default `Permissions` (0.11.4, `DefaultConfiguration.json`),
    /// row for row: on 1.10 the filter decides as the plugin would on 1.12.
    /// `Tests/fixtures/orthanc-authorization/default-permissions-0.11.4.json` holds the same rows
    /// and a test keeps the two equal.
    package static let pluginDefaultRules: [[String]] = [
        ["post", "^/auth/tokens/decode$", ""],
        ["post", "^/tools/lookup$", ""],
        ["get", "^/tools/generate-uid(.*)$", ""],
        ["post", "^/tools/find$", "all|view"],
        ["post", "^/tools/count-resources$", "all|view"],
        ["get", "^/(patients|studies|series|instances)(|/)", "all|view"],
        ["get", "^/statistics$", "all|view"],
        ["get", "^/tools/metrics-prometheus$", "all|view"],
        ["get", "^/changes$", "all|view"],
        ["get", "^/system$", "all|view"],
        ["get", "^/plugins$", "all|view"],
        ["get", "^/plugins/(.*)$", "all|view"],
        ["get", "^/worklists$", "all|view|worklists"],
        ["get", "^/worklists/(.*)$", "all|view|worklists"],
        ["get", "SINGLE_RESOURCE_PATTERNS", "all|view"],
        ["put", "^/auth/tokens/(viewer-instant-link|meddream-instant-link)$", "all|view"],
        ["put", "^/auth/tokens/(download-instant-link)$", "all|download"],
        [
            "put",
            "^/auth/tokens/(stone-viewer-publication|meddream-viewer-publication|osimis-viewer-publication|ohif-viewer-publication|volview-viewer-publication)$",
            "all|share",
        ],
        ["get", "^/ui/api/emails/templates/(.*)$", "all|share"],
        ["post", "^/ui/api/emails/send$", "all|share"],
        ["post", "^/instances$", "all|upload"],
        ["post", "^/DICOM_WEB_ROOT/studies$", "all|upload"],
        ["post", "^/DICOM_WEB_ROOT/studies/([.0-9]+)", "all|upload"],
        ["post", "^/tools/create-dicom$", "all|upload"],
        ["post", "^/stl/encode-rtstruct$", "all|upload"],
        ["post", "^/stl/encode-nifti$", "all|upload"],
        ["get", "^/jobs/([a-f0-9-]+)$", "all|send|modify|anonymize|q-r-remote-modalities|admin-permissions"],
        ["post", "^/(peers|modalities)/(.*)/(store|store-straight)$", "all|send"],
        ["get", "^/(peers|modalities)$", "all|send|q-r-remote-modalities"],
        ["get", "^/(peers|modalities)/(.*)/configuration$", "all|send|q-r-remote-modalities"],
        ["post", "^/modalities/(.*)/echo$", "all|send|q-r-remote-modalities"],
        ["post", "^/modalities/(.*)/query$", "all|q-r-remote-modalities"],
        ["get", "^/queries/([a-f0-9-]+)/answers$", "all|q-r-remote-modalities"],
        ["get", "^/queries/([a-f0-9-]+)/answers/([0-9]+)/content$", "all|q-r-remote-modalities"],
        ["post", "^/queries/([a-f0-9-]+)/answers/([0-9]+)/retrieve$", "all|q-r-remote-modalities"],
        ["post", "^/modalities/(.*)/move$", "all|q-r-remote-modalities"],
        ["get", "^/DICOM_WEB_ROOT/servers$", "all|send|q-r-remote-modalities"],
        ["post", "^/DICOM_WEB_ROOT/servers/(.*)/qido$", "all|q-r-remote-modalities"],
        ["post", "^/DICOM_WEB_ROOT/servers/(.*)/retrieve$", "all|q-r-remote-modalities"],
        ["post", "^/DICOM_WEB_ROOT/servers/(.*)/stow$", "all|send"],
        ["get", "^/DICOM_WEB_ROOT/(studies|series|instances)(|/)$", "all|view"],
        ["post", "^/(patients|studies|series|instances)/([a-f0-9-]+)/(modify|merge)(.*)$", "all|modify"],
        ["post", "^/(patients|studies|series|instances)/([a-f0-9-]+)/anonymize(.*)$", "all|anonymize"],
        ["post", "^/tools/bulk-modify$", "all|modify"],
        ["post", "^/tools/bulk-anonymize$", "all|anonymize"],
        ["get", "^/tools/labels$", "all|view|edit-labels"],
        ["put", "^/(patients|studies|series|instances)/([a-f0-9-]+)/labels/(.*)$", "all|edit-labels"],
        ["delete", "^/(patients|studies|series|instances)/([a-f0-9-]+)/labels/(.*)$", "all|edit-labels"],
        ["delete", "^/(patients|studies|series|instances)/([a-f0-9-]+)$", "all|delete"],
        ["post", "^/tools/bulk-delete$", "all|delete"],
        ["put", "^/tools/log-level$", "all|settings"],
        ["get", "^/tools/log-level$", "all|settings"],
        ["put", "^/auth/settings/roles$", "admin-permissions"],
        ["get", "^/auth/settings/roles$", "admin-permissions"],
        ["get", "^/auth/settings/permissions$", "admin-permissions"],
        ["get", "^/auth/audit-logs$", "admin-permissions|audit-logs"],
        ["put", "^/modalities/(.*)$", "admin-permissions"],
        ["delete", "^/modalities/(.*)$", "admin-permissions"],
        ["post", "^/worklists/create$", "all|worklists"],
        ["put", "^/worklists/(.*)$", "all|worklists"],
        ["delete", "^/worklists/(.*)$", "all|worklists"],
        ["get", "^/jobs$", "admin-permissions"],
        ["post", "^/jobs/([a-f0-9-]+)/(pause|resume|resubmit|cancel)$", "admin-permissions"],
        ["delete", "^/jobs/([a-f0-9-]+)$", "admin-permissions"],
    ]

    /// What Tollgate adds after the plugin's rows (first match wins, so none of these changes a
    /// route the plugin's table names): routes a 1.10 Orthanc serves that the plugin leaves to
    /// resource tokens. Each is listed in docs/orthanc.md.
    package static let tollgateAdditions: [[String]] = [
        ["get", "^/wado$", "all|view"],  // WADO-URI
        ["get", "^/tools/(now|now-local)$", "all|view"],
        ["put", "^/DICOM_WEB_ROOT/servers/([^/]+)$", "admin-permissions"],  // Tollgate's push, with orthanc.bearer_from
        ["delete", "^/DICOM_WEB_ROOT/servers/([^/]+)$", "admin-permissions"],
        ["post", "^/DICOM_WEB_ROOT/servers/([^/]+)/get$", "all|q-r-remote-modalities"],
        ["post", "^/queries/([a-f0-9-]+)/retrieve$", "all|q-r-remote-modalities"],
    ]

    /// The 1.10 filter's table unless `orthanc.permissions.table` replaces it.
    package static let defaultRules = pluginDefaultRules + tollgateAdditions
}
