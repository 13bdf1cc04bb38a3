import Logging

/// A logger that drops everything (the engine and the servers log expected errors in these tests).
public let silentLogger = Logger(label: "stepwise.tests", factory: { _ in SwiftLogNoOpLogHandler() })
