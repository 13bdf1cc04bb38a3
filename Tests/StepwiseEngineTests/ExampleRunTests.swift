import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime
import Testing
import StepwiseTesting

/// Every example of `workflows/` run to completion through the real engine (SQLite file, delivery
/// loop, runner) with its HTTP going over loopback to a counting server that plays the services
/// the example talks to. Sleeps of days and wait timeouts pass by moving the shared clock forward
/// once the step is parked; events arrive through `WorkflowEngine.notify`, as `stepwise notify`
/// sends them.
@Suite("Examples run end to end", .timeLimit(.minutes(3)))
struct ExampleRunTests {
    /// The services' paths as the counting server sees them (`/<host><path>`).
    enum Path {
        static let reservations = "/inventory.example.com/v1/reservations"
        static let reservation = "/inventory.example.com/v1/reservations/res_51"
        static let charges = "/payments.example.com/v1/charges"
        static let refunds = "/payments.example.com/v1/refunds"
        static let shipments = "/shipping.example.com/v1/shipments"
        static let mail = "/mail.example.com/v1/send"
        static let chat = "/chat.example.com/api/messages"
        static let payInvoice = "/billing.example.com/v1/invoices/in_889/pay"
        static let suspend = "/billing.example.com/v1/customers/cus_12/suspend"
        static let crmContact = "/crm.example.com/api/contacts/u_123"
        static let alerts = "/hooks.example.com/alerts"
        static let render = "/images.example.com/v1/render"
        static let catalogImage = "/catalog.example.com/api/images/img_42"
        static let orderMetrics = "/analytics.example.com/v2/metrics/orders"
        static let signupMetrics = "/analytics.example.com/v2/metrics/signups"
        static let incidents = "/status.example.com/api/incidents"
        static let renderReport = "/reports.example.com/v1/render"
        static let document = "/files.example.org/contracts/doc_77.txt"
        static let llm = "/llm.example.com/v1/chat/completions"
        static let analysis = "/docs.example.com/api/documents/doc_77/analysis"
    }

    // MARK: greeting

    @Test("greeting: the durable sleep passes and the message is in the chosen language, without any request", arguments: ExampleMode.allCases)
    func greeting(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["greeting"], mode: mode) { examples in
            let id = try await examples.start("greeting", #"{"name": "Ada", "language": "de"}"#)
            try await examples.pass("pause", of: id, after: .seconds(3))
            #expect(try await examples.output(of: id) == ["text": "Hallo, Ada!", "letters": 3])
            #expect(try await examples.journal(of: id).map(\.stepName) == ["init", "pause"])
            #expect(examples.target.requests().isEmpty, "the quick-start workflow needs no network")
        }
    }

    // MARK: order-fulfillment

