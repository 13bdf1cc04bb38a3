import Hummingbird

/// An error response carried through a `Result` (request parsing that already knows the answer).
struct ErrorAnswer: Error {
    let response: Response

    init(_ response: Response) {
        self.response = response
    }
}
