import Foundation

/// A throwaway desk for tests and benchmarks: a SQLite file in a fresh temporary folder, or, when
/// `CREDITS_TEST_DATABASE` holds a `postgres://` URL, a fresh schema on that server. `discard()`
/// closes it and removes the folder or the schema.
public struct ScratchDesk: Sendable {
    public let database: DeskDatabase
    let folder: URL
    let postgresSchema: String?
    let postgresURL: String?

    /// The PostgreSQL server the tests use, if any.
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["CREDITS_TEST_DATABASE"].flatMap { DeskDatabase.isPostgres($0) ? $0 : nil }
    }

    public static func make(postgresURL: String? = ScratchDesk.postgresURL) async throws -> ScratchDesk {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("credits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if let postgresURL {
            var settings = PostgresSettings()
            settings.schema = "scratch_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            settings.poolSizeMax = 8
            let database = try await DeskDatabase.open(path: postgresURL, postgres: settings)
            return ScratchDesk(database: database, folder: folder, postgresSchema: settings.schema, postgresURL: postgresURL)
        }
        let database = try await DeskDatabase.open(path: folder.appendingPathComponent("desk.sqlite").path)
        return ScratchDesk(database: database, folder: folder, postgresSchema: nil, postgresURL: nil)
    }

    public func discard() async {
        await database.close()
        if let postgresURL, let postgresSchema,
            let admin = try? await DeskDatabase.open(path: postgresURL)
        {
            _ = try? await admin.write { sql in try await sql.raw("DROP SCHEMA IF EXISTS \(ident: postgresSchema) CASCADE").run() }
            await admin.close()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Opens the same desk again (as a restarted process would).
    public func reopen() async throws -> DeskDatabase {
        guard let postgresURL else { return try await DeskDatabase.open(path: database.path) }
        var settings = PostgresSettings()
        settings.schema = postgresSchema
        return try await DeskDatabase.open(path: postgresURL, postgres: settings)
    }
}
