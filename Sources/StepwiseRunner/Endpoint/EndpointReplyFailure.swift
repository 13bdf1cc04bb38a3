/// An answer that ends the handling of a request early (a delivery for an unknown version, a
/// missing run id), thrown by the checks every delivery goes through.
struct EndpointReplyFailure: Error {
    let reply: EndpointReply

    init(_ reply: EndpointReply) {
        self.reply = reply
    }
}
