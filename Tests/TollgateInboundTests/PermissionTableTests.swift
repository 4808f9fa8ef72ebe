import Testing
@testable import TollgateInbound

@Suite("Orthanc permission table")
struct PermissionTableTests {
    @Test func literalPrefixesNeverExcludeAMatch() throws {
        #expect(PathPattern.literalPrefix(of: "^/tools/find$") == "/tools/find")
        #expect(PathPattern.literalPrefix(of: "^/jobs?$") == "/job")
        #expect(PathPattern.literalPrefix(of: "^/ab*c$") == "/a")
        #expect(PathPattern.literalPrefix(of: "^/a{2}$") == "/")
        #expect(PathPattern.literalPrefix(of: "^/a.b$") == "/a")
        #expect(PathPattern.literalPrefix(of: "^/a|^/b$") == "")
        #expect(PathPattern.literalPrefix(of: "^/x/(a|b)$") == "/x/")
        #expect(PathPattern.literalPrefix(of: "/tools/find") == "")
        let table = try PermissionTable(rules: [["get", "^/jobs?$", "view"], ["get", "^/a|^/b$", "send"]], dicomWebRoot: "/dicom-web/")
        #expect(table.required(method: "get", uri: "/job")?.permissions == ["view"])
        #expect(table.required(method: "get", uri: "/b")?.permissions == ["send"])
        #expect(table.required(method: "post", uri: "/job") == nil)
    }

    @Test func dicomWebRootIsSubstitutedAndFirstMatchWins() throws {
        let table = try PermissionTable(rules: PermissionTable.defaultRules, dicomWebRoot: "/pacs/dicomweb/")
        #expect(table.required(method: "post", uri: "/pacs/dicomweb/studies")?.permissions == ["all", "upload"])
        #expect(table.required(method: "get", uri: "/pacs/dicomweb/studies/1.2/series")?.permissions == ["all", "view"])
        #expect(table.required(method: "get", uri: "/dicom-web/studies") == nil)
        // As under the plugin: the single-resource patterns come first, so an archive needs view.
        #expect(table.required(method: "get", uri: "/studies/ab-12/archive")?.permissions == ["all", "view"])
        #expect(table.required(method: "get", uri: "/pacs/dicomweb/studies/1.2/series/3.4/instances/5.6/frames/1")?.permissions == ["all", "view"])
        #expect(table.required(method: "get", uri: "/osimis-viewer/studies/ab-12")?.permissions == ["all", "view"], "SINGLE_RESOURCE_PATTERNS expanded")
        #expect(table.required(method: "post", uri: "/tools/lookup")?.permissions == [])
    }
}
