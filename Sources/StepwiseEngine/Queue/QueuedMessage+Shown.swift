import StepwiseProtocol

extension QueuedMessage {
    /// The message as QStash's APIs and its log show it, its delivery unchanged: credentials for
    /// the destination `[redacted]` (`ForwardedHeader.shown`), and what its `redaction` names as
    /// `REDACTED:<sha256>` (hex), so a value can be checked without being revealed. A callback's
    /// or failure callback's body is left out: it carries the headers and body of the message it
    /// follows as they were sent, credentials and redacted fields included.
    public var shown: QueuedMessage {
        var shown = self
        shown.headers = headers.map { header in
            // A credential is never shown, not even as a digest.
            let credential = header.shown
            guard credential == header, redaction?.redacts(header: header.name) == true else { return credential }
            return ForwardedHeader(header.name, MessageRedaction.redacted(Array(header.value.utf8)))
        }
        if redaction?.redacts(header: "Content-Type") == true { shown.contentType = contentType.map { MessageRedaction.redacted(Array($0.utf8)) } }
        shown.callback?.headers = callback?.headers.map(\.shown) ?? []
        shown.failureCallback?.headers = failureCallback?.headers.map(\.shown) ?? []
        if redaction?.body == true { shown.body = body.map { Array(MessageRedaction.redacted($0).utf8) } }
        if role == .callback || role == .failureCallback { shown.body = nil }
        return shown
    }

}