    static let order = """
        {"order_id": "o_1001", "customer": {"id": "c_7", "email": "ada@example.org"},
         "items": [{"sku": "MUG-01", "qty": 2}, {"sku": "TEA-07", "qty": 1}], "currency": "EUR", "payment_method_id": "pm_123",
         "shipping_address": {"name": "Ada", "street": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}}
        """
    static let address: Value = ["name": "Ada", "street": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"]
    static let fulfilled: Value = [
        "order_id": "o_1001", "charge_id": "ch_3Kx", "amount": 3297, "currency": "EUR", "tracking_number": "00340434161234567890",
        "invoice_number": "INV-1001",
    ]

    /// Scripts the shop's services: the inventory prices the order at 32.97 (in cents), the mail
    /// is queued, and by default the charge and the shipment succeed.
    static func openShop(
        _ target: CountingServer, charge: ScriptedResponse = .json(#"{"id": "ch_3Kx", "status": "succeeded", "amount": 3297}"#, status: 201),
        shipment: ScriptedResponse = .json(#"{"id": "shp_9", "tracking_number": "00340434161234567890", "carrier": "DHL"}"#, status: 201)
    ) {
        target.fallback(Path.reservations, .json(#"{"id": "res_51", "status": "held", "total_amount": 3297}"#, status: 201))
        target.fallback(Path.charges, charge)
        target.fallback(Path.shipments, shipment)
        target.fallback(Path.mail, .json(#"{"id": "msg_1", "status": "queued"}"#, status: 202))
    }

    @Test("order-fulfillment: stock reserved, customer charged, parcel shipped and invoice mailed in parallel, waiters told", arguments: ExampleMode.allCases)
    func orderFulfillment(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["order-fulfillment"], mode: mode) { examples in
            Self.openShop(examples.target)
            let id = try await examples.start("order-fulfillment", Self.order)
            #expect(try await examples.output(of: id) == Self.fulfilled)

            let items: Value = [["sku": "MUG-01", "qty": 2], ["sku": "TEA-07", "qty": 1]]
            #expect(try examples.bodies(Path.reservations) == [["order_id": "o_1001", "items": items, "currency": "EUR", "hold_for": "2h"]])
            let charge = try #require(examples.requests(to: Path.charges).first)
            #expect(examples.requests(to: Path.charges).count == 1)
            #expect(charge.header("Authorization") == "Bearer test-payments_api_key")
            #expect(charge.header("Idempotency-Key") == "\(id)/charge")
            let charged: Value = [
                "amount": 3297, "currency": "EUR", "payment_method": "pm_123", "description": "Order o_1001",
                "metadata": ["order_id": "o_1001", "reservation": "res_51"],
            ]
            #expect(try Value(json: charge.body) == charged)
            let shipment: Value = ["reference": "o_1001", "reservation": "res_51", "address": Self.address, "service": "standard"]
            #expect(try examples.bodies(Path.shipments) == [shipment])
            let invoice: Value = [
                "to": "ada@example.org", "template": "invoice",
                "variables": ["number": "INV-1001", "lines": ["2 x MUG-01", "1 x TEA-07"], "total": "32.97 EUR"],
            ]
            #expect(try examples.bodies(Path.mail) == [invoice])
            #expect(examples.requests(to: Path.refunds).isEmpty)
            #expect(!examples.target.requests().contains { $0.method == "DELETE" }, "nothing is compensated")
            #expect(try await examples.result(of: "announce", in: id) == ["waiters": []])
        }
    }

    @Test("order-fulfillment: a declined charge is not retried; catch releases the reservation and fails the order", arguments: ExampleMode.allCases)
    func orderPaymentDeclined(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["order-fulfillment"], mode: mode) { examples in
            let declined = #"{"error": {"code": "card_declined", "message": "Your card was declined."}}"#
            Self.openShop(examples.target, charge: .json(declined, status: 402))
            let id = try await examples.start("order-fulfillment", Self.order)
            let error = try await examples.error(of: id)
            #expect(error.type == "PaymentFailed")
            #expect(error.message == "Payment for order o_1001 failed: HTTP 402: \(declined)")
            #expect(examples.requests(to: Path.charges).count == 1, "402 is not among the statuses retried")
            let release = try #require(examples.requests(to: Path.reservation).first)
            #expect(release.method == "DELETE")
            #expect(release.header("Authorization") == "Bearer test-inventory_api_key")
            #expect(examples.requests(to: Path.shipments).isEmpty)
            #expect(examples.requests(to: Path.mail).isEmpty)
            #expect(try await examples.store.allDeadLetters().map(\.runId) == [id])
        }
    }

    @Test("order-fulfillment: an undeliverable address refunds the charge, releases the stock and fails the order", arguments: ExampleMode.allCases)
    func orderShippingFailed(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["order-fulfillment"], mode: mode) { examples in
            let undeliverable = #"{"error": "address not deliverable"}"#
            Self.openShop(examples.target, shipment: .json(undeliverable, status: 422))
            examples.target.fallback(Path.refunds, .json(#"{"id": "re_4", "status": "succeeded"}"#, status: 201))
            let id = try await examples.start("order-fulfillment", Self.order)
            let error = try await examples.error(of: id)
            #expect(error.type == "ShippingFailed")
            #expect(error.message == "Order o_1001 was refunded, shipping failed: HTTP 422: \(undeliverable)")
            #expect(examples.requests(to: Path.shipments).count == 1, "422 is not among the statuses retried by default")
            #expect(try examples.bodies(Path.refunds) == [["charge": "ch_3Kx", "reason": "shipment_failed"]])
            let compensations = examples.target.requests().filter { $0.path == Path.refunds || $0.path == Path.reservation }
            #expect(compensations.map(\.method) == ["POST", "DELETE"], "the refund comes before the release")
        }
    }

    // MARK: payment-retry

    static let invoice = #"{"invoice_id": "in_889", "customer_id": "cus_12", "email": "ada@example.org", "amount": 19.9, "currency": "EUR"}"#

    @Test("payment-retry: a decline mails the customer; three days later a 503 is retried with the same key and the charge pays", arguments: ExampleMode.allCases)
    func paymentRetry(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["payment-retry"], mode: mode) { examples in
            examples.target.script(
                Path.payInvoice, .json(#"{"error": {"code": "card_declined", "message": "Insufficient funds"}}"#, status: 402),
                .status(503), .json(#"{"id": "py_2", "status": "paid", "receipt_url": "https://billing.example.com/receipts/rc_889"}"#))
            examples.target.fallback(Path.mail, .status(202))
            let id = try await examples.start("payment-retry", Self.invoice)
            try await examples.parked(id, "wait_before_second")
            #expect(examples.requests(to: Path.payInvoice).count == 1)
            let failed: Value = [
                "to": "ada@example.org", "template": "payment-failed",
                "variables": [
                    "amount": "19.90 EUR", "reason": "Insufficient funds", "update_url": "https://billing.example.com/update-card?invoice=in_889",
                ],
            ]
            #expect(try examples.bodies(Path.mail) == [failed])

            examples.advance(by: .days(3))
            try await examples.pass("attempt_2", of: id, after: .seconds(180))
            #expect(try await examples.output(of: id) == ["paid": true, "attempts": 2, "receipt": "https://billing.example.com/receipts/rc_889"])
            let attempts = examples.requests(to: Path.payInvoice)
            #expect(attempts.map { $0.header("Idempotency-Key") } == ["\(id)/attempt_1", "\(id)/attempt_2", "\(id)/attempt_2"])
            #expect(attempts.allSatisfy { $0.header("Api-Version") == "2025-01-15" })
            #expect(attempts.allSatisfy { $0.header("Authorization") == "Bearer test-billing_api_key" })
            #expect(try examples.bodies(Path.payInvoice) == Array(repeating: ["amount": 1990, "currency": "EUR"], count: 3))
            #expect(examples.requests(to: Path.mail).count == 1, "no final warning once paid")
        }
    }

    @Test("payment-retry: declined on day 0, 3 and 8 warns twice, suspends the subscription and fails", arguments: ExampleMode.allCases)
    func paymentDeclinedThreeTimes(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["payment-retry"], mode: mode) { examples in
            examples.target.fallback(Path.payInvoice, .json(#"{"error": {"message": "Card expired"}}"#, status: 402))
            examples.target.fallback(Path.mail, .status(202))
            let id = try await examples.start("payment-retry", Self.invoice)
            try await examples.pass("wait_before_second", of: id, after: .days(3))
            try await examples.pass("wait_before_final", of: id, after: .days(5))
            let error = try await examples.error(of: id)
            #expect(error.type == "PaymentDeclined")
            #expect(
                error.message == "Invoice in_889 (19.90 EUR) is still unpaid after 3 attempts; last decline: Card expired. "
                    + "The subscription of cus_12 is suspended.")
            #expect(examples.requests(to: Path.payInvoice).count == 3)
            let mails = try examples.bodies(Path.mail)
            #expect(mails.map { $0["template"] } == ["payment-failed", "payment-final-notice"])
            #expect(mails.last?["variables"] == ["amount": "19.90 EUR", "final_attempt_in": "5d"])
            #expect(try examples.bodies(Path.suspend) == [["reason": "unpaid_invoice", "invoice": "in_889"]])
        }
    }

    // MARK: webhook-handler

    @Test("webhook-handler: a paid order is normalized, fulfilled by an invoked order-fulfillment run, and answered with its output", arguments: ExampleMode.allCases)
    func webhookPaidOrder(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["webhook-handler", "order-fulfillment"], mode: mode) { examples in
            Self.openShop(examples.target)
            let id = try await examples.start(
                "webhook-handler",
                """
                {"id": "evt_901", "type": "order.paid", "created_at": "2026-05-04T10:00:00Z",
                 "data": {"order": {"id": "o_1001", "customer": {"id": "c_7", "email": "ada@example.org"},
                          "lines": [{"sku": "MUG-01", "quantity": 2}, {"sku": "GIFT-WRAP", "quantity": 0}], "currency": "EUR",
                          "payment": {"method_id": "pm_123"},
                          "shipping": {"name": "Ada", "street": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}}}}
                """)
            #expect(try await examples.output(of: id) == Self.fulfilled, "the webhook answers with what order-fulfillment returned")

            let children = try await examples.runs(of: "order-fulfillment")
            let child = try #require(children.first)
            #expect(children.count == 1)
            #expect(child.parent?.runId == id)
            #expect(child.status == .succeeded)
            let normalized: Value = [
                "order_id": "o_1001", "customer": ["id": "c_7", "email": "ada@example.org"], "items": [["sku": "MUG-01", "qty": 2]],
                "currency": "EUR", "payment_method_id": "pm_123", "shipping_address": Self.address,
            ]
            #expect(child.input == normalized)
            let invoked = try await examples.result(of: "route.fulfill", in: id)
            #expect(invoked?["status"] == "succeeded")
            #expect(invoked?["output"] == Self.fulfilled)
            #expect(invoked?["run_id"] == .string(child.id))
            #expect(examples.requests(to: Path.charges).count == 1)
        }
    }

    @Test("webhook-handler: a cancellation is forwarded, other types are acknowledged, an invalid paid order fails", arguments: ExampleMode.allCases)
    func webhookOtherEvents(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["webhook-handler", "order-fulfillment"], mode: mode) { examples in
            let cancelled = try await examples.start(
                "webhook-handler", #"{"id": "evt_902", "type": "order.cancelled", "data": {"order": {"id": "o_1002", "reason": "duplicate"}}}"#)
            let ignored = try await examples.start("webhook-handler", #"{"id": "evt_903", "type": "customer.updated", "data": {"order": {"id": "o_1003"}}}"#)
            let invalid = try await examples.start(
                "webhook-handler",
                #"{"id": "evt_904", "type": "order.paid", "data": {"order": {"id": "o_1004", "currency": "JPY", "lines": [{"sku": "MUG-01", "quantity": 0}]}}}"#)

            let forwarded: Value = ["event": "evt_902", "type": "order.cancelled", "result": ["handled": true, "waiters": []]]
            #expect(try await examples.output(of: cancelled) == forwarded)
            #expect(
                try await examples.output(of: ignored) == [
                    "event": "evt_903", "type": "customer.updated",
                    "result": ["handled": false, "reason": "event type customer.updated is not handled"],
                ])
            let rejected = try await examples.error(of: invalid)
            #expect(rejected.type == "InvalidPayload")
            #expect(
                rejected.message == "Webhook evt_904: order o_1004 is invalid: customer email missing, payment method missing, "
                    + "shipping address missing, unsupported currency, no line with a positive quantity")
            #expect(try await examples.runs(of: "order-fulfillment").isEmpty)
            #expect(examples.target.requests().isEmpty)
        }
    }

    // MARK: approval

    static func approvalRequest(_ id: String) -> String {
        """
        {"request_id": "\(id)", "title": "New laptop", "amount": 1899, "currency": "EUR",
         "requester_email": "ada@example.org", "approver_email": "bob@example.org"}
        """
    }

    @Test("approval: the approver is asked with decision links, the decision event approves, the requester is told", arguments: ExampleMode.allCases)
    func approvalApproved(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["approval"], mode: mode) { examples in
            let id = try await examples.start("approval", Self.approvalRequest("pr_311"))
            try await examples.parked(id, "decision")
            let ask = try #require(examples.requests(to: Path.chat).first)
            #expect(ask.header("Authorization") == "Bearer test-chat_bot_token")
            let question: Value = [
                "to": "bob@example.org", "text": "ada@example.org asks for approval: *New laptop* (1899.00 EUR)", "details": "",
                "actions": [
                    ["label": "Approve", "url": "https://approvals.example.org/decide?event=approval-pr_311&approved=true"],
                    ["label": "Reject", "url": "https://approvals.example.org/decide?event=approval-pr_311&approved=false"],
                ],
            ]
            #expect(try Value(json: ask.body) == question)

            let notified = try await examples.engine.notify(event: "approval-pr_311", data: ["approved": true, "approver": "bob@example.org"])
            #expect(notified.runIds == [id])
            #expect(try await examples.output(of: id) == ["request_id": "pr_311", "status": "approved", "decided_by": "bob@example.org"])
            let told: Value = [
                "to": "ada@example.org", "subject": #"Your request "New laptop" was approved"#, "text": "Approved by bob@example.org.",
            ]
            #expect(try examples.bodies(Path.mail) == [told])
            #expect(examples.requests(to: Path.mail).first?.header("Authorization") == "Bearer test-mail_api_key")
            #expect(examples.requests(to: Path.chat).count == 1, "the approver is not told again")
        }
    }

    @Test("approval: a rejection, two silent days (expired, approver told) and a withdrawal (canceled, nobody told)", arguments: ExampleMode.allCases)
    func approvalOtherOutcomes(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["approval"], mode: mode) { examples in
            let rejected = try await examples.start("approval", Self.approvalRequest("pr_312"))
            try await examples.parked(rejected, "decision")
            _ = try await examples.engine.notify(event: "approval-pr_312", data: ["approved": false, "reason": "over budget"])
            #expect(try await examples.output(of: rejected) == ["request_id": "pr_312", "status": "rejected", "decided_by": .null])

            let expired = try await examples.start("approval", Self.approvalRequest("pr_313"))
            try await examples.pass("decision", of: expired, after: .days(2) + .seconds(60))
            #expect(try await examples.output(of: expired) == ["request_id": "pr_313", "status": "expired", "decided_by": .null])
            #expect(try await examples.result(of: "decision", in: expired) == ["received": false, "timed_out": true, "data": .null])

            let withdrawn = try await examples.start("approval", Self.approvalRequest("pr_314"))
            try await examples.parked(withdrawn, "decision")
            _ = try await examples.engine.notify(event: "approval-pr_314", data: ["withdrawn": true])
            let canceled = try await examples.error(of: withdrawn, status: .canceled)
            #expect(canceled.message == "Request pr_314 was withdrawn by ada@example.org")

            let mails = try examples.bodies(Path.mail)
            #expect(mails.map { $0["subject"] } == [#"Your request "New laptop" was rejected"#, #"Your request "New laptop" was expired"#])
            #expect(mails.map { $0["text"] } == ["Rejected: over budget", "No decision within two days; the request was closed automatically."])
            let chat = try examples.bodies(Path.chat)
            try #require(chat.count == 4, "three requests and one expiry notice")
            #expect(chat[2] == ["to": "bob@example.org", "text": "Request New laptop from ada@example.org expired without a decision."])
        }
    }

    // MARK: customer-onboarding

    static let signup = #"{"user_id": "u_123", "email": "ada@example.org", "name": "Ada", "plan": "team"}"#

    @Test("customer-onboarding: welcome mail, three days off, the activation event brings plan tips and the CRM says activated", arguments: ExampleMode.allCases)
    func onboardingActivated(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["customer-onboarding"], mode: mode) { examples in
            examples.target.fallback(Path.mail, .status(202))
            let id = try await examples.start("customer-onboarding", Self.signup)
            try await examples.parked(id, "cool_off")
            let welcome: Value = [
                "from": "welcome@example.com", "to": "ada@example.org", "template": "welcome",
                "variables": ["name": "Ada", "docs_url": "https://docs.example.com/getting-started"],
            ]
            #expect(try examples.bodies(Path.mail) == [welcome])

            examples.advance(by: .days(3))
            try await examples.parked(id, "activation")
            let activation: Value = ["completed": ["profile", "first_project"]]
            #expect(try await examples.engine.notify(event: "user-activated-u_123", data: activation).runIds == [id])
            #expect(try await examples.output(of: id) == ["user_id": "u_123", "activated": true, "activation": activation])
            let tips: Value = [
                "from": "welcome@example.com", "to": "ada@example.org", "subject": "Ada, three tips for your team plan", "template": "tips-team",
            ]
            #expect(try Array(examples.bodies(Path.mail).dropFirst()) == [tips])
            let crm = try #require(examples.requests(to: Path.crmContact).first)
            #expect(crm.method == "PATCH")
            #expect(crm.header("X-Api-Key") == "test-crm_api_key")
            #expect(try Value(json: crm.body) == ["onboarding_status": "activated", "follow_up_mail_status": 202])
            #expect(examples.requests(to: Path.alerts).isEmpty)
        }
    }

    @Test("customer-onboarding: a user who never activates gets the nudge after the week and the CRM says inactive", arguments: ExampleMode.allCases)
    func onboardingInactive(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["customer-onboarding"], mode: mode) { examples in
            examples.target.fallback(Path.mail, .status(202))
            let id = try await examples.start("customer-onboarding", Self.signup)
            try await examples.pass("cool_off", of: id, after: .days(3))
            try await examples.pass("activation", of: id, after: .days(7) + .seconds(60))
            #expect(try await examples.output(of: id) == ["user_id": "u_123", "activated": false, "activation": .null])
            let nudge: Value = [
                "from": "welcome@example.com", "to": "ada@example.org", "subject": "We miss you, Ada", "template": "nudge",
                "variables": ["docs_url": "https://docs.example.com/getting-started"],
            ]
            #expect(try examples.bodies(Path.mail).map { $0["template"] } == ["welcome", "nudge"])
            #expect(try examples.bodies(Path.mail).last == nudge)
            #expect(try examples.bodies(Path.crmContact) == [["onboarding_status": "inactive", "follow_up_mail_status": 202]])
        }
    }

    @Test("customer-onboarding: a rejected welcome mail fails the run and on_failure alerts the on-call channel once", arguments: ExampleMode.allCases)
    func onboardingFailureAlert(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["customer-onboarding"], mode: mode) { examples in
            let rejected = #"{"error": "mailbox does not exist"}"#
            examples.target.fallback(Path.mail, .json(rejected, status: 422))
            let id = try await examples.start("customer-onboarding", Self.signup)
            let error = try await examples.error(of: id)
            #expect(error.step == "welcome")
            #expect(error.type == "HTTPError")
            let alert: Value = [
                "text": .string("Onboarding of u_123 failed in welcome: HTTP 422: \(rejected)"), "run": .string(id), "workflow": "customer-onboarding",
            ]
            // Split, on_failure runs from the failure callback, just after the run failed.
            let alerts = try await eventually("the on-call alert") { () throws -> [Value]? in
                let bodies = try examples.bodies(Path.alerts)
                return bodies.isEmpty ? nil : bodies
            }
            #expect(alerts == [alert])
            #expect(examples.requests(to: Path.mail).count == 1)
            #expect(examples.requests(to: Path.crmContact).isEmpty)
        }
    }

    // MARK: image-processing

    /// The renderer's answer: a scratch URL and a size that depend on the width and the format.
    static func rendition(_ request: OutgoingRequest) -> ScriptedResponse {
        guard case .int(let width)? = request.json["width"], case .string(let format)? = request.json["format"] else { return .status(400) }
        let answer: Value = [
            "url": .string("https://scratch.images.example.com/renders/img_42-\(width).\(format)"),
            "bytes": .int(width * (format == "webp" ? 60 : 45)), "format": .string(format),
        ]
        return .json(answer.jsonText())
    }

    @Test("image-processing: the source is probed, every size rendered as WebP and AVIF by engine calls, uploaded and registered", arguments: ExampleMode.allCases)
    func imageProcessing(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["image-processing"], mode: mode, answers: [Path.render: Self.rendition]) { examples in
            examples.target.script("/uploads.example.com/raw/img_42.jpg", ScriptedResponse(body: "", contentType: "image/jpeg"))
            let id = try await examples.start(
                "image-processing",
                #"{"image_id": "img_42", "source_url": "https://uploads.example.com/raw/img_42.jpg", "sizes": [{"name": "thumb", "width": 160}, {"name": "card", "width": 640}]}"#)
            let output = try await examples.output(of: id)
            let renditions: Value = [
                [
                    "name": "thumb", "width": 160, "webp": "https://cdn.example.com/products/img_42/thumb.webp",
                    "avif": "https://cdn.example.com/products/img_42/thumb.avif", "saved_bytes": 2_400,
                ],
                [
                    "name": "card", "width": 640, "webp": "https://cdn.example.com/products/img_42/card.webp",
                    "avif": "https://cdn.example.com/products/img_42/card.avif", "saved_bytes": 9_600,
                ],
            ]
            #expect(output == ["image_id": "img_42", "renditions": renditions])

            #expect(examples.requests(to: "/uploads.example.com/raw/img_42.jpg").map(\.method) == ["HEAD"])
            let renders = try examples.bodies(Path.render)
            let expected: [Value] = [160, 640].flatMap { width in
                ["webp", "avif"].map { format -> Value in
                    ["source": "https://uploads.example.com/raw/img_42.jpg", "width": .int(width), "format": .string(format), "quality": 80]
                }
            }
            #expect(renders.count == 4 && expected.allSatisfy { renders.contains($0) }, "\(renders)")
            #expect(examples.requests(to: Path.render).allSatisfy { $0.header("Authorization") == "Bearer test-images_api_key" })
            for (name, width) in [("thumb", 160), ("card", 640)] {
                let upload = try #require(examples.requests(to: "/cdn-api.example.com/v2/assets/products/img_42/\(name)").first)
                #expect(upload.method == "PUT")
                #expect(upload.header("X-Api-Key") == "test-cdn_api_key")
                #expect(upload.header("Cache-Control") == "public, max-age=31536000, immutable")
                let variants: Value = [
                    ["format": "webp", "from": .string("https://scratch.images.example.com/renders/img_42-\(width).webp"), "bytes": .int(Int64(width * 60))],
                    ["format": "avif", "from": .string("https://scratch.images.example.com/renders/img_42-\(width).avif"), "bytes": .int(Int64(width * 45))],
                ]
                #expect(try Value(json: upload.body) == ["variants": variants])
            }
            let registered: Value = [
                "status": "ready", "renditions": renditions,
                "srcset": "https://cdn.example.com/products/img_42/thumb.webp 160w, https://cdn.example.com/products/img_42/card.webp 640w",
            ]
            #expect(try examples.bodies(Path.catalogImage) == [registered])
            #expect(examples.requests(to: Path.catalogImage).first?.method == "PATCH")
        }
    }

    // MARK: nightly-report

    /// The analytics API's orders: the last 30 days (the window ending on 1 June) made 25 % less
    /// revenue than the 30 days before.
    static func orders(_ request: OutgoingRequest) -> ScriptedResponse {
        guard request.url.contains("to=2026-06-01") else {
            return .json(#"{"total_count": 530, "revenue": 40000.0, "by_product": []}"#)
        }
        return .json(
            """
            {"total_count": 412, "revenue": 30000.0, "by_product": [
              {"sku": "MUG-01", "units": 120}, {"sku": "TEA-07", "units": 80}, {"sku": "GIFT-WRAP", "units": 0},
              {"sku": "BAG-02", "units": 40}, {"sku": "CUP-03", "units": 30}, {"sku": "PEN-04", "units": 20},
              {"sku": "CAP-05", "units": 10}]}
            """)
    }

    @Test(
        "nightly-report: the monthly schedule fires at 02:30 Berlin, a revenue drop alerts at once, the PDF is mailed at 07:00",
        arguments: ExampleMode.allCases)
    func nightlyReport(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["nightly-report"], mode: mode, startingAt: "2026-06-01T00:29:00Z", answers: [Path.orderMetrics: Self.orders]) {
            examples in
            let target = examples.target
            target.fallback(Path.signupMetrics, .json(#"{"total_count": 57}"#))
            target.fallback(Path.incidents, .json(#"{"incidents": [{"id": "inc_1", "title": "Checkout latency above 2 s"}]}"#))
            target.fallback(Path.renderReport, .json(#"{"pdf_url": "https://reports.example.com/files/kpis-2026-06-01.pdf"}"#, status: 201))
            target.fallback(Path.mail, .status(202))
            #expect(try await examples.store.runs(RunFilter()).isEmpty)

            examples.advance(by: .seconds(61))
            let tick = try TimestampValue(parsing: "2026-06-01T00:30:00Z")
            // In process the tick's run id is the engine's; split, the runner derives it from the tick's message.
            let id = try await mode == .inProcess
                ? "wfr_sched_nightly-report_1_\(tick.secondsSinceEpoch)"
                : eventually("the tick's run") { try await examples.runs(of: "nightly-report").first?.id }
            try await examples.parked(id, "deliver_at")
            let started = try #require(try await examples.store.run(id: id)).createdAt
            #expect(target.requests(to: Path.mail).isEmpty, "nothing is mailed before 07:00")
            if mode == .inProcess {
                // Split, the sleep's entry is in the log from the start (QStash keeps it until its delivery is due).
                #expect(try await examples.result(of: "deliver_at", in: id) == nil)
            }
            let alert: Value = ["channel": "#leadership", "text": "Revenue dropped by 25.0% in the last 30 day(s)."]
            #expect(try examples.bodies(Path.chat) == [alert])

            examples.advance(by: .seconds(270 * 60))
            let output = try await examples.output(of: id)
            #expect(try await examples.runs(of: "nightly-report").count == 1, "one tick, one run")
            #expect(try await examples.store.run(id: id)?.input == ["days": 30, "recipients": ["leadership@example.com", "finance@example.com"]])
            let from = try started.plus(seconds: -30 * 86_400).description
            let figures: Value = [
                "orders": 412, "revenue": 30000.0, "revenue_change_percent": -25.0, "signups": 57,
                "top_products": ["MUG-01", "TEA-07", "BAG-02", "CUP-03", "PEN-04"], "open_incidents": ["Checkout latency above 2 s"],
            ]
            let report = "https://reports.example.com/files/kpis-2026-06-01.pdf"
            let expected: Value = [
                "window": ["from": .string(from), "to": .string(started.description)], "figures": figures, "report": .string(report),
                "recipients": 2,
            ]
            #expect(output == expected)
            #expect(
                try await examples.result(of: "deliver_at", in: id) == ["until": .string(try started.plus(seconds: 270 * 60).description)],
                "07:00 in Berlin")

            let queries = target.requests(to: Path.orderMetrics).map(\.query).sorted()
            let previousFrom = try started.plus(seconds: -60 * 86_400).description
            #expect(queries == ["from=\(from)&to=\(started)&granularity=day", "from=\(previousFrom)&to=\(from)&granularity=day"].sorted())
            #expect(target.requests(to: Path.incidents).map(\.query) == ["state=open&since=\(from)"])
            let render = try #require(try examples.bodies(Path.renderReport).first)
            #expect(render == ["template": "business-kpis", "title": "Business report 2026-05-02 to 2026-06-01", "data": figures])
            let mails = try examples.bodies(Path.mail)
            #expect(Set(mails.compactMap { $0["to"]?.string }) == ["leadership@example.com", "finance@example.com"])
            #expect(mails.allSatisfy { $0["subject"] == "Business report: 412 orders, -25.0% revenue change" })
            #expect(mails.allSatisfy { $0["variables"] == ["pdf_url": .string(report), "figures": figures] })
            #expect(try examples.bodies(Path.chat).count == 1, "on_failure did not run")
        }
    }

    // MARK: ai-document-processing

    static let paragraphs = [
        "This agreement is made between Acme GmbH (the supplier) and Example Ltd (the buyer).",
        "The supplier shall deliver 500 units by 30 June 2026.",
        "   ",
        "The weather in Berlin was pleasant that spring.",
        "The office garden was replanted in April.",
        "",
        "Payment is due within 30 days of the invoice. Either party may terminate with 90 days' notice.",
    ]
    static let question = "Which obligations and deadlines does this contract set?"
    static let combined = "Acme must deliver 500 units by 30 June 2026 [part 1]; invoices are due within 30 days and either party may "
        + "terminate with 90 days' notice [part 3]."

    /// The language model: a note per relevant part, IRRELEVANT for the part about the weather,
    /// and the combined answer when asked to combine notes.
    static func model(_ request: OutgoingRequest) -> ScriptedResponse {
        let prompt = request.json["messages"]?.list?.last?["content"]?.string ?? ""
        let (answer, tokens): (String, Int64) =
            if prompt.contains("\n\nNotes:\n\n") { (combined, 1_204) }
            else if prompt.contains("weather") { ("IRRELEVANT", 295) }
            else if prompt.contains("deliver 500 units") { ("  Acme must deliver 500 units by 30 June 2026.\n", 812) }
            else { ("Payment is due 30 days after the invoice; either party may terminate with 90 days' notice.", 640) }
        let body: Value = [
            "id": "chatcmpl-1", "choices": [["index": 0, "message": ["role": "assistant", "content": .string(answer)]]],
            "usage": ["total_tokens": .int(tokens)],
        ]
        return .json(body.jsonText())
    }

    @Test("ai-document-processing: the document is chunked, each chunk asked by an engine call, the notes combined and stored", arguments: ExampleMode.allCases)
    func aiDocumentProcessing(mode: ExampleMode) async throws {
        try await ExampleEngine.with(["ai-document-processing"], mode: mode, answers: [Path.llm: Self.model]) { examples in
            examples.target.script(Path.document, ScriptedResponse(body: Self.paragraphs.joined(separator: "\n\n"), contentType: "text/plain"))
            examples.target.fallback(Path.analysis, .status(201))
            let input: Value = [
                "document_id": "doc_77", "url": "https://files.example.org/contracts/doc_77.txt", "question": .string(Self.question),
                "paragraphs_per_chunk": 2,
            ]
            let id = try await examples.start("ai-document-processing", input.jsonText())
            #expect(
                try await examples.output(of: id) == [
                    "document_id": "doc_77", "answer": .string(Self.combined), "chunks": 3, "relevant_parts": [1, 3],
                    "largest_call_tokens": 812,
                ])

            #expect(examples.requests(to: Path.document).map { $0.header("Authorization") } == ["Bearer test-docs_api_key"])
            let calls = examples.requests(to: Path.llm)
            #expect(calls.count == 4)
            #expect(calls.allSatisfy { $0.header("Authorization") == "Bearer test-llm_api_key" })
            let prompts = try calls.map { try Value(json: $0.body)["messages"]?.list?.last?["content"]?.string ?? "" }
            let chunks = [
                Self.paragraphs[0] + "\n\n" + Self.paragraphs[1], Self.paragraphs[3] + "\n\n" + Self.paragraphs[4], Self.paragraphs[6],
            ]
            let asked = chunks.enumerated().map { "Question: \(Self.question)\n\nPart \($0.offset + 1) of 3:\n\n\($0.element)" }
            #expect(Set(prompts.prefix(3)) == Set(asked), "every chunk is asked once, before the notes are combined")
            let notes = "[part 1] Acme must deliver 500 units by 30 June 2026.\n\n"
                + "[part 3] Payment is due 30 days after the invoice; either party may terminate with 90 days' notice."
            #expect(prompts.last == "Question: \(Self.question)\n\nNotes:\n\n\(notes)")
            #expect(try calls.allSatisfy { try Value(json: $0.body)["model"] == "example-large-2" })
            let keys = Set(calls.prefix(3).compactMap { $0.header("Idempotency-Key") })
            #expect(keys == Set((0..<3).map { "\(id)/partials[\($0)].ask" }))

            let stored: Value = [
                "question": .string(Self.question), "answer": .string(Self.combined), "chunks": 3, "relevant_parts": [1, 3],
                "model": "example-large-2",
            ]
            #expect(try examples.bodies(Path.analysis) == [stored])
            #expect(examples.requests(to: Path.analysis).first?.method == "PUT")
        }
    }
}

extension Duration {
    /// `count` days of 24 hours.
    static func days(_ count: Int) -> Duration { .seconds(count * 86_400) }
}
