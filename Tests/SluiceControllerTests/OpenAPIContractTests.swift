import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SluiceAPI
import SluiceController
import SluiceCore
import SluiceStore
import Testing
import Yams

/// Keeps `openapi/sluice-v1.yaml` and the code from drifting apart: the route table, the
/// access rules, the wire types and the statuses a running controller answers with are
/// all checked against the document.
@Suite struct OpenAPIContractTests {
    // MARK: Routes

    @Test func everyRouteOfTheTableIsDocumentedWithItsMethodAndPath() throws {
        let document = try OpenAPIDocument.load()
        for route in APIRoute.all {
            #expect(
                document.operation(route) != nil,
                "\(route.method.rawValue) \(route.path) is in APIRoute.all but not in openapi/sluice-v1.yaml")
        }
    }

    @Test func everyDocumentedOperationIsARouteOfTheTable() throws {
        let document = try OpenAPIDocument.load()
        let table = Set(APIRoute.all.map { "\($0.method.rawValue) \($0.path)" })
        #expect(!document.operations.isEmpty, "the document has no operations")
        for operation in document.operations {
            #expect(
                table.contains(operation.key),
                "\(operation.key) is in openapi/sluice-v1.yaml but not in APIRoute.all")
        }
    }

    @Test func operationsWithoutSecurityAreExactlyTheRoutesOpenToAnyone() throws {
        let document = try OpenAPIDocument.load()
        #expect(document.root["security"] == .array([.object(["bearer": .array([])])]), "the default security is not bearer")
        for route in APIRoute.all {
            let operation = try document.requireOperation(route)
            guard case .array(let requirements)? = operation["security"] else {
                Issue.record("\(route.method.rawValue) \(route.path) does not state its security")
                continue
            }
            if route.access == .anyone {
                #expect(requirements.isEmpty, "\(route.method.rawValue) \(route.path) is open to anyone but has security \(requirements)")
            } else {
                #expect(
                    requirements == [.object(["bearer": .array([])])],
                    "\(route.method.rawValue) \(route.path) needs a credential (\(route.access)) but has security \(requirements)")
            }
        }
    }

    @Test func everyOperationDescriptionStatesTheAccessRuleOfItsRoute() throws {
        let document = try OpenAPIDocument.load()
        for route in APIRoute.all {
            let operation = try document.requireOperation(route)
            let description = operation["description"]?.stringValue ?? ""
            #expect(
                description.contains("Access: \(route.access)."),
                "\(route.method.rawValue) \(route.path): description should state \"Access: \(route.access).\", is \(description.debugDescription)")
        }
    }

    /// The house rules: shared schemas, the error shape, the statuses each access rule,
    /// body and parameter can produce, declared path parameters, closed object schemas.
    @Test func everyOperationDocumentsItsErrorsPathParametersAndSchemasByReference() throws {
        let document = try OpenAPIDocument.load()
        let knownStatuses: Set<String> = ["200", "201", "400", "401", "403", "404", "409", "413", "429", "500"]
        var operationIDs: [String] = []
        for route in APIRoute.all {
            let name = "\(route.method.rawValue) \(route.path)"
            let operation = try document.requireOperation(route)
            if let id = operation["operationId"]?.stringValue { operationIDs.append(id) } else { Issue.record("\(name): no operationId") }
            #expect(operation["summary"]?.stringValue?.isEmpty == false, "\(name): no summary")

            // Request body: required JSON, a shared schema.
            let hasBody = operation["requestBody"] != nil
            if let requestBody = operation["requestBody"] {
                let body = try document.resolved(requestBody)
                #expect(body["required"] == .bool(true), "\(name): requestBody is not required")
                let reference = body["content"]?["application/json"]?["schema"]?["$ref"]?.stringValue ?? ""
                #expect(reference.hasPrefix("#/components/schemas/"), "\(name): request schema is not a $ref into components/schemas")
            }

            // Responses.
            guard case .object(let responses)? = operation["responses"] else {
                Issue.record("\(name): no responses")
                continue
            }
            let statuses = Set(responses.keys)
            #expect(statuses.isSubset(of: knownStatuses), "\(name): statuses \(statuses.subtracting(knownStatuses).sorted()) are not ones the controller uses")
            #expect(statuses.filter { $0.hasPrefix("2") }.count == 1, "\(name): should have exactly one success status")
            for status in ["401", "429", "500"] {
                #expect(statuses.contains(status), "\(name): every route can answer \(status) (the bearer check and rate limit run before routing)")
            }
            #expect(
                statuses.contains("403") == (route.access != .anyone),
                "\(name): 403 should be documented exactly when the route needs a credential (\(route.access))")
            #expect(statuses.contains("413") == hasBody, "\(name): 413 should be documented exactly when the route takes a body")
            let hasPathParameters = route.path.contains("{")
            let hasQueryParameters = try (operation["parameters"]?.arrayValue ?? []).contains { try document.resolved($0)["in"]?.stringValue == "query" }
            #expect(
                statuses.contains("400") == (hasBody || hasPathParameters || hasQueryParameters),
                "\(name): 400 should be documented exactly when there is a body, a path parameter or a query parameter")
            for (status, response) in responses {
                let resolved = try document.resolved(response)
                #expect(resolved["description"]?.stringValue?.isEmpty == false, "\(name) \(status): no description")
                let reference = resolved["content"]?["application/json"]?["schema"]?["$ref"]?.stringValue ?? ""
                if status.hasPrefix("2") {
                    #expect(reference.hasPrefix("#/components/schemas/"), "\(name) \(status): schema is not a $ref into components/schemas")
                } else {
                    #expect(reference == "#/components/schemas/ErrorResponse", "\(name) \(status): errors must use ErrorResponse")
                }
            }

            // Path parameters: each `{name}` declared once, in the path, required.
            let placeholders = Set(route.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
            var declared: Set<String> = []
            for parameter in operation["parameters"]?.arrayValue ?? [] {
                let resolved = try document.resolved(parameter)
                guard resolved["in"]?.stringValue == "path", let parameterName = resolved["name"]?.stringValue else { continue }
                declared.insert(parameterName)
                #expect(resolved["required"] == .bool(true), "\(name): path parameter \(parameterName) must be required")
                if parameterName == "hostID" {
                    #expect(resolved["schema"]?["$ref"]?.stringValue == "#/components/schemas/HostID", "\(name): hostID must use the HostID schema")
                }
            }
            #expect(declared == placeholders, "\(name): path parameters \(declared.sorted()) do not match the path's \(placeholders.sorted())")

            // Every parameter, path or query, says what it is and has a schema.
            for parameter in operation["parameters"]?.arrayValue ?? [] {
                let resolved = try document.resolved(parameter)
                let parameterName = resolved["name"]?.stringValue ?? "?"
                #expect(["path", "query"].contains(resolved["in"]?.stringValue ?? ""), "\(name): parameter \(parameterName) is neither in the path nor in the query")
                #expect(resolved["description"]?.stringValue?.isEmpty == false, "\(name): parameter \(parameterName) has no description")
                #expect(resolved["schema"] != nil, "\(name): parameter \(parameterName) has no schema")
            }
        }
        #expect(Set(operationIDs).count == operationIDs.count, "operationIds are not unique: \(operationIDs.sorted())")

        // Object schemas with properties are closed, and require only what they declare.
        guard case .object(let schemas)? = document.root["components"]?["schemas"] else {
            Issue.record("no components/schemas")
            return
        }
        for (schemaName, schema) in schemas {
            guard case .object(let properties)? = schema["properties"] else { continue }
            #expect(schema["additionalProperties"] == .bool(false), "\(schemaName): object schemas must have additionalProperties: false")
            for required in schema["required"]?.arrayValue ?? [] {
                #expect(properties[required.stringValue ?? ""] != nil, "\(schemaName): required \(required) is not a property")
            }
        }
        // The same for object schemas nested in others (the branches of a oneOf and their fields).
        for (location, schema) in document.schemaNodes() where location.split(separator: "/").count > 4 {
            guard case .object(let properties)? = schema["properties"] else { continue }
            #expect(schema["additionalProperties"] == .bool(false), "\(location): object schemas must have additionalProperties: false")
            for required in schema["required"]?.arrayValue ?? [] {
                #expect(properties[required.stringValue ?? ""] != nil, "\(location): required \(required) is not a property")
            }
        }
    }

    // MARK: Bodies

    /// Encodes each wire type twice, once with every optional set and every list filled and
    /// once with every optional `nil`, and validates both against the document: the first
    /// proves every documented property exists in Swift (and no undocumented one does), the
    /// second that `required` lists exactly the non-optional Swift properties.
    @Test(arguments: BodySample.all)
    func encodedBodyMatchesTheDocumentedSchema(_ sample: BodySample) throws {
        let document = try OpenAPIDocument.load()
        for target in try sample.targets(in: document) {
            let schema = try document.schema(for: target)

            let full = try sample.full()
            let fullSurvey = Survey(of: full)
            #expect(fullSurvey.nilOptionals.isEmpty, "\(sample.name): the fully populated sample leaves \(fullSurvey.nilOptionals) nil; set them")
            #expect(fullSurvey.emptyCollections.isEmpty, "\(sample.name): the fully populated sample has empty \(fullSurvey.emptyCollections); fill them")
            let fullErrors = try SchemaChecker.validate(encoding: full, against: schema, in: document, mode: .fullyPopulated)
            #expect(fullErrors.isEmpty, "\(sample.name), fully populated, against \(target):\n\(fullErrors.joined(separator: "\n"))")

            let minimal = try sample.minimal()
            let minimalSurvey = Survey(of: minimal)
            #expect(minimalSurvey.setOptionals.isEmpty, "\(sample.name): the minimal sample sets \(minimalSurvey.setOptionals); leave them nil")
            #expect(minimalSurvey.emptyArrays.isEmpty, "\(sample.name): the minimal sample has empty \(minimalSurvey.emptyArrays); fill them")
            let minimalErrors = try SchemaChecker.validate(encoding: minimal, against: schema, in: document, mode: .minimal)
            #expect(minimalErrors.isEmpty, "\(sample.name), minimal, against \(target):\n\(minimalErrors.joined(separator: "\n"))")
        }
    }

    @Test func theSamplesReachEveryObjectSchemaOfTheDocumentBothFullyPopulatedAndMinimal() throws {
        let document = try OpenAPIDocument.load()
        var reachedFull: Set<String> = [], reachedMinimal: Set<String> = []
        var branchesFull: Set<String> = [], branchesMinimal: Set<String> = []
        for sample in BodySample.all {
            for target in try sample.targets(in: document) {
                let schema = try document.schema(for: target)
                var full = SchemaChecker(document: document, mode: .fullyPopulated)
                full.check(try SchemaChecker.json(encoding: sample.full()), schema, path: "$", location: "(body)")
                reachedFull.formUnion(full.declared.keys)
                branchesFull.formUnion(full.matchedBranches)
                var minimal = SchemaChecker(document: document, mode: .minimal)
                minimal.check(try SchemaChecker.json(encoding: sample.minimal()), schema, path: "$", location: "(body)")
                reachedMinimal.formUnion(minimal.declared.keys)
                branchesMinimal.formUnion(minimal.matchedBranches)
            }
        }
        // Every case of every enum with associated values, in both modes.
        for (location, schema) in document.schemaNodes() {
            for index in (schema["oneOf"]?.arrayValue ?? []).indices {
                let branch = "\(location)/oneOf/\(index)"
                #expect(branchesFull.contains(branch), "\(branch) is matched by no fully populated sample; add one to BodySample.all")
                #expect(branchesMinimal.contains(branch), "\(branch) is matched by no minimal sample; add one to BodySample.all")
            }
        }
        guard case .object(let schemas)? = document.root["components"]?["schemas"] else {
            Issue.record("no components/schemas")
            return
        }
        for (name, schema) in schemas.sorted(by: { $0.key < $1.key }) where schema["properties"] != nil {
            let location = "#/components/schemas/\(name)"
            #expect(reachedFull.contains(location), "\(name) is reached by no fully populated sample; add one to BodySample.all")
            #expect(reachedMinimal.contains(location), "\(name) is reached by no minimal sample; add one to BodySample.all")
        }
    }

    /// The checker itself, on a small fixed schema so that exact answers do not depend on
    /// how the real document evolves.
    @Test func theCheckerRejectsAnUnknownPropertyAMissingRequiredOneAndABadValue() throws {
        let fixture = OpenAPIDocument(
            root: try YAMLDecoder().decode(
                JSONValue.self,
                from: """
                    components:
                      schemas:
                        Host:
                          type: object
                          additionalProperties: false
                          required: [name, tags]
                          properties:
                            name: {type: string, pattern: '^[a-z]+$'}
                            size: {type: integer, format: int64, minimum: 0}
                            kind: {type: string, enum: [small, large]}
                            tags: {type: array, items: {$ref: '#/components/schemas/Tag'}}
                        Tag:
                          type: object
                          additionalProperties: false
                          required: [key]
                          properties:
                            key: {type: string}
                            note: {type: string}
                    """))
        let host: JSONValue = .object(["$ref": .string("#/components/schemas/Host")])
        func errors(_ json: String, mode: SchemaChecker.Mode = .plain) throws -> [String] {
            var checker = SchemaChecker(document: fixture, mode: mode)
            checker.check(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)), host, path: "$", location: "(test)")
            return checker.finish()
        }
        func expectOne(_ json: String, mode: SchemaChecker.Mode = .plain, naming word: String, _ what: String) throws {
            let found = try errors(json, mode: mode)
            #expect(found.count == 1 && found.first?.contains(word) == true, "\(what) must be reported, naming \(word): \(found)")
        }

        #expect(try errors(#"{"name":"a","size":3,"kind":"small","tags":[{"key":"k","note":"n"}]}"#).isEmpty)
        try expectOne(#"{"name":"a","tags":[],"colour":"red"}"#, naming: "colour", "an extra key")
        try expectOne(#"{"tags":[]}"#, naming: "name", "a missing required key")
        try expectOne(#"{"name":"a","tags":[{"key":"k","extra":1}]}"#, naming: "extra", "an extra key nested behind $ref and items")
        try expectOne(#"{"name":"a","tags":[{"note":"n"}]}"#, naming: "key", "a missing nested required key")
        try expectOne(#"{"name":"A1","tags":[]}"#, naming: "does not match", "a string off the pattern")
        try expectOne(#"{"name":"a","kind":"huge","tags":[]}"#, naming: "not one of", "a value outside the enum")
        try expectOne(#"{"name":"a","size":1.5,"tags":[]}"#, naming: "expected integer", "a fraction where an integer belongs")
        try expectOne(#"{"name":"a","size":-1,"tags":[]}"#, naming: "less than", "a number below the minimum")
        try expectOne(#"{"name":7,"tags":[]}"#, naming: "expected string", "a number where a string belongs")
        try expectOne(#"{"name":"a","tags":{}}"#, naming: "expected array", "an object where an array belongs")

        // The two sample modes.
        let uncovered = try errors(#"{"name":"a","size":1,"kind":"small","tags":[{"key":"k"}]}"#, mode: .fullyPopulated)
        #expect(
            uncovered.count == 1 && uncovered.first?.hasPrefix("note of #/components/schemas/Tag never occurs") == true,
            "a fully populated sample that never encodes a documented property must be reported: \(uncovered)")
        try expectOne(#"{"name":"a","size":1,"tags":[]}"#, mode: .minimal, naming: "size", "an optional property encoded by a minimal sample")

        // The same checker on the real document, for its own patterns.
        let document = try OpenAPIDocument.load()
        let enroll = try document.schema(for: .request(.enroll))
        func realErrors(_ json: String, _ schema: JSONValue) throws -> [String] {
            try SchemaChecker.validate(json: Data(json.utf8), against: schema, in: document, mode: .plain)
        }
        #expect(try realErrors(#"{"hostID":"ns1.fra","labels":{"region":"fra"}}"#, enroll).isEmpty)
        #expect(try !realErrors(#"{"hostID":"Bad Host","labels":{}}"#, enroll).isEmpty, "a host id off the pattern must be reported")
        #expect(try !realErrors(#"{"hostID":"a","labels":{"Region":"x"}}"#, enroll).isEmpty, "a label key off the pattern must be reported")
        #expect(try !realErrors(#"{"hostID":"a","labels":{"region":"a b"}}"#, enroll).isEmpty, "a label value with a space must be reported")
        let created = try document.schema(for: .response(.createToken, 201))
        #expect(
            try !realErrors(#"{"keyID":"0123456789abcdef","token":"sluice-op.0123456789abcdef.short","name":"a"}"#, created).isEmpty,
            "a token off the format must be reported")

        // The reflection that keeps samples complete.
        let survey = Survey(of: CreateTokenRequest(name: "a", role: .viewer))
        #expect(survey.nilOptionals == ["CreateTokenRequest.expiresInSeconds"], "a nil optional must be found: \(survey.nilOptionals)")
        #expect(Survey(of: HostList(hosts: [])).emptyArrays == ["HostList.hosts"], "an empty list must be found")
    }

    /// `oneOf`, as the document uses it for Swift enums with associated values: exactly one
    /// branch must match, and the sample modes apply inside the branch that does.
    @Test func theCheckerAcceptsExactlyOneBranchOfAOneOf() throws {
        let fixture = OpenAPIDocument(
            root: try YAMLDecoder().decode(
                JSONValue.self,
                from: """
                    components:
                      schemas:
                        Size:
                          type: object
                          minProperties: 1
                          maxProperties: 1
                          oneOf:
                            - type: object
                              additionalProperties: false
                              required: [hosts]
                              properties:
                                hosts:
                                  type: object
                                  additionalProperties: false
                                  required: ['_0']
                                  properties:
                                    '_0': {type: integer, minimum: 1}
                            - type: object
                              additionalProperties: false
                              required: [percent]
                              properties:
                                percent:
                                  type: object
                                  additionalProperties: false
                                  required: ['_0']
                                  properties:
                                    '_0': {type: integer, maximum: 100}
                                    note: {type: string}
                            - type: object
                              additionalProperties: false
                              required: [all]
                              properties:
                                all: {type: object, additionalProperties: false}
                        Loose:
                          oneOf:
                            - {type: integer}
                            - {type: number}
                    """))
        let size: JSONValue = .object(["$ref": .string("#/components/schemas/Size")])
        func check(_ json: String, _ schema: JSONValue, mode: SchemaChecker.Mode = .plain) throws -> SchemaChecker {
            var checker = SchemaChecker(document: fixture, mode: mode)
            checker.check(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)), schema, path: "$", location: "(test)")
            return checker
        }
        func errors(_ json: String, _ schema: JSONValue, mode: SchemaChecker.Mode = .plain) throws -> [String] {
            var checker = try check(json, schema, mode: mode)
            return checker.finish()
        }

        #expect(try errors(#"{"hosts":{"_0":3}}"#, size).isEmpty)
        #expect(try errors(#"{"all":{}}"#, size).isEmpty)
        #expect(try check(#"{"percent":{"_0":20}}"#, size).matchedBranches == ["#/components/schemas/Size/oneOf/1"])
        for (json, what) in [
            (#"{"hosts":{"_0":0}}"#, "a value a branch refuses"), (#"{"thirds":{"_0":3}}"#, "an unknown case"),
            (#"{"hosts":{"_0":3},"all":{}}"#, "two cases at once"), (#"{"all":{"x":1}}"#, "a payload where none belongs"),
            (#"{"hosts":{}}"#, "a payload without its field"),
        ] {
            let found = try errors(json, size)
            #expect(found.contains { $0.contains("none of the 3 branches") }, "\(what) must be reported: \(found)")
        }
        let both = try errors("3", .object(["$ref": .string("#/components/schemas/Loose")]))
        #expect(both.count == 1 && both.first?.contains("matches 2 branches") == true, "a value two branches accept must be reported: \(both)")
        // The modes see through the branch that matched.
        let uncovered = try errors(#"{"percent":{"_0":20}}"#, size, mode: .fullyPopulated)
        #expect(uncovered == ["note of #/components/schemas/Size/oneOf/1/properties/percent never occurs in the fully populated sample: was it removed or renamed in Swift?"], "\(uncovered)")
        let optional = try errors(#"{"percent":{"_0":20,"note":"n"}}"#, size, mode: .minimal)
        #expect(optional.count == 1 && optional.first?.contains("note is encoded although") == true, "\(optional)")
    }

    // MARK: A running controller

    /// Drives every route through the real router and store, success and failure, and
    /// checks each answer's status against the expected one and its body against the
    /// document's schema for that operation and status.
    @Test func aRunningControllerAnswersEveryRouteAsDocumented() async throws {
        let document = try OpenAPIDocument.load()
        let clock = ManualWallClock(nowMs: 1_700_000_000_000)
        let database = try SluiceDatabase.inMemory(nowMs: clock.nowMs())
        let admin = try database.createOperatorToken(name: "root", role: .admin, expiresAtMs: nil, actor: .local("test"), nowMs: clock.nowMs()).token
        // One manually approved wave of one canary per group; the test drives the reconciler.
        let policy = Policy(
            name: "dns", waves: [WaveSpec(name: "canary", selector: ["role": ["dns"]], strategy: .onePerGroup, approval: .manual)],
            roles: ["dns": RoleChecks(healthChecks: [.systemdUnit(name: "named.service")])])
        let signal = ChangeSignal()
        var logger = Logger(label: "contract")
        logger.logLevel = .critical
        let reconciler = ReconcilerService(database: database, clock: clock, settings: ControllerSettings(), signal: signal, logger: logger)
        let app = Application(router: buildRouter(database: database, settings: ControllerSettings(), clock: clock, policies: [policy], signal: signal))
        let reportBody = try JSONEncoder().encode(try BodySample.fullInventoryReport())
        let waitParameter = try document.requireOperation(.pollAssignment)["parameters"]?.arrayValue?.first { $0["name"]?.stringValue == "wait" }
        guard case .integer(let maxWait)? = waitParameter?["schema"]?["maximum"] else {
            Issue.record("the long-poll documents no maximum wait: \(String(describing: waitParameter))")
            return
        }

        let exchanges = try await app.test(.router) { client in
            let encoder = JSONEncoder()
            var session = Session(client: client)
            try await session.call(.health, expect: 200)
            try await session.call(.health, token: "nonsense", expect: 401)
            try await session.call(.listHosts, expect: 401)

            let viewer = try await session.call(
                .createToken, token: admin, body: encoder.encode(CreateTokenRequest(name: "alice", role: .viewer, expiresInSeconds: 3600)),
                expect: 201, as: TokenResponse.self
            ).token
            try await session.call(.createToken, token: viewer, body: encoder.encode(CreateTokenRequest(name: "eve", role: .admin)), expect: 403)
            try await session.call(.createToken, token: admin, body: Data(#"{"name":"bob"}"#.utf8), expect: 400)

            let bootstrap = try await session.call(
                .createEnrollmentToken, token: admin,
                body: encoder.encode(
                    CreateEnrollmentTokenRequest(name: "dns-fra", uses: 3, expiresInSeconds: 3600, labels: try Labels(validating: ["region": "fra"]))),
                expect: 201, as: TokenResponse.self
            ).token
            try await session.call(.createEnrollmentToken, token: admin, body: Data(#"{"name":"x","uses":0}"#.utf8), expect: 400)

            // Listing and revoking tokens.
            let listed = try await session.call(.listTokens, token: admin, expect: 200, as: TokenList.self)
            #expect(Set(listed.tokens.map(\.name)) == ["root", "alice"], "\(listed.tokens.map(\.name))")
            try await session.call(.listTokens, token: viewer, expect: 403)
            let revokeBody = try encoder.encode(RevokeRequest(reason: "CHG-1040 left the team"))
            let spare = try await session.call(
                .createToken, token: admin, body: encoder.encode(CreateTokenRequest(name: "mallory", role: .operator)), expect: 201, as: TokenResponse.self)
            try await session.call(.revokeToken, path: "/v1/tokens/\(spare.keyID)/revoke", token: viewer, body: revokeBody, expect: 403)
            try await session.call(.revokeToken, path: "/v1/tokens/\(spare.keyID)/revoke", token: admin, body: Data("{}".utf8), expect: 400)
            try await session.call(.revokeToken, path: "/v1/tokens/NOT-A-KEY/revoke", token: admin, body: revokeBody, expect: 400)
            try await session.call(.revokeToken, path: "/v1/tokens/0123456789abcdef/revoke", token: admin, body: revokeBody, expect: 404)
            let revokedToken = try await session.call(
                .revokeToken, path: "/v1/tokens/\(spare.keyID)/revoke", token: admin, body: revokeBody, expect: 200, as: TokenInfo.self)
            #expect(revokedToken.state == .revoked && revokedToken.revokedBy == "operator:root", "\(revokedToken)")
            try await session.call(.revokeToken, path: "/v1/tokens/\(spare.keyID)/revoke", token: admin, body: revokeBody, expect: 409)
            try await session.call(.health, token: spare.token, expect: 401)
            let adminKeyID = try #require(CredentialToken(parsing: admin)).keyID
            try await session.call(.revokeToken, path: "/v1/tokens/\(adminKeyID)/revoke", token: admin, body: revokeBody, expect: 409)
            try await session.call(.listEnrollmentTokens, token: admin, expect: 200)
            try await session.call(.listEnrollmentTokens, token: viewer, expect: 403)
            let spareEnrollment = try await session.call(
                .createEnrollmentToken, token: admin, body: encoder.encode(CreateEnrollmentTokenRequest(name: "spare")), expect: 201, as: TokenResponse.self)
            let revokeEnrollment = "/v1/enrollment-tokens/\(spareEnrollment.keyID)/revoke"
            try await session.call(.revokeEnrollmentToken, path: revokeEnrollment, token: admin, body: Data(#"{"reason":""}"#.utf8), expect: 400)
            try await session.call(.revokeEnrollmentToken, path: "/v1/enrollment-tokens/\(spare.keyID)/revoke", token: admin, body: revokeBody, expect: 404)
            try await session.call(.revokeEnrollmentToken, path: revokeEnrollment, token: admin, body: revokeBody, expect: 200)
            try await session.call(.revokeEnrollmentToken, path: revokeEnrollment, token: admin, body: revokeBody, expect: 409)
            try await session.call(.revokeEnrollmentToken, path: revokeEnrollment, token: viewer, body: revokeBody, expect: 403)

            let labels = try Labels(validating: ["region": "fra", "role": "dns", "environment": "production"])
            let enrollBody = try encoder.encode(EnrollRequest(hostID: try HostID(parsing: "ns1.fra"), labels: labels))
            let host = try await session.call(.enroll, token: bootstrap, body: enrollBody, expect: 201, as: EnrollResponse.self).token
            try await session.call(.enroll, token: bootstrap, body: enrollBody, expect: 409)
            try await session.call(
                .enroll, token: bootstrap,
                body: encoder.encode(EnrollRequest(hostID: try HostID(parsing: "ns1.ams"), labels: try Labels(validating: ["region": "ams"]))),
                expect: 403)
            try await session.call(.enroll, token: viewer, body: enrollBody, expect: 403)
            try await session.call(.enroll, token: bootstrap, body: Data(#"{"hostID":"NS1","labels":{}}"#.utf8), expect: 400)

            try await session.call(.putInventory, path: "/v1/hosts/ns1.fra/inventory", token: host, body: reportBody, expect: 200)
            try await session.call(.putInventory, path: "/v1/hosts/ns1.fra/inventory", token: host, body: Data("{}".utf8), expect: 400)
            try await session.call(.putInventory, path: "/v1/hosts/ns2.fra/inventory", token: host, body: reportBody, expect: 403)
            try await session.call(.putInventory, path: "/v1/hosts/ns1.fra/inventory", token: admin, body: reportBody, expect: 403)

            // The unchanged inventory confirmed by its digest; another digest is a 409.
            let confirmPath = "/v1/hosts/ns1.fra/inventory/digest"
            let report = try BodySample.fullInventoryReport()
            let confirmBody = try encoder.encode(InventoryConfirmation(digest: InventoryDigest.hex(of: report), labels: report.labels))
            try await session.call(.confirmInventory, path: confirmPath, token: host, body: confirmBody, expect: 200)
            try await session.call(
                .confirmInventory, path: confirmPath, token: host,
                body: encoder.encode(InventoryConfirmation(digest: InventoryDigest.hex(of: try BodySample.minimalInventoryReport()))), expect: 409)
            try await session.call(.confirmInventory, path: confirmPath, token: host, body: Data(#"{"digest":"ABC"}"#.utf8), expect: 400)
            try await session.call(.confirmInventory, path: "/v1/hosts/ns2.fra/inventory/digest", token: host, body: confirmBody, expect: 403)
            try await session.call(.confirmInventory, path: confirmPath, token: admin, body: confirmBody, expect: 403)

            // The report's labels differ from the enrolled ones: not applied until an operator approves.
            let labelsPath = "/v1/hosts/ns1.fra/labels"
            let approveLabels = try encoder.encode(HostLabelsRequest(action: .approve, labels: try BodySample.labels(), reason: "CHG-1041 rack recorded"))
            try await session.call(.decideHostLabels, path: labelsPath, token: viewer, body: approveLabels, expect: 403)
            try await session.call(.decideHostLabels, path: labelsPath, token: host, body: approveLabels, expect: 403)
            try await session.call(
                .decideHostLabels, path: labelsPath, token: admin, body: encoder.encode(HostLabelsRequest(action: .set, reason: "no labels")), expect: 400)
            try await session.call(.decideHostLabels, path: labelsPath, token: admin, body: Data(#"{"action":"approve"}"#.utf8), expect: 400)
            try await session.call(.decideHostLabels, path: "/v1/hosts/ns9.fra/labels", token: admin, body: approveLabels, expect: 404)
            let decided = try await session.call(.decideHostLabels, path: labelsPath, token: admin, body: approveLabels, expect: 200, as: HostLabelsResponse.self)
            #expect(decided.labels["rack_id"] == "r-12/b" && decided.previousLabels["rack_id"] == nil, "\(decided)")
            try await session.call(.decideHostLabels, path: labelsPath, token: admin, body: approveLabels, expect: 409)

            try await session.call(.listHosts, token: viewer, expect: 200)
            try await session.call(.listHosts, token: host, expect: 403)
            try await session.call(.getHost, path: "/v1/hosts/ns1.fra", token: host, expect: 200)
            try await session.call(.getHost, path: "/v1/hosts/ns1.fra", token: viewer, expect: 200)
            try await session.call(.getHost, path: "/v1/hosts/ns9.fra", token: viewer, expect: 404)
            try await session.call(.getHost, path: "/v1/hosts/NS1", token: viewer, expect: 400)
            try await session.call(.listUpdates, token: viewer, expect: 200)
            try await session.call(.listUpdates, token: bootstrap, expect: 403)

            // Policies and rollouts.
            try await session.call(.listPolicies, token: viewer, expect: 200)
            try await session.call(.listPolicies, token: host, expect: 403)
            let create = try encoder.encode(CreateRolloutRequest(policy: "dns"))
            try await session.call(.planRollout, token: viewer, body: create, expect: 200)
            try await session.call(.planRollout, token: viewer, body: encoder.encode(CreateRolloutRequest(policy: "web")), expect: 404)
            try await session.call(.planRollout, token: viewer, body: Data(#"{"policy":"dns","packages":["bind9"]}"#.utf8), expect: 400)
            try await session.call(.createRollout, token: viewer, body: create, expect: 403)
            let rollout = try await session.call(.createRollout, token: admin, body: create, expect: 201, as: RolloutDetail.self).summary.id
            try await session.call(.createRollout, token: admin, body: create, expect: 409)
            try await session.call(.listRollouts, token: viewer, expect: 200)
            try await session.call(.listRollouts, token: host, expect: 403)
            try await session.call(.getRollout, path: "/v1/rollouts/\(rollout)", token: viewer, expect: 200)
            try await session.call(.getRollout, path: "/v1/rollouts/999", token: viewer, expect: 404)
            try await session.call(.getRollout, path: "/v1/rollouts/latest", token: viewer, expect: 400)

            let approve = try encoder.encode(DecisionRequest(wave: "canary", reason: "CHG-1042"))
            try await session.call(.approveWave, path: "/v1/rollouts/\(rollout)/approve", token: viewer, body: approve, expect: 403)
            try await session.call(.approveWave, path: "/v1/rollouts/\(rollout)/approve", token: admin, body: approve, expect: 200)
            try await session.call(.approveWave, path: "/v1/rollouts/\(rollout)/approve", token: admin, body: approve, expect: 409)
            try await session.call(
                .approveWave, path: "/v1/rollouts/\(rollout)/approve", token: admin, body: encoder.encode(DecisionRequest(wave: "final")), expect: 404)
            // The reconciler starts the approved wave, then the canary.
            for _ in 0..<5 {
                if try reconciler.pass().isEmpty { break }
            }

            let health = try encoder.encode(HealthReport(healthy: true, detail: "named.service active"))
            try await session.call(.putHealth, path: "/v1/hosts/ns1.fra/health", token: host, body: health, expect: 200)
            try await session.call(.putHealth, path: "/v1/hosts/ns1.fra/health", token: admin, body: health, expect: 403)
            try await session.call(.putHealth, path: "/v1/hosts/ns1.fra/health", token: host, body: Data(#"{"healthy":"yes"}"#.utf8), expect: 400)
            let handover = try encoder.encode(BodySample.handoverReport)
            try await session.call(.reportHandover, path: "/v1/hosts/ns1.fra/handover", token: host, body: handover, expect: 200)
            try await session.call(.reportHandover, path: "/v1/hosts/ns1.fra/handover", token: admin, body: handover, expect: 403)
            try await session.call(
                .reportHandover, path: "/v1/hosts/ns1.fra/handover", token: host, body: Data(#"{"reason":"bored"}"#.utf8), expect: 400)
            let poll = try await session.call(
                .pollAssignment, path: "/v1/hosts/ns1.fra/assignment?wait=\(maxWait)", token: host, expect: 200, as: AssignmentPoll.self)
            try await session.call(.pollAssignment, path: "/v1/hosts/ns1.fra/assignment?wait=\(maxWait + 1)", token: host, expect: 400)
            try await session.call(.pollAssignment, path: "/v1/hosts/ns2.fra/assignment", token: host, expect: 403)
            let assignment = try #require(poll.assignment, "the started canary has no assignment: \(poll)")

            // A plan asks the listening host what apt would do: its answer reaches the waiting
            // plan (200); once the plan answered, a late one does not (404).
            let planning = Task { [client] in
                try await client.execute(
                    uri: "/v1/rollouts/plan", method: .post, headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"],
                    body: ByteBuffer(data: try JSONEncoder().encode(CreateRolloutRequest(policy: "dns")))
                ) { try JSONDecoder().decode(RolloutPlan.self, from: Data(buffer: $0.body)) }
            }
            let asked = try await session.call(
                .pollAssignment, path: "/v1/hosts/ns1.fra/assignment?wait=\(maxWait)&known=\(poll.etag)", token: host, expect: 200,
                as: AssignmentPoll.self)
            let question = try #require(asked.simulation, "the plan's question did not reach the host: \(asked)")
            let answer = try encoder.encode(try BodySample.fullSimulationReport())
            let answerPath = "/v1/hosts/ns1.fra/simulations/\(question.id)"
            try await session.call(.reportSimulation, path: answerPath, token: host, body: answer, expect: 200)
            let simulated = try await planning.value
            #expect(simulated.simulation?.groups.first?.hosts.map(\.rawValue) == ["ns1.fra"], "\(simulated)")
            try await session.call(.reportSimulation, path: answerPath, token: host, body: answer, expect: 404)
            try await session.call(.reportSimulation, path: answerPath, token: admin, body: answer, expect: 403)
            try await session.call(.reportSimulation, path: answerPath, token: host, body: Data(#"{"installs":[]}"#.utf8), expect: 400)
            let steps = "/v1/hosts/ns1.fra/assignments/\(assignment.id)/steps"
            let started = try encoder.encode(ApplyStepReport(step: .started, detail: "starting"))
            try await session.call(.reportStep, path: steps, token: host, body: started, expect: 200)
            try await session.call(.reportStep, path: steps, token: host, body: started, expect: 409)
            try await session.call(.reportStep, path: "/v1/hosts/ns1.fra/assignments/999/steps", token: host, body: started, expect: 404)
            try await session.call(.reportStep, path: steps, token: host, body: Data(#"{"step":"begun","detail":""}"#.utf8), expect: 400)

            // The apply ends `failed` (rollback unhealthy): the host holds its group's capacity
            // until an operator resolves it, once.
            let resolve = "/v1/hosts/ns1.fra/resolve"
            let dealtWith = try encoder.encode(DecisionRequest(reason: "CHG-1044 named restored by hand"))
            try await session.call(.resolveHost, path: resolve, token: admin, body: dealtWith, expect: 409)
            let failed = try encoder.encode(ApplyStepReport(step: .finished, detail: "health failed after the rollback", outcome: .failed))
            try await session.call(.reportStep, path: steps, token: host, body: failed, expect: 200)
            try await session.call(.resolveHost, path: resolve, token: viewer, body: dealtWith, expect: 403)
            try await session.call(.resolveHost, path: resolve, token: host, body: dealtWith, expect: 403)
            try await session.call(.resolveHost, path: resolve, token: admin, body: encoder.encode(DecisionRequest()), expect: 400)
            try await session.call(.resolveHost, path: resolve, token: admin, body: encoder.encode(DecisionRequest(reason: "")), expect: 400)
            try await session.call(.resolveHost, path: resolve, token: admin, body: encoder.encode(DecisionRequest(reason: "ok\u{1B}[31m")), expect: 400)
            try await session.call(.resolveHost, path: "/v1/hosts/NS1/resolve", token: admin, body: dealtWith, expect: 400)
            let resolved = try await session.call(.resolveHost, path: resolve, token: admin, body: dealtWith, expect: 200, as: ResolveResponse.self)
            #expect(resolved == ResolveResponse(hostID: try HostID(parsing: "ns1.fra"), resolved: 1))
            try await session.call(.resolveHost, path: resolve, token: admin, body: dealtWith, expect: 409)

            let because = try encoder.encode(DecisionRequest(reason: "CHG-1043"))
            try await session.call(.pauseRollout, path: "/v1/rollouts/\(rollout)/pause", token: admin, body: encoder.encode(DecisionRequest()), expect: 400)
            try await session.call(.pauseRollout, path: "/v1/rollouts/\(rollout)/pause", token: admin, body: because, expect: 200)
            try await session.call(.pauseRollout, path: "/v1/rollouts/\(rollout)/pause", token: admin, body: because, expect: 409)
            try await session.call(.resumeRollout, path: "/v1/rollouts/\(rollout)/resume", token: admin, body: because, expect: 200)
            try await session.call(.abortRollout, path: "/v1/rollouts/999/abort", token: admin, body: because, expect: 404)
            try await session.call(.abortRollout, path: "/v1/rollouts/\(rollout)/abort", token: admin, body: because, expect: 200)
            try await session.call(.resumeRollout, path: "/v1/rollouts/\(rollout)/resume", token: admin, body: because, expect: 409)

            // A revert, of a rollout that changed ns1.fra, once that rollout ended.
            let second = try await session.call(.createRollout, token: admin, body: create, expect: 201, as: RolloutDetail.self).summary.id
            let revertPath = "/v1/rollouts/\(second)/revert"
            let revert = try encoder.encode(RevertRequest(reason: "CHG-1045 bind9 regression"))
            try await session.call(.revertRollout, path: revertPath, token: admin, body: revert, expect: 409)
            try await session.call(.approveWave, path: "/v1/rollouts/\(second)/approve", token: admin, body: approve, expect: 200)
            try await session.call(.putHealth, path: "/v1/hosts/ns1.fra/health", token: host, body: health, expect: 200)
            for _ in 0..<5 {
                if try reconciler.pass().isEmpty { break }
            }
            let secondPoll = try await session.call(.pollAssignment, path: "/v1/hosts/ns1.fra/assignment", token: host, expect: 200, as: AssignmentPoll.self)
            let again = try #require(secondPoll.assignment, "the second rollout did not start ns1.fra: \(secondPoll)")
            let againSteps = "/v1/hosts/ns1.fra/assignments/\(again.id)/steps"
            try await session.call(.reportStep, path: againSteps, token: host, body: started, expect: 200)
            let succeeded = try encoder.encode(
                ApplyStepReport(step: .finished, detail: "installed; healthy", versionsBefore: ["bind9": "1:9.18.19-1~deb12u1"], outcome: .succeeded))
            try await session.call(.reportStep, path: againSteps, token: host, body: succeeded, expect: 200)
            try await session.call(.abortRollout, path: "/v1/rollouts/\(second)/abort", token: admin, body: because, expect: 200)
            try await session.call(.revertRollout, path: revertPath, token: viewer, body: revert, expect: 403)
            try await session.call(.revertRollout, path: "/v1/rollouts/999/revert", token: admin, body: revert, expect: 404)
            try await session.call(.revertRollout, path: revertPath, token: admin, body: encoder.encode(DecisionRequest()), expect: 400)
            let reverting = try await session.call(.revertRollout, path: revertPath, token: admin, body: revert, expect: 201, as: RolloutDetail.self)
            #expect(reverting.waves.map(\.name) == ["revert"] && reverting.waves.first?.hosts.map(\.hostID.rawValue) == ["ns1.fra"], "\(reverting)")
            try await session.call(.revertRollout, path: revertPath, token: admin, body: revert, expect: 409)

            // The audit log of all of the above.
            try await session.call(.queryAudit, token: viewer, expect: 200)
            let tail = try await session.call(
                .queryAudit, path: "/v1/audit?rollout=\(rollout)&kind=rollout.*&take=last&limit=2", token: viewer, expect: 200, as: AuditPage.self)
            #expect(tail.events.map(\.kind) == ["rollout.resumed", "rollout.aborted"] && tail.more, "\(tail.events.map(\.kind))")
            try await session.call(.queryAudit, path: "/v1/audit?actor=operator:*&host=ns1.fra&after=1&through=1000&since=0&until=\(Int64.max)", token: viewer, expect: 200)
            for bad in ["hots=x", "limit=0", "limit=100001", "kind=a*b", "host=x*", "since=yesterday", "host=a&host=b", "take=middle", "since=5&until=5", "rollout=0"] {
                try await session.call(.queryAudit, path: "/v1/audit?\(bad)", token: viewer, expect: 400)
            }
            try await session.call(.queryAudit, token: host, expect: 403)
            try await session.call(.queryAudit, expect: 401)
            let verification = try await session.call(.verifyAudit, token: viewer, expect: 200, as: AuditVerification.self)
            #expect(verification.intact && verification.rows > 10, "\(verification.summary)")
            try await session.call(.verifyAudit, token: bootstrap, expect: 403)
            let history = try await session.call(
                .rolloutHistory, path: "/v1/rollouts/\(rollout)/history", token: viewer, expect: 200, as: RolloutHistory.self)
            // Its last rollout event is the abort; ns1.fra's health reports since (for the revert above) follow it.
            #expect(history.rolloutID == rollout && history.events.last { $0.kind.hasPrefix("rollout.") }?.kind == "rollout.aborted", "\(history.events.map(\.kind))")
            try await session.call(.rolloutHistory, path: "/v1/rollouts/999/history", token: viewer, expect: 404)
            try await session.call(.rolloutHistory, path: "/v1/rollouts/latest/history", token: viewer, expect: 400)
            try await session.call(.rolloutHistory, path: "/v1/rollouts/\(rollout)/history", token: host, expect: 403)

            // Revoking the host: its secret stops working and its id cannot enroll again.
            let revokeHost = "/v1/hosts/ns1.fra/revoke"
            try await session.call(.revokeHost, path: revokeHost, token: viewer, body: revokeBody, expect: 403)
            try await session.call(.revokeHost, path: revokeHost, token: host, body: revokeBody, expect: 403)
            try await session.call(.revokeHost, path: revokeHost, token: admin, body: Data("{}".utf8), expect: 400)
            try await session.call(.revokeHost, path: "/v1/hosts/ns9.fra/revoke", token: admin, body: revokeBody, expect: 404)
            try await session.call(.revokeHost, path: revokeHost, token: admin, body: revokeBody, expect: 200)
            try await session.call(.revokeHost, path: revokeHost, token: admin, body: revokeBody, expect: 409)
            try await session.call(.getHost, path: "/v1/hosts/ns1.fra", token: host, expect: 401)
            try await session.call(.enroll, token: bootstrap, body: enrollBody, expect: 409)
            try await session.call(.decideHostLabels, path: labelsPath, token: admin, body: approveLabels, expect: 404)
            return session.exchanges
        }

        var succeeded: Set<String> = []
        for exchange in exchanges {
            let name = "\(exchange.route.method.rawValue) \(exchange.uri) (\(exchange.route.path))"
            #expect(exchange.status == exchange.expected, "\(name): answered \(exchange.status), expected \(exchange.expected): \(String(decoding: exchange.body, as: UTF8.self))")
            let schema: JSONValue
            do { schema = try document.schema(for: .response(exchange.route, exchange.status)) } catch {
                Issue.record("\(name): \(error)")
                continue
            }
            let errors = try SchemaChecker.validate(json: exchange.body, against: schema, in: document, mode: .plain)
            #expect(errors.isEmpty, "\(name) \(exchange.status):\n\(errors.joined(separator: "\n"))")
            if exchange.status < 300 { succeeded.insert("\(exchange.route.method.rawValue) \(exchange.route.path)") }
        }
        let all = Set(APIRoute.all.map { "\($0.method.rawValue) \($0.path)" })
        #expect(succeeded == all, "routes never answered with success here: \(all.subtracting(succeeded).sorted())")
    }

    /// The request body limit is 8 MiB; one byte more must be a 413 `payload_too_large`.
    @Test func aBodyOverTheEightMebibyteLimitIsAnsweredWith413() async throws {
        let document = try OpenAPIDocument.load()
        let clock = ManualWallClock(nowMs: 1_700_000_000_000)
        let database = try SluiceDatabase.inMemory(nowMs: clock.nowMs())
        let admin = try database.createOperatorToken(name: "root", role: .admin, expiresAtMs: nil, actor: .local("test"), nowMs: clock.nowMs()).token
        let app = Application(router: buildRouter(database: database, settings: ControllerSettings(), clock: clock))
        // A syntactically plausible JSON object, 8 MiB + 1 byte long.
        let limit = 8 << 20
        let prefix = #"{"name":"x","role":"viewer","pad":""#, suffix = #""}"#
        let oversized = Data((prefix + String(repeating: "a", count: limit + 1 - prefix.utf8.count - suffix.utf8.count) + suffix).utf8)
        #expect(oversized.count == limit + 1)

        let exchanges = try await app.test(.router) { client in
            var session = Session(client: client)
            try await session.call(.createToken, token: admin, body: oversized, expect: 413)
            return session.exchanges
        }
        let exchange = try #require(exchanges.first)
        let schema = try document.schema(for: .response(.createToken, 413))
        #expect(try SchemaChecker.validate(json: exchange.body, against: schema, in: document, mode: .plain).isEmpty)
        let code = try JSONDecoder().decode(ErrorResponse.self, from: exchange.body).error.code
        #expect(exchange.status == 413 && code == "payload_too_large", "answered \(exchange.status) \(code)")
    }
}

/// The helpers live inside the suite so that their names cannot clash with other test files.
extension OpenAPIContractTests {
    // MARK: - Samples

    /// One wire type, with a fully populated and a minimal instance, and where it appears.
    struct BodySample: Sendable, CustomTestStringConvertible {
        enum Use: Sendable {
            case request(APIRoute)
            case response(APIRoute, Int)
            /// Every 4xx and 5xx response of every operation.
            case everyErrorResponse
            /// A schema of `components/schemas` by itself, for a type that a body holds only
            /// behind an optional: a minimal sample of the body leaves it out, so without this
            /// no minimal sample would check its `required` list.
            case component(String)
        }

        let name: String
        let uses: [Use]
        let full: @Sendable () throws -> any Encodable
        let minimal: @Sendable () throws -> any Encodable

        var testDescription: String { name }

        func targets(in document: OpenAPIDocument) throws -> [Target] {
            var targets: [Target] = []
            for use in uses {
                switch use {
                case .request(let route):
                    targets.append(.request(route))
                case .response(let route, let status):
                    targets.append(.response(route, status))
                case .everyErrorResponse:
                    for route in APIRoute.all {
                        let statuses = try document.requireOperation(route)["responses"]?.objectValue?.keys.compactMap { Int($0) } ?? []
                        targets += statuses.filter { $0 >= 400 }.sorted().map { Target.response(route, $0) }
                    }
                case .component(let name):
                    targets.append(.component(name))
                }
            }
            return targets
        }

        static let handoverReport = HandoverReport(
            reason: "orphaned", handedBackAtMs: 1_700_000_000_000, handbackDetail: "the controller was unreachable for longer than orphan_after",
            takenOverAtMs: 1_700_000_600_000, takeoverDetail: "/etc/apt/apt.conf.d/51sluice-unattended-upgrades sets APT::Periodic::Unattended-Upgrade \"0\"")

        static let all: [BodySample] = [
            BodySample(name: "HealthResponse", uses: [.response(.health, 200)], full: { health }, minimal: { health }),
            BodySample(name: "EnrollRequest", uses: [.request(.enroll)], full: { try enrollRequest() },
                minimal: { EnrollRequest(hostID: try HostID(parsing: "ns1"), labels: Labels()) }),
            BodySample(name: "EnrollResponse", uses: [.response(.enroll, 201)], full: { try enrollResponse() },
                minimal: { EnrollResponse(hostID: try HostID(parsing: "ns1"), token: CredentialToken.generate(kind: .host).text) }),
            BodySample(
                name: "InventoryReport", uses: [.request(.putInventory)], full: { try fullInventoryReport() }, minimal: { try minimalInventoryReport() }),
            BodySample(
                name: "InventoryConfirmation", uses: [.request(.confirmInventory)],
                full: { InventoryConfirmation(digest: InventoryDigest.hex(of: try fullInventoryReport()), labels: try labels()) },
                minimal: { InventoryConfirmation(digest: InventoryDigest.hex(of: try minimalInventoryReport())) }),
            BodySample(
                name: "ReportAccepted", uses: [.response(.putInventory, 200), .response(.confirmInventory, 200), .response(.putHealth, 200)],
                full: { try fullAccepted() },
                minimal: { accepted }),
            BodySample(
                name: "LabelChange", uses: [.component("LabelChange")], full: { try fullLabelChange() },
                minimal: { LabelChange(approved: Labels(), requested: try labels(), requestedAtMs: 1_700_000_000_000) }),
            BodySample(
                name: "HostList", uses: [.response(.listHosts, 200)],
                full: { HostList(hosts: [try fullSummary()]) }, minimal: { HostList(hosts: [try minimalSummary()]) }),
            BodySample(name: "HostDetail", uses: [.response(.getHost, 200)], full: { try fullHostDetail() }, minimal: { try minimalHostDetail() }),
            BodySample(name: "UpdateList", uses: [.response(.listUpdates, 200)], full: { try updateList() }, minimal: { try updateList() }),
            BodySample(
                name: "CreateTokenRequest", uses: [.request(.createToken)],
                full: { CreateTokenRequest(name: "alice", role: .operator, expiresInSeconds: 86400) },
                minimal: { CreateTokenRequest(name: "alice", role: .viewer) }),
            BodySample(
                name: "CreateEnrollmentTokenRequest", uses: [.request(.createEnrollmentToken)],
                full: {
                    CreateEnrollmentTokenRequest(
                        name: "dns-fra", uses: 4, expiresInSeconds: 3600, labels: try Labels(validating: ["region": "fra", "role": "dns"]))
                },
                minimal: { CreateEnrollmentTokenRequest(name: "dns-fra") }),
            BodySample(
                name: "TokenResponse", uses: [.response(.createToken, 201), .response(.createEnrollmentToken, 201)],
                full: {
                    let token = CredentialToken.generate(kind: .enrollment)
                    return TokenResponse(
                        keyID: token.keyID, token: token.text, name: "dns-fra", role: .admin, expiresAtMs: 1_700_086_400_000, usesLeft: 4)
                },
                minimal: {
                    let token = CredentialToken.generate(kind: .operatorToken)
                    return TokenResponse(keyID: token.keyID, token: token.text, name: "alice", role: nil, expiresAtMs: nil, usesLeft: nil)
                }),
            // Identities: tokens, host revocation, labels.
            BodySample(
                name: "TokenList", uses: [.response(.listTokens, 200), .response(.listEnrollmentTokens, 200)],
                full: { TokenList(tokens: [try fullTokenInfo()]) }, minimal: { TokenList(tokens: [minimalTokenInfo()]) }),
            BodySample(
                name: "TokenInfo", uses: [.response(.revokeToken, 200), .response(.revokeEnrollmentToken, 200)], full: { try fullTokenInfo() },
                minimal: { minimalTokenInfo() }),
            BodySample(
                name: "RevokeRequest", uses: [.request(.revokeToken), .request(.revokeEnrollmentToken), .request(.revokeHost)],
                full: { RevokeRequest(reason: "CHG-1040: laptop stolen") }, minimal: { RevokeRequest(reason: "x") }),
            BodySample(
                name: "HostRevoked", uses: [.response(.revokeHost, 200)],
                full: { HostRevoked(hostID: try HostID(parsing: "ns1.fra"), revokedAtMs: 1_700_000_000_000, cancelledAssignments: 2, failedAssignments: 1) },
                minimal: { HostRevoked(hostID: try HostID(parsing: "ns1"), revokedAtMs: 0, cancelledAssignments: 0, failedAssignments: 0) }),
            BodySample(
                name: "HostLabelsRequest", uses: [.request(.decideHostLabels)],
                full: { HostLabelsRequest(action: .set, labels: try labels(), reason: "CHG-1041: moved to rack 12") },
                minimal: { HostLabelsRequest(action: .approve, reason: "CHG-1041") }),
            BodySample(
                name: "HostLabelsResponse", uses: [.response(.decideHostLabels, 200)],
                full: {
                    HostLabelsResponse(
                        hostID: try HostID(parsing: "ns1.fra"), labels: try labels(), previousLabels: try Labels(validating: ["region": "ams"]))
                },
                minimal: { HostLabelsResponse(hostID: try HostID(parsing: "ns1"), labels: Labels(), previousLabels: Labels()) }),
            // Rollouts: what agents send and get.
            BodySample(
                name: "HealthReport", uses: [.request(.putHealth)],
                full: { HealthReport(healthy: false, detail: "unit named.service is failed") }, minimal: { HealthReport(healthy: true, detail: "") }),
            BodySample(name: "HandoverReport", uses: [.request(.reportHandover)], full: { handoverReport }, minimal: { handoverReport }),
            BodySample(
                name: "HandoverRecorded", uses: [.response(.reportHandover, 200)], full: { HandoverRecorded(auditSeqs: [41, 42]) },
                minimal: { HandoverRecorded(auditSeqs: [41, 42]) }),
            BodySample(
                name: "AssignmentPoll", uses: [.response(.pollAssignment, 200)],
                full: {
                    AssignmentPoll(
                        etag: "7-started_q42", assignment: try fullAssignment(), simulation: SimulationRequest(id: "42", packages: [try pin()]))
                },
                minimal: { AssignmentPoll(etag: "none", assignment: nil) }),
            BodySample(name: "SimulationReport", uses: [.request(.reportSimulation)], full: { try fullSimulationReport() },
                minimal: { SimulationReport(installs: [try minimalChange()], removals: [try minimalRemoval()]) }),
            BodySample(
                name: "Alert", uses: [.component("Alert")],
                full: {
                    Alert(
                        id: 42, kind: "rollout.halted", rollout: 3, wave: "canary", host: "dns1.fra",
                        message: "rollout 3 halted: wave canary: 1 host(s) failed (dns1.fra), budget 0", atMs: 1_700_000_000_000)
                },
                minimal: { Alert(id: 1, kind: "rollout.completed", rollout: nil, wave: nil, host: nil, message: "rollout 1 completed", atMs: 1_700_000_000_000) }),
            BodySample(
                name: "SimulationAccepted", uses: [.response(.reportSimulation, 200)], full: { SimulationAccepted(simulationID: 42) },
                minimal: { SimulationAccepted(simulationID: 1) }),
            BodySample(
                name: "HostAssignment", uses: [.component("HostAssignment")], full: { try fullAssignment() }, minimal: { try minimalAssignment() }),
            BodySample(name: "ApplyStepReport", uses: [.request(.reportStep)], full: { fullStepReport() }, minimal: { minimalStepReport() }),
            BodySample(name: "StepAccepted", uses: [.response(.reportStep, 200)], full: { StepAccepted(state: .rolledBack) }, minimal: { StepAccepted(state: .applying) }),
            // Rollouts: what operators send and get.
            BodySample(
                name: "PolicyList", uses: [.response(.listPolicies, 200)],
                full: {
                    PolicyList(policies: [
                        try fullPolicy(name: "dns", schedule: .daily(minuteOfDay: 150, timeZone: "Europe/Paris")),
                        try fullPolicy(name: "web", schedule: .onNewCandidates(debounceSeconds: 900)),
                    ])
                },
                minimal: { PolicyList(policies: [minimalPolicy()]) }),
            BodySample(
                name: "Schedule (daily)", uses: [.component("Schedule")],
                full: { Schedule.daily(minuteOfDay: 1439, timeZone: "UTC") }, minimal: { Schedule.daily(minuteOfDay: 0, timeZone: "Europe/Paris") }),
            BodySample(
                name: "Schedule (on new candidates)", uses: [.component("Schedule")],
                full: { Schedule.onNewCandidates(debounceSeconds: 900) }, minimal: { Schedule.onNewCandidates(debounceSeconds: 0) }),
            BodySample(
                name: "CreateRolloutRequest", uses: [.request(.planRollout), .request(.createRollout)],
                full: { CreateRolloutRequest(policy: "dns", packages: [try pin()]) }, minimal: { CreateRolloutRequest(policy: "dns") }),
            BodySample(name: "RolloutPlan", uses: [.response(.planRollout, 200)], full: { try fullPlan() }, minimal: { try minimalPlan() }),
            BodySample(
                name: "PlanSimulation", uses: [.component("PlanSimulation")], full: { try fullSimulation() }, minimal: { try minimalSimulation() }),
            BodySample(
                name: "SimulationRequest", uses: [.component("SimulationRequest")],
                full: { SimulationRequest(id: "42", packages: [try pin()]) }, minimal: { SimulationRequest(id: "1", packages: [try pin()]) }),
            BodySample(
                name: "RolloutDetail",
                uses: [
                    .response(.createRollout, 201), .response(.getRollout, 200), .response(.approveWave, 200), .response(.pauseRollout, 200),
                    .response(.resumeRollout, 200), .response(.abortRollout, 200), .response(.revertRollout, 201),
                ],
                full: { try fullRolloutDetail() }, minimal: { try minimalRolloutDetail() }),
            BodySample(
                name: "RolloutList", uses: [.response(.listRollouts, 200)],
                full: { RolloutList(rollouts: [try fullRolloutSummary()]) }, minimal: { RolloutList(rollouts: [try minimalRolloutSummary()]) }),
            BodySample(
                name: "DecisionRequest",
                uses: [.request(.approveWave), .request(.pauseRollout), .request(.resumeRollout), .request(.abortRollout), .request(.resolveHost)],
                full: { DecisionRequest(wave: "production", reason: "CHG-1042: canary healthy for 24 h") }, minimal: { DecisionRequest() }),
            BodySample(
                name: "RevertRequest", uses: [.request(.revertRollout)],
                full: { RevertRequest(host: try HostID(parsing: "ns1.fra"), reason: "CHG-1045: bind9 regression") },
                minimal: { RevertRequest(reason: "x") }),
            BodySample(
                name: "ResolveResponse", uses: [.response(.resolveHost, 200)],
                full: { ResolveResponse(hostID: try HostID(parsing: "ns1.fra"), resolved: 2) },
                minimal: { ResolveResponse(hostID: try HostID(parsing: "ns1.fra"), resolved: 1) }),
            // The audit log.
            BodySample(
                name: "AuditPage", uses: [.response(.queryAudit, 200)],
                full: { AuditPage(records: [fullAuditRecord()], more: true) }, minimal: { AuditPage(records: [minimalAuditRecord()], more: false) }),
            BodySample(name: "AuditVerification", uses: [.response(.verifyAudit, 200)], full: { fullVerification() }, minimal: { minimalVerification() }),
            BodySample(
                name: "AuditChainProblem", uses: [.component("AuditChainProblem")],
                full: { AuditChainProblem(kind: .deleted, seq: 4, lastSeq: 6, message: "rows 4...6 are missing (deleted)") },
                minimal: { AuditChainProblem(kind: .edited, seq: 3, message: "row 3 was edited") }),
            BodySample(name: "AuditArchiveAnchor", uses: [.component("AuditArchiveAnchor")], full: { archiveAnchor }, minimal: { archiveAnchor }),
            BodySample(
                name: "RolloutHistory", uses: [.response(.rolloutHistory, 200)],
                full: {
                    RolloutHistory(
                        rolloutID: 3, events: [fullAuditEvent()], groups: ["dns@fra": ["ns1.fra", "ns2.fra"], "dns@ams": ["ns1.ams"]],
                        asOfMs: 1_700_000_900_000, archived: archiveAnchor)
                },
                minimal: { RolloutHistory(rolloutID: 1, events: [minimalAuditEvent()], groups: ["host:ns1": ["ns1"]], asOfMs: 1_700_000_000_000) }),
            BodySample(name: "ErrorResponse", uses: [.everyErrorResponse], full: { error }, minimal: { error }),
        ]

        // MARK: Audit samples

        static let hashA = String(repeating: "0", count: 64)
        static let hashB = "3fa2" + String(repeating: "9c", count: 30)

        static let archiveAnchor = AuditArchiveAnchor(
            firstSeq: 1, throughSeq: 120, hash: hashB, file: "/srv/audit/2026.ndjson", fileSHA256: hashA, actor: "local:root", archivedAtMs: 1_700_000_800_000)

        static func fullAuditEvent() -> AuditEvent {
            AuditEvent(
                seq: 42, atMs: 1_700_000_600_000, actor: "agent:ns1.fra", kind: "agent.step.finished", rolloutID: 3, wave: "canary",
                hostID: "ns1.fra", region: "fra", groupKey: "dns@fra", package: "bind9=1:9.18.28-1~deb12u2 libc6=2.36-9",
                details: #"{"outcome":"succeeded","detail":"named.service active"}"#)
        }

        static func minimalAuditEvent() -> AuditEvent { AuditEvent(seq: 1, atMs: 1_700_000_000_000, actor: "local:root", kind: "token.created") }

        static func fullAuditRecord() -> AuditRecord { AuditRecord(event: fullAuditEvent(), prevHash: hashB, hash: hashB) }

        static func minimalAuditRecord() -> AuditRecord { AuditRecord(event: minimalAuditEvent(), prevHash: hashA, hash: hashB) }

        static func fullVerification() -> AuditVerification {
            AuditVerification(
                rows: 1200, firstSeq: 1, lastSeq: 1200, headHash: hashB,
                problem: AuditChainProblem(kind: .inserted, seq: 4, lastSeq: 5, message: "rows 4...5 were inserted"), elapsedMs: 12)
        }

        static func minimalVerification() -> AuditVerification {
            AuditVerification(rows: 0, firstSeq: nil, lastSeq: nil, headHash: nil, problem: nil, elapsedMs: 0)
        }

        static let health = HealthResponse(status: "ok", version: SluiceVersion.current)
        static let accepted = ReportAccepted(changed: true, nextReportSeconds: 60)

        static func fullLabelChange() throws -> LabelChange {
            LabelChange(
                approved: try Labels(validating: ["region": "fra", "role": "dns"]), requested: try labels(), requestedAtMs: 1_700_000_000_000,
                rejectedAtMs: 1_700_000_060_000)
        }

        static func fullAccepted() throws -> ReportAccepted {
            ReportAccepted(changed: false, nextReportSeconds: 60, labelChange: try fullLabelChange())
        }

        static func fullTokenInfo() throws -> TokenInfo {
            TokenInfo(
                keyID: CredentialToken.generate(kind: .enrollment).keyID, name: "dns-fra", role: .admin,
                labels: try Labels(validating: ["region": "fra"]), usesLeft: 0, state: .usedUp, createdAtMs: 1_700_000_000_000,
                createdBy: "local:root", expiresAtMs: 1_700_086_400_000, lastUsedAtMs: 1_700_000_060_000, revokedAtMs: 1_700_000_120_000,
                revokedBy: "operator:alice", revokeReason: "CHG-1040: laptop stolen")
        }

        static func minimalTokenInfo() -> TokenInfo {
            TokenInfo(
                keyID: CredentialToken.generate(kind: .operatorToken).keyID, name: "alice", state: .active, createdAtMs: 1_700_000_000_000,
                createdBy: "operator:root")
        }
        static let error = ErrorResponse(code: "not_found", message: "host ns9.fra is not enrolled")

        static func enrollRequest() throws -> EnrollRequest {
            EnrollRequest(
                hostID: try HostID(parsing: "ns1.fra.example.net"), labels: try labels(),
                clientCertificateRequest: "-----BEGIN CERTIFICATE REQUEST-----\nMIH...\n-----END CERTIFICATE REQUEST-----\n")
        }

        static func enrollResponse() throws -> EnrollResponse {
            EnrollResponse(
                hostID: try HostID(parsing: "ns1.fra.example.net"), token: CredentialToken.generate(kind: .host).text,
                clientCertificate: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n")
        }

        static func labels() throws -> Labels {
            try Labels(validating: ["region": "fra", "role": "dns", "environment": "production", "rack_id": "r-12/b"])
        }

        static func fullOS() -> OSRelease {
            OSRelease(id: "debian", versionID: "12", versionCodename: "bookworm", prettyName: "Debian GNU/Linux 12 (bookworm)")
        }

        static func installed() throws -> [InstalledPackage] {
            [
                InstalledPackage(
                    name: try PackageName(parsing: "bind9"), architecture: try Architecture(parsing: "amd64"),
                    version: try DebianVersion(parsing: "1:9.18.24-1"), status: "install ok installed"),
                InstalledPackage(
                    name: try PackageName(parsing: "libstdc++6"), architecture: try Architecture(parsing: "i386"),
                    version: try DebianVersion(parsing: "12.2.0-14"), status: "install ok installed"),
            ]
        }

        static func fullCandidates() throws -> [UpgradeCandidate] {
            [
                UpgradeCandidate(
                    name: try PackageName(parsing: "bind9"), architecture: try Architecture(parsing: "amd64"),
                    installedVersion: try DebianVersion(parsing: "1:9.18.24-1"), candidateVersion: try DebianVersion(parsing: "1:9.18.28-1~deb12u2"),
                    origins: [
                        PackageOrigin(
                            origin: "Debian", label: "Debian-Security", archive: "bookworm-security", codename: "bookworm-security",
                            component: "main", site: "security.debian.org")
                    ])
            ]
        }

        static func minimalCandidates() throws -> [UpgradeCandidate] {
            [
                UpgradeCandidate(
                    name: try PackageName(parsing: "libuv1"), architecture: try Architecture(parsing: "amd64"), installedVersion: nil,
                    candidateVersion: try DebianVersion(parsing: "1.44.2-1+deb12u1"), origins: [PackageOrigin()])
            ]
        }

        static func fullInventoryReport() throws -> InventoryReport {
            InventoryReport(
                agentVersion: "0.1.0", os: fullOS(), installed: try installed(), candidates: try fullCandidates(), rebootRequired: true,
                rebootRequiredPackages: ["linux-image-6.1.0-28-amd64"],
                unattendedUpgrades: UnattendedUpgradesStatus(enabled: true, detail: "APT::Periodic::Unattended-Upgrade is \"1\""), labels: try labels())
        }

        static func minimalInventoryReport() throws -> InventoryReport {
            InventoryReport(
                agentVersion: "0.1.0", os: OSRelease(id: "debian", versionID: nil, versionCodename: nil, prettyName: "Debian GNU/Linux trixie/sid"),
                installed: try installed(), candidates: try minimalCandidates(), rebootRequired: false, rebootRequiredPackages: ["libc6"],
                unattendedUpgrades: UnattendedUpgradesStatus(enabled: nil, detail: ""))
        }

        static func fullSummary() throws -> HostSummary {
            HostSummary(
                id: try HostID(parsing: "ns1.fra.example.net"), labels: try labels(), enrolledAtMs: 1_700_000_000_000,
                lastSeenAtMs: 1_700_000_060_000, agentVersion: "0.1.0", os: fullOS(), pendingUpdates: 2, pendingSecurityUpdates: 1,
                rebootRequired: true, unattendedUpgrades: UnattendedUpgradesStatus(enabled: false, detail: "disabled in 20auto-upgrades"),
                warnings: ["reboot required"], pendingLabels: try Labels(validating: ["region": "ams", "role": "dns"]))
        }

        static func minimalSummary() throws -> HostSummary {
            HostSummary(
                id: try HostID(parsing: "ns2.fra.example.net"), labels: Labels(), enrolledAtMs: 1_700_000_000_000, lastSeenAtMs: nil,
                agentVersion: nil, os: nil, pendingUpdates: 0, pendingSecurityUpdates: 0, rebootRequired: false, unattendedUpgrades: nil,
                warnings: ["never reported"])
        }

        static func fullHostDetail() throws -> HostDetail {
            HostDetail(
                summary: try fullSummary(), installed: try installed(), candidates: try fullCandidates(),
                rebootRequiredPackages: ["linux-image-6.1.0-28-amd64"])
        }

        static func minimalHostDetail() throws -> HostDetail {
            HostDetail(summary: try minimalSummary(), installed: try installed(), candidates: try minimalCandidates(), rebootRequiredPackages: ["libc6"])
        }

        // MARK: Rollout samples

        static func pin() throws -> PackagePin { try PackagePin(parsing: "bind9=1:9.18.28-1~deb12u2") }

        static func command(_ argv: String...) -> CommandSpec { CommandSpec(argv: argv, timeoutSeconds: 20) }

        /// One health check of every kind.
        static let everyHealthCheck: [HealthCheck] = [
            .systemdUnit(name: "named.service"),
            .command(CommandSpec(argv: ["/usr/bin/dig", "@127.0.0.1", "example.com"], timeoutSeconds: 5)),
            .tcp(host: "127.0.0.1", port: 53, timeoutSeconds: 3),
            .http(url: "http://127.0.0.1:8053/health", expectStatus: 204, timeoutSeconds: 5),
            .dns(server: "::1", port: 53, name: "example.com", allowNXDomain: true, timeoutSeconds: 2),
        ]

        static func fullAssignment() throws -> HostAssignment {
            HostAssignment(
                id: 7, rolloutID: 3, state: .started,
                instructions: ApplyInstructions(
                    packages: [try pin()], validations: [command("named-checkconf", "/etc/bind/named.conf")], healthChecks: everyHealthCheck,
                    preHooks: [command("/usr/local/sbin/drain")], postHooks: [command("/usr/local/sbin/undrain")], allowRemovals: true,
                    healthDeadlineSeconds: 300, healthRetryIntervalSeconds: 10, revertsAssignment: 5, keepSavedFrom: [5, 6]))
        }

        static func minimalAssignment() throws -> HostAssignment {
            HostAssignment(
                id: 1, rolloutID: 1, state: .verifying,
                instructions: ApplyInstructions(
                    packages: [try pin()], validations: [command("true")], healthChecks: [.systemdUnit(name: "named")], preHooks: [command("true")],
                    postHooks: [command("true")]))
        }

        static func fullStepReport() -> ApplyStepReport {
            ApplyStepReport(
                step: .finished, detail: "health failed after the restart; rolled back", output: "dig: connection timed out\n",
                versionsBefore: ["bind9": "1:9.18.24-1"], versionsAfter: ["bind9": "1:9.18.24-1"], outcome: .rolledBackAfterRestart,
                rebootRequired: false)
        }

        static func minimalStepReport() -> ApplyStepReport { ApplyStepReport(step: .started, detail: "starting") }

        static func fullRoleChecks() -> RoleChecks {
            RoleChecks(
                validations: [command("named-checkconf")], healthChecks: everyHealthCheck, preHooks: [command("/usr/local/sbin/drain")],
                postHooks: [command("/usr/local/sbin/undrain")], healthDeadlineSeconds: 600)
        }

        /// Waves of every strategy and batch size, each with a window and a blackout date.
        static func waves() -> [WaveSpec] {
            let window = MaintenanceWindow(weekdays: [2, 3, 4, 5, 6], startMinute: 22 * 60, endMinute: 6 * 60, timeZone: "Europe/Paris")
            func wave(_ name: String, _ environment: String, _ strategy: WaveStrategy, _ approval: Approval) -> WaveSpec {
                WaveSpec(
                    name: name, selector: ["environment": [environment], "role": ["dns-resolver", "dns-auth"]], strategy: strategy, soakSeconds: 3600,
                    approval: approval, failureBudget: 1, windows: [window], blackoutDates: ["2025-12-24", "2025-12-31"])
            }
            return [
                wave("canary", "test", .onePerGroup, .auto), wave("staging", "staging", .all, .auto),
                wave("production", "production", .batches(size: .hosts(2)), .manual), wave("rest", "legacy", .batches(size: .percent(25)), .manual),
            ]
        }

        static func fullPolicy(name: String, schedule: Schedule) throws -> Policy {
            Policy(
                name: name,
                qualify: QualifyRules(
                    origins: [
                        OriginPattern(origin: "Debian", label: "Debian-Security", archive: "${distro_codename}-security", codename: "bookworm*", component: "main")
                    ],
                    include: ["bind9*", "libssl3"], exclude: ["linux-image-*"]),
                groups: GroupRules(labels: ["role", "region"], maxUnavailable: 2), waves: waves(),
                roles: ["dns-resolver": fullRoleChecks(), "dns-auth": fullRoleChecks()], schedule: schedule, dependencies: .includeFromQualifiedOrigins)
        }

        static func minimalPolicy() -> Policy {
            Policy(
                name: "dns-minimal", qualify: QualifyRules(origins: [OriginPattern()], include: ["*"], exclude: ["linux-*"]),
                groups: GroupRules(labels: ["region"]), waves: waves(),
                roles: [
                    "dns-resolver": RoleChecks(validations: [command("true")], healthChecks: everyHealthCheck, preHooks: [command("true")], postHooks: [command("true")])
                ])
        }

        /// Hosts as the planner sees them: bind9 pending everywhere.
        static func fleetHost(_ id: String, _ labels: [String: String]) throws -> FleetHost {
            FleetHost(
                id: try HostID(parsing: id), labels: try Labels(validating: labels), lastSeenAtMs: 1_700_000_000_000, codename: "bookworm",
                installed: try installed(), candidates: try fullCandidates())
        }

        /// Every host in a group; a group of one is warned about.
        static func fullPlan() throws -> RolloutPlan {
            let policy = Policy(
                name: "dns",
                waves: [
                    WaveSpec(name: "canary", selector: ["environment": ["test"]], strategy: .onePerGroup),
                    WaveSpec(name: "production", selector: [:], strategy: .batches(size: .hosts(1)), approval: .manual),
                ])
            let hosts = [
                try fleetHost("ns1.fra", ["role": "dns", "region": "fra", "environment": "test"]),
                try fleetHost("ns2.fra", ["role": "dns", "region": "fra", "environment": "production"]),
                try fleetHost("ns1.ams", ["role": "dns", "region": "ams", "environment": "production"]),
            ]
            var plan = WavePlanner.plan(policy: policy, packages: [try pin()], hosts: hosts, nowMs: 1_700_000_060_000, staleAfterMs: 300_000)
            plan.simulation = try fullSimulation()
            plan.included = [try PackagePin(parsing: "libc6=2.36-9+deb12u4")]
            plan.refusal = "the set would also upgrade libfoo1 1.0-1 -> 1.1-1 on ns2.fra: not from an origin the policy qualifies"
            return plan
        }

        static func fullSimulationReport() throws -> SimulationReport {
            SimulationReport(
                installs: [try fullChange()], removals: [try fullRemoval()],
                error: "apt-get -s install: E: Unable to correct problems, you have held broken packages.")
        }

        static func fullChange() throws -> PackageChange {
            PackageChange(name: try PackageName(parsing: "libc6"), from: try DebianVersion(parsing: "2.36-9"), to: try DebianVersion(parsing: "2.36-9+deb12u4"))
        }

        static func minimalChange() throws -> PackageChange {
            PackageChange(name: try PackageName(parsing: "libnew1"), from: nil, to: try DebianVersion(parsing: "1.0-1"))
        }

        static func fullRemoval() throws -> PackageRemoval {
            PackageRemoval(name: try PackageName(parsing: "bind9-utils"), version: try DebianVersion(parsing: "1:9.18.24-1"))
        }

        static func minimalRemoval() throws -> PackageRemoval {
            PackageRemoval(name: try PackageName(parsing: "bind9-utils"), version: nil)
        }

        static func fullSimulation() throws -> PlanSimulation {
            PlanSimulation(
                groups: [
                    SimulatedGroup(
                        hosts: [try HostID(parsing: "ns1.fra")], installs: [try fullChange()], removals: [try fullRemoval()], outside: [try fullChange()],
                        error: "apt-get -s install: E: Unable to correct problems")
                ],
                unknown: [UnansweredHost(hostID: try HostID(parsing: "ns1.ams"), reason: "its agent is not polling the controller")])
        }

        static func minimalSimulation() throws -> PlanSimulation {
            PlanSimulation(
                groups: [
                    SimulatedGroup(
                        hosts: [try HostID(parsing: "ns1")], installs: [try minimalChange()], removals: [try minimalRemoval()], outside: [try minimalChange()],
                        error: nil)
                ],
                unknown: [UnansweredHost(hostID: try HostID(parsing: "ns2"), reason: "no answer within 20s")])
        }

        /// No host in a group.
        static func minimalPlan() throws -> RolloutPlan {
            let policy = Policy(name: "dns", waves: [WaveSpec(name: "all", selector: [:])])
            var plan = WavePlanner.plan(
                policy: policy, packages: [try pin()], hosts: [try fleetHost("ns1", ["environment": "test"])], nowMs: 1_700_000_060_000,
                staleAfterMs: 300_000)
            plan.included = [try PackagePin(parsing: "libc6=2.36-9+deb12u4")]
            return plan
        }

        static func fullRolloutSummary() throws -> RolloutSummary {
            RolloutSummary(
                id: 3, policy: "dns", state: .paused, reason: "CHG-1042: waiting for the vendor", createdAtMs: 1_700_000_000_000,
                createdBy: "operator:alice", packages: [try pin()], currentWave: "production", counts: ["succeeded": 2, "pending": 4],
                revertOf: 2)
        }

        static func minimalRolloutSummary() throws -> RolloutSummary {
            RolloutSummary(
                id: 1, policy: "dns", state: .completed, reason: nil, createdAtMs: 1_700_000_000_000, createdBy: "controller", packages: [try pin()],
                currentWave: nil, counts: [:])
        }

        static func fullRolloutDetail() throws -> RolloutDetail {
            RolloutDetail(
                summary: try fullRolloutSummary(),
                waves: [
                    WaveDetail(
                        index: 0, name: "canary", state: .soaking, approval: .manual, approvedBy: "operator:alice", soakSeconds: 3600,
                        soakStartedAtMs: 1_700_000_600_000,
                        hosts: [
                            AssignmentDetail(
                                id: 7, hostID: try HostID(parsing: "ns1.fra"), batch: 0, group: "dns@fra", state: .succeeded, detail: "succeeded")
                        ])
                ],
                warnings: ["group dns@ams has one member: updating it leaves the group with no spare"],
                waitingOn: ["wave canary soaking, 40m left"], simulation: try fullSimulation())
        }

        static func minimalRolloutDetail() throws -> RolloutDetail {
            RolloutDetail(
                summary: try minimalRolloutSummary(),
                waves: [
                    WaveDetail(
                        index: 0, name: "all", state: .pending, approval: .auto, approvedBy: nil, soakSeconds: 0, soakStartedAtMs: nil,
                        hosts: [AssignmentDetail(id: 1, hostID: try HostID(parsing: "ns1"), batch: 0, group: "host:ns1", state: .pending, detail: nil)])
                ],
                warnings: ["host ns1 is in no redundancy group (missing role, region)"], waitingOn: ["wave all waits for its maintenance window"])
        }

        static func updateList() throws -> UpdateList {
            UpdateList(updates: [
                PendingUpdate(
                    name: try PackageName(parsing: "bind9"), version: try DebianVersion(parsing: "1:9.18.28-1~deb12u2"),
                    origins: ["Debian-Security/bookworm-security"], isSecurity: true, hosts: 3)
            ])
        }
    }

    /// Where a body appears in the document.
    enum Target: Sendable, CustomStringConvertible {
        case request(APIRoute)
        case response(APIRoute, Int)
        case component(String)

        var description: String {
            switch self {
            case .request(let route): "\(route.method.rawValue) \(route.path) request body"
            case .response(let route, let status): "\(route.method.rawValue) \(route.path) \(status) response"
            case .component(let name): "#/components/schemas/\(name)"
            }
        }
    }

    /// What a sample value leaves unset or empty, found by reflection so that a property added
    /// to a Swift type shows up here even before anyone updates the sample.
    struct Survey {
        var nilOptionals: [String] = []
        var setOptionals: [String] = []
        var emptyArrays: [String] = []
        var emptyCollections: [String] = []

        init(of value: Any) { walk(value, path: String(describing: type(of: value))) }

        private mutating func walk(_ value: Any, path: String) {
            let mirror = Mirror(reflecting: value)
            switch mirror.displayStyle {
            case .optional:
                if let wrapped = mirror.children.first {
                    setOptionals.append(path)
                    walk(wrapped.value, path: path)
                } else {
                    nilOptionals.append(path)
                }
            case .collection, .set:
                if mirror.children.isEmpty {
                    emptyArrays.append(path)
                    emptyCollections.append(path)
                }
                for (index, child) in mirror.children.enumerated() { walk(child.value, path: "\(path)[\(index)]") }
            case .dictionary:
                if mirror.children.isEmpty { emptyCollections.append(path) }
                for child in mirror.children {
                    let pair = Array(Mirror(reflecting: child.value).children)
                    if pair.count == 2 { walk(pair[1].value, path: "\(path)[\(pair[0].value)]") }
                }
            default:
                for child in mirror.children { walk(child.value, path: "\(path).\(child.label ?? "?")") }
            }
        }
    }

    // MARK: - A controller session

    struct Exchange: Sendable {
        let route: APIRoute
        let uri: String
        let expected: Int
        let status: Int
        let body: Data
    }

    struct Session {
        let client: any TestClientProtocol
        var exchanges: [Exchange] = []

        init(client: any TestClientProtocol) { self.client = client }

        @discardableResult
        mutating func call(_ route: APIRoute, path: String? = nil, token: String? = nil, body: Data? = nil, expect expected: Int) async throws -> Data {
            var headers = HTTPFields()
            if let token { headers[.authorization] = "Bearer \(token)" }
            if body != nil { headers[.contentType] = "application/json" }
            let uri = path ?? route.path
            let response = try await client.execute(
                uri: uri, method: HTTPRequest.Method(rawValue: route.method.rawValue)!, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
            let data = Data(response.body.readableBytesView)
            exchanges.append(Exchange(route: route, uri: uri, expected: expected, status: Int(response.status.code), body: data))
            return data
        }

        mutating func call<T: Decodable>(
            _ route: APIRoute, path: String? = nil, token: String? = nil, body: Data? = nil, expect expected: Int, as type: T.Type
        ) async throws -> T {
            let data = try await call(route, path: path, token: token, body: body, expect: expected)
            return try JSONDecoder().decode(T.self, from: data)
        }
    }

    // MARK: - The document

    struct ContractError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// `openapi/sluice-v1.yaml`, read as plain JSON values.
    struct OpenAPIDocument: Sendable {
        let root: JSONValue

        static func load() throws -> OpenAPIDocument {
            // Tests/SluiceControllerTests/<this file> -> the package root.
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let url = root.appendingPathComponent("openapi/sluice-v1.yaml")
            let text = try String(contentsOf: url, encoding: .utf8)
            let document = OpenAPIDocument(root: try YAMLDecoder().decode(JSONValue.self, from: text))
            guard document.root["openapi"]?.stringValue == "3.1.0" else { throw ContractError("\(url.path) is not an OpenAPI 3.1.0 document") }
            return document
        }

        static let methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

        /// Every operation, keyed `METHOD /path`.
        var operations: [String: JSONValue] {
            var out: [String: JSONValue] = [:]
            for (path, item) in root["paths"]?.objectValue ?? [:] {
                for method in Self.methods { if let operation = item[method] { out["\(method.uppercased()) \(path)"] = operation } }
            }
            return out
        }

        func operation(_ route: APIRoute) -> JSONValue? {
            root["paths"]?[route.path]?[route.method.rawValue.lowercased()]
        }

        func requireOperation(_ route: APIRoute) throws -> JSONValue {
            guard let operation = operation(route) else { throw ContractError("\(route.method.rawValue) \(route.path) is not in the document") }
            return operation
        }

        /// Every schema of `components/schemas` and every schema nested in one (in
        /// `properties`, `items`, `additionalProperties`, `propertyNames` and `oneOf`), with
        /// its location as the checker names it.
        func schemaNodes() -> [(location: String, schema: JSONValue)] {
            var nodes: [(location: String, schema: JSONValue)] = []
            func walk(_ node: JSONValue, _ location: String) {
                guard case .object(let rules) = node else { return }
                nodes.append((location, node))
                for (name, child) in (rules["properties"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                    walk(child, "\(location)/properties/\(name)")
                }
                if let items = rules["items"] { walk(items, "\(location)/items") }
                if let additional = rules["additionalProperties"] { walk(additional, "\(location)/additionalProperties") }
                if let names = rules["propertyNames"] { walk(names, "\(location)/propertyNames") }
                for (index, branch) in (rules["oneOf"]?.arrayValue ?? []).enumerated() { walk(branch, "\(location)/oneOf/\(index)") }
            }
            for (name, schema) in (root["components"]?["schemas"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                walk(schema, "#/components/schemas/\(name)")
            }
            return nodes
        }

        /// A local JSON pointer such as `#/components/schemas/HostID`.
        func resolve(pointer: String) -> JSONValue? {
            guard pointer.hasPrefix("#/") else { return nil }
            var node: JSONValue? = root
            for token in pointer.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
                node = node?[token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")]
            }
            return node
        }

        /// Follows `$ref` (of a response, parameter or request body) to its target.
        func resolved(_ value: JSONValue) throws -> JSONValue {
            var current = value
            for _ in 0..<16 {
                guard let reference = current["$ref"]?.stringValue else { return current }
                guard let target = resolve(pointer: reference) else { throw ContractError("unresolvable $ref \(reference)") }
                current = target
            }
            throw ContractError("$ref chain too long")
        }

        func schema(for target: Target) throws -> JSONValue {
            switch target {
            case .request(let route):
                guard let body = try requireOperation(route)["requestBody"] else { throw ContractError("\(target): not documented") }
                guard let schema = try resolved(body)["content"]?["application/json"]?["schema"] else { throw ContractError("\(target): no JSON schema") }
                return schema
            case .response(let route, let status):
                guard let response = try requireOperation(route)["responses"]?[String(status)] else {
                    throw ContractError("\(target): status \(status) is not documented")
                }
                guard let schema = try resolved(response)["content"]?["application/json"]?["schema"] else { throw ContractError("\(target): no JSON schema") }
                return schema
            case .component(let name):
                let pointer = "#/components/schemas/\(name)"
                guard resolve(pointer: pointer) != nil else { throw ContractError("\(target): not in the document") }
                return .object(["$ref": .string(pointer)])
            }
        }
    }

    /// A JSON (or YAML) value. Decoding tries the narrowest type first, so `true` stays a
    /// Boolean and `3` an integer.
    enum JSONValue: Sendable, Equatable, Decodable, CustomStringConvertible {
        case null
        case bool(Bool)
        case integer(Int64)
        case number(Double)
        case string(String)
        case array([JSONValue])
        case object([String: JSONValue])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Int64.self) {
                self = .integer(value)
            } else if let value = try? container.decode(Double.self) {
                self = .number(value)
            } else if let value = try? container.decode(String.self) {
                self = .string(value)
            } else if let value = try? container.decode([JSONValue].self) {
                self = .array(value)
            } else {
                self = .object(try container.decode([String: JSONValue].self))
            }
        }

        subscript(key: String) -> JSONValue? {
            if case .object(let members) = self { return members[key] }
            return nil
        }

        var stringValue: String? {
            if case .string(let value) = self { return value }
            return nil
        }

        var arrayValue: [JSONValue]? {
            if case .array(let value) = self { return value }
            return nil
        }

        var objectValue: [String: JSONValue]? {
            if case .object(let value) = self { return value }
            return nil
        }

        var description: String {
            switch self {
            case .null: "null"
            case .bool(let value): "\(value)"
            case .integer(let value): "\(value)"
            case .number(let value): "\(value)"
            case .string(let value): value.debugDescription
            case .array(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
            case .object(let members):
                "{" + members.sorted { $0.key < $1.key }.map { "\($0.key.debugDescription): \($0.value)" }.joined(separator: ", ") + "}"
            }
        }
    }

    // MARK: - The schema checker

    /// A small JSON Schema checker for the subset the document uses. It refuses keywords it
    /// does not know, so the document cannot grow a rule the tests silently skip.
    struct SchemaChecker {
        enum Mode: Sendable {
            /// Plain validation.
            case plain
            /// Also: every property a reached object schema declares must occur somewhere in
            /// the value (the sample sets every optional, so a missing one was removed or
            /// renamed in Swift).
            case fullyPopulated
            /// Also: every property that occurs must be in `required` (the sample sets no
            /// optional, so whatever is encoded is non-optional in Swift).
            case minimal
        }

        static let keywords: Set<String> = [
            "$ref", "type", "enum", "properties", "required", "additionalProperties", "propertyNames", "maxProperties",
            "minProperties", "items", "maxItems", "minItems", "pattern", "minLength", "maxLength", "minimum", "maximum", "format",
            // exactly one branch must match: Swift enums with associated values
            "oneOf",
            // annotations
            "description", "examples", "title",
        ]

        let document: OpenAPIDocument
        let mode: Mode
        private(set) var errors: [String] = []
        /// Object schemas reached (by location) and the properties they declare.
        private(set) var declared: [String: Set<String>] = [:]
        /// The declared properties that occurred, by schema location.
        private(set) var seen: [String: Set<String>] = [:]
        /// The `oneOf` branches that matched a value, by location (`.../oneOf/2`).
        private(set) var matchedBranches: Set<String> = []

        init(document: OpenAPIDocument, mode: Mode) {
            self.document = document
            self.mode = mode
        }

        static func json(encoding value: any Encodable) throws -> JSONValue {
            try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
        }

        static func validate(encoding value: any Encodable, against schema: JSONValue, in document: OpenAPIDocument, mode: Mode) throws -> [String] {
            var checker = SchemaChecker(document: document, mode: mode)
            checker.check(try json(encoding: value), schema, path: "$", location: "(body)")
            return checker.finish()
        }

        static func validate(json data: Data, against schema: JSONValue, in document: OpenAPIDocument, mode: Mode) throws -> [String] {
            var checker = SchemaChecker(document: document, mode: mode)
            checker.check(try JSONDecoder().decode(JSONValue.self, from: data), schema, path: "$", location: "(body)")
            return checker.finish()
        }

        /// The errors, with the coverage errors of `.fullyPopulated` mode.
        mutating func finish() -> [String] {
            if mode == .fullyPopulated {
                for (location, names) in declared.sorted(by: { $0.key < $1.key }) {
                    for name in names.subtracting(seen[location] ?? []).sorted() {
                        errors.append("\(name) of \(location) never occurs in the fully populated sample: was it removed or renamed in Swift?")
                    }
                }
            }
            return errors
        }

        private mutating func fail(_ path: String, _ message: String) { errors.append("\(path): \(message)") }

        mutating func check(_ value: JSONValue, _ schema: JSONValue, path: String, location: String) {
            guard case .object(let rules) = schema else {
                fail(path, "the schema at \(location) is not an object")
                return
            }
            for keyword in rules.keys.sorted() where !Self.keywords.contains(keyword) {
                fail(path, "the checker does not support keyword \(keyword) (at \(location))")
            }

            if let reference = rules["$ref"] {
                guard let pointer = reference.stringValue, let target = document.resolve(pointer: pointer) else {
                    fail(path, "unresolvable $ref \(reference) at \(location)")
                    return
                }
                check(value, target, path: path, location: pointer)
            }

            if let type = rules["type"] {
                let allowed = type.stringValue.map { [$0] } ?? (type.arrayValue ?? []).compactMap(\.stringValue)
                guard allowed.contains(where: { Self.value(value, hasType: $0) }) else {
                    fail(path, "expected \(allowed.joined(separator: " or ")), got \(value) (\(location))")
                    return
                }
            }

            if case .array(let options)? = rules["enum"], !options.contains(value) {
                fail(path, "\(value) is not one of \(options) (\(location))")
            }

            if let branches = rules["oneOf"] {
                checkOneOf(value, branches, path: path, location: location)
            }

            switch value {
            case .object(let members): checkObject(members, rules, path: path, location: location)
            case .array(let elements): checkArray(elements, rules, path: path, location: location)
            case .string(let text): checkString(text, rules, path: path, location: location)
            case .integer(let number): checkNumber(Double(number), rules, path: path, location: location)
            case .number(let number): checkNumber(number, rules, path: path, location: location)
            case .null, .bool: break
            }
        }

        /// Exactly one branch must accept the value; only that branch's reach counts (its
        /// declared and seen properties), so the sample modes work inside branches as well.
        private mutating func checkOneOf(_ value: JSONValue, _ branches: JSONValue, path: String, location: String) {
            guard case .array(let schemas) = branches, !schemas.isEmpty else {
                fail(path, "oneOf at \(location) is not a non-empty list")
                return
            }
            var matches: [(location: String, checker: SchemaChecker)] = []
            var reasons: [String] = []
            for (index, branch) in schemas.enumerated() {
                let branchLocation = "\(location)/oneOf/\(index)"
                var checker = SchemaChecker(document: document, mode: mode)
                checker.check(value, branch, path: path, location: branchLocation)
                if checker.errors.isEmpty {
                    matches.append((branchLocation, checker))
                } else {
                    reasons.append("branch \(index): \(checker.errors[0])")
                }
            }
            switch matches.count {
            case 1:
                let match = matches[0]
                matchedBranches.insert(match.location)
                matchedBranches.formUnion(match.checker.matchedBranches)
                declared.merge(match.checker.declared) { $0.union($1) }
                seen.merge(match.checker.seen) { $0.union($1) }
            case 0:
                fail(path, "matches none of the \(schemas.count) branches of oneOf at \(location): \(reasons.joined(separator: "; "))")
            default:
                fail(path, "matches \(matches.count) branches of oneOf at \(location) (\(matches.map(\.location).joined(separator: ", "))); exactly one must")
            }
        }

        private static func value(_ value: JSONValue, hasType type: String) -> Bool {
            switch (type, value) {
            case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null): true
            case ("integer", .integer), ("number", .integer), ("number", .number): true
            case ("integer", .number(let number)): number.rounded() == number
            default: false
            }
        }

        private mutating func checkObject(_ members: [String: JSONValue], _ rules: [String: JSONValue], path: String, location: String) {
            let properties = rules["properties"]?.objectValue ?? [:]
            let required = Set((rules["required"]?.arrayValue ?? []).compactMap(\.stringValue))
            for name in required.sorted() where members[name] == nil {
                fail(path, "required property \(name) is missing (\(location))")
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                let memberPath = "\(path).\(name)"
                if let propertySchema = properties[name] {
                    check(member, propertySchema, path: memberPath, location: "\(location)/properties/\(name)")
                } else if let additional = rules["additionalProperties"] {
                    if additional == .bool(false) {
                        fail(path, "property \(name) is not in the document (\(location) allows no other properties)")
                    } else if case .object = additional {
                        check(member, additional, path: memberPath, location: "\(location)/additionalProperties")
                    }
                }
                if let names = rules["propertyNames"] {
                    check(.string(name), names, path: "\(path) key \(name.debugDescription)", location: "\(location)/propertyNames")
                }
            }
            if case .integer(let most)? = rules["maxProperties"], members.count > most {
                fail(path, "\(members.count) properties, more than \(most) (\(location))")
            }
            if case .integer(let least)? = rules["minProperties"], members.count < least {
                fail(path, "\(members.count) properties, fewer than \(least) (\(location))")
            }
            guard !properties.isEmpty else { return }
            declared[location, default: []].formUnion(properties.keys)
            seen[location, default: []].formUnion(members.keys.filter { properties[$0] != nil })
            if mode == .minimal {
                for name in members.keys.sorted() where properties[name] != nil && !required.contains(name) {
                    fail(path, "\(name) is encoded although the sample sets no optional, so it is not optional in Swift; list it in required (\(location))")
                }
            }
        }

        private mutating func checkArray(_ elements: [JSONValue], _ rules: [String: JSONValue], path: String, location: String) {
            if case .integer(let most)? = rules["maxItems"], elements.count > most { fail(path, "\(elements.count) items, more than \(most) (\(location))") }
            if case .integer(let least)? = rules["minItems"], elements.count < least { fail(path, "\(elements.count) items, fewer than \(least) (\(location))") }
            guard let items = rules["items"] else { return }
            for (index, element) in elements.enumerated() {
                check(element, items, path: "\(path)[\(index)]", location: "\(location)/items")
            }
        }

        private mutating func checkString(_ text: String, _ rules: [String: JSONValue], path: String, location: String) {
            let length = text.unicodeScalars.count
            if case .integer(let most)? = rules["maxLength"], length > most { fail(path, "\(length) characters, more than \(most) (\(location))") }
            if case .integer(let least)? = rules["minLength"], length < least { fail(path, "\(length) characters, fewer than \(least) (\(location))") }
            if let pattern = rules["pattern"]?.stringValue {
                do {
                    let regex = try NSRegularExpression(pattern: pattern)
                    if regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                        fail(path, "\(text.debugDescription) does not match \(pattern) (\(location))")
                    }
                } catch {
                    fail(path, "invalid pattern \(pattern) at \(location): \(error)")
                }
            }
        }

        private mutating func checkNumber(_ number: Double, _ rules: [String: JSONValue], path: String, location: String) {
            func bound(_ keyword: String) -> Double? {
                switch rules[keyword] {
                case .integer(let value)?: Double(value)
                case .number(let value)?: value
                default: nil
                }
            }
            if let minimum = bound("minimum"), number < minimum { fail(path, "\(number) is less than \(minimum) (\(location))") }
            if let maximum = bound("maximum"), number > maximum { fail(path, "\(number) is more than \(maximum) (\(location))") }
            switch rules["format"]?.stringValue {
            case "int32"?:
                if number < Double(Int32.min) || number > Double(Int32.max) { fail(path, "\(number) does not fit int32 (\(location))") }
            case "int64"?:
                if number < -9.223372036854775808e18 || number >= 9.223372036854775808e18 { fail(path, "\(number) does not fit int64 (\(location))") }
            default: break
            }
        }
    }
}
