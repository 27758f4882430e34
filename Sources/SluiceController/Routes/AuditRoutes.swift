import Hummingbird
import SluiceAPI
import SluiceCore
import SluiceStore

/// The audit log, read-only: queries, chain verification, and a rollout's history for
/// postmortems. Mount with `AuditRoutes(database:).register(on: api)` beside the others.
struct AuditRoutes {
    let database: SluiceDatabase

    func register(on api: APIRouter) {
        api.add(.queryAudit) { request, _, _ in
            var parameters: [String: String] = [:]
            for (name, value) in request.uri.queryParameters {
                let key = String(name)
                guard parameters[key] == nil else { throw APIError.invalid("query: \(key) given twice") }
                parameters[key] = String(value)
            }
            let query = try AuditQuery(parameters: parameters)
            return JSONResponse(try database.auditPage(query))
        }

        api.add(.verifyAudit) { request, _, _ in
            // The head the controller witnessed beside its database file, and one the caller
            // recorded elsewhere (`head=SEQ:HASH`).
            var heads: [AuditHead] = []
            if !database.isInMemory, let witnessed = try SluiceDatabase.witnessedHead(databasePath: database.path) { heads.append(witnessed) }
            let given = request.uri.queryParameters.getAll("head")
            guard given.count <= 1 else { throw APIError.invalid("query: head given twice") }
            for text in given {
                do throws(InvalidInput) { heads.append(try AuditHead(parsing: String(text))) } catch { throw APIError.invalid("head: \(error.message)") }
            }
            return JSONResponse(try database.verifyAudit(heads: heads))
        }

        api.add(.rolloutHistory) { _, context, _ in
            JSONResponse(try database.rolloutHistory(try context.pathID("rolloutID", naming: "rollout id")))
        }
    }
}
