/// One schema migration as shipped inside the binary (see `Plugins/EmbedMigrations`).
public struct EmbeddedMigration: Sendable, Equatable {
    public let number: Int
    public let name: String
    public let sql: String

    /// The `NNNN_name` that identifies this migration in messages.
    public var identifier: String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name
    }
}

extension EmbeddedMigration {
    /// Every migration this binary carries, in order.
    public static var shipped: [EmbeddedMigration] { EmbeddedMigrations.all }
}
