import SluiceCore

/// `POST /v1/enroll`: a new agent introduces itself.
public struct EnrollRequest: Sendable, Codable, Equatable {
    public var hostID: HostID
    public var labels: Labels
    /// For mutual TLS: a PEM certificate signing request made with the agent's own key.
    /// The controller signs it (when it holds the CA key) for this host id only.
    public var clientCertificateRequest: String?
    public init(hostID: HostID, labels: Labels, clientCertificateRequest: String? = nil) {
        self.hostID = hostID
        self.labels = labels
        self.clientCertificateRequest = clientCertificateRequest
    }
}

/// The host's own secret, shown once; every later request of the agent carries it.
public struct EnrollResponse: Sendable, Codable, Equatable {
    public var hostID: HostID
    public var token: String
    /// The host's client certificate (PEM), when a request was sent and the controller signs them.
    public var clientCertificate: String?
    public init(hostID: HostID, token: String, clientCertificate: String? = nil) {
        self.hostID = hostID
        self.token = token
        self.clientCertificate = clientCertificate
    }
}

/// `PUT /v1/hosts/{hostID}/inventory/digest`: the agent's inventory is still the one the
/// controller last accepted from it, named by its `InventoryDigest` instead of sent again
/// (60 KB for 500 packages). The answer is a `ReportAccepted`, or a 409 `inventory_differs`
/// when the controller holds another inventory or none (a database restored from a backup):
/// the agent then sends the full report.
public struct InventoryConfirmation: Sendable, Codable, Equatable {
    /// The error code of the 409 answer.
    public static let differsCode = "inventory_differs"

    /// `InventoryDigest.hex(of:)` of the report: 64 lowercase hexadecimal digits.
    public var digest: String
    /// The labels the agent is configured with, as in `InventoryReport.labels`: never applied,
    /// and compared with the host's approved ones as a report's are.
    public var labels: Labels?

    public init(digest: String, labels: Labels? = nil) {
        self.digest = digest
        self.labels = labels
    }

    /// Checks what typed decoding alone cannot: the digest's form.
    public func validate() throws(InvalidInput) {
        guard InventoryDigest.isWellFormed(digest) else {
            throw InvalidInput("digest: expected a SHA-256 as 64 lowercase hexadecimal digits")
        }
    }
}

/// `PUT /v1/hosts/{hostID}/inventory` and `PUT /v1/hosts/{hostID}/inventory/digest` answer.
public struct ReportAccepted: Sendable, Codable, Equatable {
    /// Whether the inventory differed from the last one the controller had.
    public var changed: Bool
    /// When the controller would like the next report.
    public var nextReportSeconds: Int
    /// Set when the agent reported labels other than its host's approved ones: they were not
    /// applied, and wait for an operator (or were rejected).
    public var labelChange: LabelChange?
    public init(changed: Bool, nextReportSeconds: Int, labelChange: LabelChange? = nil) {
        self.changed = changed
        self.nextReportSeconds = nextReportSeconds
        self.labelChange = labelChange
    }
}

public struct HostList: Sendable, Codable, Equatable {
    public var hosts: [HostSummary]
    public init(hosts: [HostSummary]) { self.hosts = hosts }
}

public struct UpdateList: Sendable, Codable, Equatable {
    public var updates: [PendingUpdate]
    public init(updates: [PendingUpdate]) { self.updates = updates }
}

/// `POST /v1/tokens`.
public struct CreateTokenRequest: Sendable, Codable, Equatable {
    public var name: String
    public var role: OperatorRole
    /// Lifetime in seconds; absent for a token that does not expire.
    public var expiresInSeconds: Int?
    public init(name: String, role: OperatorRole, expiresInSeconds: Int? = nil) {
        self.name = name
        self.role = role
        self.expiresInSeconds = expiresInSeconds
    }
}

/// `POST /v1/enrollment-tokens`.
public struct CreateEnrollmentTokenRequest: Sendable, Codable, Equatable {
    public var name: String
    /// How many hosts it may enroll (default 1).
    public var uses: Int?
    /// Lifetime in seconds (default one day).
    public var expiresInSeconds: Int?
    /// Labels a host must carry to enroll with this token.
    public var labels: Labels?
    public init(name: String, uses: Int? = nil, expiresInSeconds: Int? = nil, labels: Labels? = nil) {
        self.name = name
        self.uses = uses
        self.expiresInSeconds = expiresInSeconds
        self.labels = labels
    }
}

/// A newly created token: the only time its secret is shown.
public struct TokenResponse: Sendable, Codable, Equatable {
    public var keyID: String
    public var token: String
    public var name: String
    public var role: OperatorRole?
    public var expiresAtMs: Int64?
    public var usesLeft: Int?
    public init(keyID: String, token: String, name: String, role: OperatorRole?, expiresAtMs: Int64?, usesLeft: Int?) {
        self.keyID = keyID
        self.token = token
        self.name = name
        self.role = role
        self.expiresAtMs = expiresAtMs
        self.usesLeft = usesLeft
    }
}

public struct HealthResponse: Sendable, Codable, Equatable {
    public var status: String
    public var version: String
    public init(status: String, version: String) {
        self.status = status
        self.version = version
    }
}

/// Every error the API returns: `{"error": {"code": "...", "message": "..."}}`.
public struct ErrorResponse: Sendable, Codable, Equatable {
    public struct Body: Sendable, Codable, Equatable {
        /// Stable, for scripts: `unauthenticated`, `host_revoked`, `forbidden`, `not_found`,
        /// `conflict`, `inventory_differs`, `invalid_request`, `payload_too_large`, `internal`.
        public var code: String
        /// One line, for people.
        public var message: String
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }
    public var error: Body
    public init(code: String, message: String) { error = Body(code: code, message: message) }
}

/// `POST /v1/hosts/{hostID}/handover`: the agent handed its host back to unattended-upgrades
/// while the controller could not be reached (`orphan_after`), and took it over again once it
/// could. Times are the host's clock.
public struct HandoverReport: Sendable, Codable, Equatable {
    /// Why it handed back; only `orphaned` is reported (a revoked host can no longer report,
    /// and a removed agent is gone).
    public var reason: String
    public var handedBackAtMs: Int64
    /// What was restored, for people; at most 1000 bytes.
    public var handbackDetail: String
    public var takenOverAtMs: Int64
    /// What the take-over changed, for people; at most 1000 bytes.
    public var takeoverDetail: String

    public static let reasons = ["orphaned"]

    public init(reason: String, handedBackAtMs: Int64, handbackDetail: String, takenOverAtMs: Int64, takeoverDetail: String) {
        self.reason = reason
        self.handedBackAtMs = handedBackAtMs
        self.handbackDetail = handbackDetail
        self.takenOverAtMs = takenOverAtMs
        self.takeoverDetail = takeoverDetail
    }
}

/// The answer to a ``HandoverReport``: the audit log's sequence numbers of its two events.
public struct HandoverRecorded: Sendable, Codable, Equatable {
    public var auditSeqs: [Int64]
    public init(auditSeqs: [Int64]) { self.auditSeqs = auditSeqs }
}

/// Error codes a client acts on, not only shows.
public enum APIErrorCode {
    /// 401 to a revoked host presenting its own secret: the agent hands its host back to
    /// unattended-upgrades (see `UnattendedUpgradesHandover`).
    public static let hostRevoked = "host_revoked"
}

/// The version every program of this build reports.
public enum SluiceVersion {
    public static let current = "0.1.0"
}
