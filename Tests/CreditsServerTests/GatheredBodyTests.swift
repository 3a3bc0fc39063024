@testable import CreditsServer
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

/// What a body writes, part by part, and whether it finished.
final class RecordingWriter: ResponseBodyWriter {
    var parts: [String] = []
    var finished = false

    func write(_ buffer: ByteBuffer) async throws { parts.append(String(buffer: buffer)) }
    func finish(_ trailingHeaders: HTTPFields?) async throws { finished = true }
}

@Suite("answers gathered into one buffer")
struct GatheredBodyTests {
    /// A body the way the OpenAPI transport builds one: a closure writing `parts`, and maybe a length.
    static func streamed(_ parts: [String], length: Int?) -> ResponseBody {
        ResponseBody(contentLength: length) { writer in
            for part in parts { try await writer.write(ByteBuffer(string: part)) }
            try await writer.finish(nil)
        }
    }

    static func written(_ body: ResponseBody) async throws -> RecordingWriter {
        let writer = RecordingWriter()
        try await body.write(writer)
        return writer
    }

    @Test("a body of known length up to the bound is written as one part, byte for byte",
          arguments: [1, GatheredBody.sizeMax])
    func gathersBoundedBodies(length: Int) async throws {
        let parts = [String(repeating: "a", count: length - 1), "z"].filter { !$0.isEmpty }
        let gathered = try await GatheredBody.gathered(Self.streamed(parts, length: length))
        #expect(gathered.contentLength == length)
        let writer = try await Self.written(gathered)
        #expect(writer.parts.map(\.count) == [length])
        let sameBytes = writer.parts.joined() == parts.joined()  // a Bool, so a failure doesn't print a megabyte
        #expect(sameBytes)
        #expect(writer.finished)
    }

    @Test("a body above the bound, of unknown length, or empty still streams as it was")
    func leavesOthersStreaming() async throws {
        let large = [String(repeating: "b", count: GatheredBody.sizeMax), "c"]
        let cases: [([String], Int?)] = [(large, GatheredBody.sizeMax + 1), (["x", "y"], nil), ([], 0)]
        for (parts, length) in cases {
            let body = try await GatheredBody.gathered(Self.streamed(parts, length: length))
            #expect(body.contentLength == length)
            let writer = try await Self.written(body)
            #expect(writer.parts.map(\.count) == parts.map(\.count))
            let sameBytes = writer.parts == parts
            #expect(sameBytes)
            #expect(writer.finished)
        }
    }
}
