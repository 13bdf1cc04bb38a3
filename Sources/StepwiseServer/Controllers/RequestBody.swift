import Foundation
import Hummingbird
import NIOCore
import StepwiseExpressions
import StepwiseProtocol

/// Reading request bodies the same way on every route: bounded, refused as a whole when too large
/// (announced or sent), and for JSON routes never accepted in the media types a browser may send
/// to another site without asking first.
enum RequestBody {
    /// The largest request body accepted.
    static let maximumBytes = 1 << 20

    /// The body's exact bytes, or the error answer: 413 when it is larger than `maximum`,
    /// 400 when it cannot be read (a malformed chunked body).
    static func bytes(_ request: Request, upTo maximum: Int = maximumBytes) async -> Result<[UInt8], ErrorAnswer> {
        if let announced = request.headers[.contentLength].flatMap({ Int($0) }), announced > maximum {
            return .failure(tooLarge(maximum))
        }
        var request = request
        do {
            return .success(Array(buffer: try await request.collectBody(upTo: maximum)))
        } catch is NIOTooManyBytesError {
            return .failure(tooLarge(maximum))
        } catch {
            return .failure(ErrorAnswer(JSONResponse.error(.badRequest, "the request body could not be read: it is not valid HTTP/1.1 framing")))
        }
    }

    /// The list of strings that JSON object `body` holds in `member` (`{"messageIds": [...]}`);
    /// `nil` when it has none or an item is not a string.
    static func strings(in body: Value, member: String) -> [String]? {
        guard case .list(let items)? = body[member] else { return nil }
        var strings: [String] = []
        for item in items {
            guard case .string(let string) = item else { return nil }
            strings.append(string)
        }
        return strings
    }

    /// Media types a browser may send to another site without a CORS preflight; a route that
    /// expects JSON refuses them, so a web page cannot post a form to it.
    static let browserFormTypes: Set<String> = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]

    /// The body as JSON: `null` when empty; an error answer when invalid, too large, or sent as a
    /// browser form type.
    static func json(_ request: Request) async -> Result<Value, ErrorAnswer> {
        if let type = request.headers[.contentType], let media = type.split(separator: ";").first,
            browserFormTypes.contains(media.trimmingCharacters(in: .whitespaces).lowercased())
        {
            return .failure(ErrorAnswer(JSONResponse.error(.unsupportedMediaType, "send the body as application/json, not \(media)")))
        }
        let bytes: [UInt8]
        switch await self.bytes(request) {
        case .success(let body): bytes = body
        case .failure(let answer): return .failure(answer)
        }
        // Decoding with replacement would store U+FFFD for the bytes a client sent.
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let offset = firstInvalidUTF8Byte(in: bytes)
            return .failure(ErrorAnswer(JSONResponse.error(.badRequest, "the request body is not valid JSON: it is not UTF-8 (byte \(offset))")))
        }
        if text.allSatisfy(\.isWhitespace) { return .success(.null) }
        do {
            return .success(try Value(valueJSON: text))
        } catch {
            return .failure(ErrorAnswer(JSONResponse.error(.badRequest, "the request body is not valid JSON: \(error.message) at byte \(error.offset)")))
        }
    }

    /// The offset of the first byte of `bytes` that does not start or continue a UTF-8 sequence.
    private static func firstInvalidUTF8Byte(in bytes: [UInt8]) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while case .valid(let scalar) = parser.parseScalar(from: &iterator) { offset += scalar.count }
        return offset
    }

    /// What `parse` reads from the JSON body (`json`) and the rest of the request; an error it
    /// throws is a 400 naming what is wrong.
    static func json<T>(_ request: Request, parsedBy parse: (Value) throws(ProtocolError) -> T) async -> Result<T, ErrorAnswer> {
        switch await json(request) {
        case .failure(let answer): return .failure(answer)
        case .success(let body):
            do throws(ProtocolError) {
                return .success(try parse(body))
            } catch {
                return .failure(ErrorAnswer(.badRequest, error.message))
            }
        }
    }

    private static func tooLarge(_ maximum: Int) -> ErrorAnswer {
        ErrorAnswer(JSONResponse.error(.contentTooLarge, "the request body is larger than \(maximum) bytes"))
    }
}
