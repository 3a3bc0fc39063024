import CreditsCore
import CreditsStore
import Foundation
import OpenAPIRuntime

/// Tokens and portal users, for admins (hardening L4). A revoked token is refused at once here:
/// this server's token cache is emptied; other servers drop it within `TokenCache.ttl`.
extension DeskAPI {
    func listTokens(_ input: Operations.ListTokens.Input) async throws -> Operations.ListTokens.Output {
        try await respond(Operations.ListTokens.Output.default) {
            try authorize(.administer)
            return .ok(.init(body: .json(try Wire.convert(try await store.tokens()))))
        }
    }

    /// Not an idempotent write: its answer holds the token's secret, which must not be stored.
    func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output {
        try await respond(Operations.CreateToken.Output.default) {
            try authorize(.administer)
            guard case .json(let body) = input.body else { throw Rejection(.invalidInput, "a JSON body is required") }
            let issued = try await store.createToken(
                principal: body.principal, role: try Wire.sameCase(body.role), customers: (body.customers ?? []).map(Customer.ID.init),
                expiresOn: try Self.date(body.expiresOn, field: "expiresOn"))
            return .created(.init(body: .json(try Wire.convert(issued))))
        }
    }

    func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        try await respond(Operations.RevokeToken.Output.default) {
            try authorize(.administer)
            // An admin that revokes the token it is using locks itself out mid-task; another
            // token (or `credits token revoke`) does it deliberately.
            if Caller.tokenID == input.path.tokenId.lowercased() {
                throw Rejection(.ownToken, "this request is made with token \(input.path.tokenId); revoke it with another token or `credits token revoke`")
            }
            let revoked = try await store.revokeToken(id: input.path.tokenId)
            tokens.forgetAll()
            return .ok(.init(body: .json(try Wire.convert(revoked))))
        }
    }

    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        try await respond(Operations.ListUsers.Output.default) {
            try authorize(.administer)
            return .ok(.init(body: .json(try Wire.convert(try await store.users()))))
        }
    }

    func deleteUser(_ input: Operations.DeleteUser.Input) async throws -> Operations.DeleteUser.Output {
        try await respond(Operations.DeleteUser.Output.default) {
            try authorize(.administer)
            try await store.change(user: input.path.userName, .delete)
            return .noContent(.init())
        }
    }

    func disableUser(_ input: Operations.DisableUser.Input) async throws -> Operations.DisableUser.Output {
        try await respond(Operations.DisableUser.Output.default) {
            try authorize(.administer)
            try await store.change(user: input.path.userName, .disable)
            return .noContent(.init())
        }
    }

    func resetPassword(_ input: Operations.ResetPassword.Input) async throws -> Operations.ResetPassword.Output {
        try await respond(Operations.ResetPassword.Output.default) {
            try authorize(.administer)
            guard case .json(let body) = input.body else { throw Rejection(.invalidInput, "a JSON body is required") }
            try await store.change(user: input.path.userName, .resetPassword(body.password))
            return .noContent(.init())
        }
    }
}
