import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseTesting
import Synchronization
import Testing

/// `maximumConcurrentDeliveries` bounds the steps in flight, however the deliveries end: a
/// delivery that ends its run gives its slot to the next one before its commit.
@Suite("Delivery slots")
struct DeliverySlotTests {
    @Test("no more http steps are in flight than there are slots, whether a step ends its run or not; every run finishes")
    func stepsInFlightStayWithinTheSlots() async throws {
        try await CountingServer.with { target in
            // Requests are held until the test opens the gate, so the slots fill however slowly the
            // machine runs; their timeout is long, so that no request is given up and sent again meanwhile.
            let load = Mutex((current: 0, highest: 0, open: false))
            target.handle("/work") { _ in
                load.withLock { $0.current += 1; $0.highest = max($0.highest, $0.current) }
                while !load.withLock({ $0.open }), !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
                load.withLock { $0.current -= 1 }
                return .json(#"{"ok": true}"#)
            }
            let single = try definition("""
                workflow: single
                steps:
                  - id: only
                    http: {url: "\(target.url("/work"))", timeout: 5m}
                """)
            let double = try definition("""
                workflow: double
                steps:
                  - id: first
                    http: {url: "\(target.url("/work"))", timeout: 5m}
                  - id: second
                    http: {url: "\(target.url("/work"))", timeout: 5m}
                """)
            try await RunningServer.with([single, double], configuration: .init(maximumConcurrentDeliveries: 3)) { server in
                var ids: [String] = []
                for index in 0..<16 { ids.append(try await server.startRun(index.isMultiple(of: 2) ? "single" : "double", "{}")) }
                _ = try await eventually("three steps in flight") { load.withLock { $0.current == 3 ? true : nil } }
                try await Task.sleep(for: .milliseconds(300))
                #expect(load.withLock { $0.current } == 3, "no fourth step starts while three are in flight")
                load.withLock { $0.open = true }
                for id in ids { #expect(try await finishedRun(id, in: server.store).status == .succeeded) }
            }
            #expect(target.requests(to: "/work").count == 24)
            let highest = load.withLock { $0.highest }
            #expect(highest == 3, "\(highest) steps were in flight at once with 3 slots")
        }
    }
}
