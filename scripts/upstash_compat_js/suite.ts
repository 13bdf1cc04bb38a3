// The official Upstash Workflow JS SDK, built from its sources, against `stepwise serve`
// (scripts/upstash_compat_js/README.md; `run.sh` builds and runs it).
//     node suite.js <stepwise binary> [scenario...]
// Each scenario is a workflow endpoint, how it is triggered, and what it must end with: the
// result the workflow saves and how often its endpoint was called (as Upstash's own end-to-end
// tests of the SDK check them against QStash).
import http from "node:http";
import { spawn, ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Receiver } from "@upstash/qstash";
import { Client, WorkflowNonRetryableError } from "@upstash/workflow/src/index";
import type { RouteFunction, WorkflowServeOptions, InvokableWorkflow } from "@upstash/workflow/src/index";
import { serveBase } from "@upstash/workflow/src/serve";
import { serveManyBase } from "@upstash/workflow/src/serve/serve-many";

type Handler = (request: Request) => Promise<Response>;
const telemetry = { sdk: "@upstash/workflow@harness", framework: "node-http" };

function serve<TPayload = unknown>(route: RouteFunction<TPayload, unknown>, options?: WorkflowServeOptions<TPayload, unknown>): Handler {
  return serveBase(route, telemetry, options).handler as Handler;
}

function createWorkflow<TPayload, TResult>(route: RouteFunction<TPayload, TResult>, options = {}): InvokableWorkflow<TPayload, TResult> {
  return { routeFunction: route, options, workflowId: undefined };
}

function serveMany(workflows: Record<string, InvokableWorkflow<any, any>>): Handler {
  return serveManyBase<Handler>({
    workflows,
    getUrl: (request: Request) => request.url,
    serveMethod: (route: RouteFunction<unknown, unknown>, options: WorkflowServeOptions) => serve(route, options),
  }).handler as Handler;
}

class Failure extends Error {}
function expect(actual: unknown, expected: unknown, what = "value") {
  if (actual !== expected) throw new Failure(`${what}: got ${JSON.stringify(actual)?.slice(0, 300)}, expected ${JSON.stringify(expected)?.slice(0, 300)}`);
}

// ---------------------------------------------------------------------------------------------
// What the workflows report: calls per test id, the saved result, and a workflow's own failure.

const ID_HEADER = "ci-test-id";
const calls: Record<string, number> = {};
const results: Record<string, string> = {};
const problems: Record<string, string> = {};
const scratch: Record<string, unknown> = {};
const counts: Record<string, number> = {};
const flags: Record<string, boolean> = {};
const bump = (key: string) => (counts[key] = (counts[key] ?? 0) + 1);

function testId(context: { headers: Headers }) { return context.headers.get(ID_HEADER) ?? "none"; }
async function save(context: { headers: Headers }, result: string) { results[testId(context)] = result; }

let appPort = 0;
const appUrl = (p: string) => `http://127.0.0.1:${appPort}${p}`;
const large = "x".repeat(5 * 1024 * 1024);

type Scenario = {
  route: string;
  handler: () => Handler;
  payload?: unknown;
  headers?: Record<string, string>;
  trigger?: { retries?: number; retryDelay?: string; label?: string; failureUrl?: string };
  calls: number;
  result: string | RegExp;
  /** Runs once the run is triggered, before its result is awaited. */
  check?: (runId: string, id: string) => Promise<void>;
  seconds?: number;
  /** serveMany: every workflow under the route's folder. */
  many?: boolean;
  /** Deliveries that came empty (lazy fetch), at least: step deliveries and a call's callbacks; the SDK
   * read the run's log itself at least as often. */
  lazyFetches?: { deliveries: number; callbacks?: number };
};

const HEADER = "test-header-foo";
const HEADER_VALUE = "header-bar";

const scenarios: Record<string, Scenario> = {
  path: {
    route: "/path", payload: "“unicode-quotes”", headers: { [HEADER]: HEADER_VALUE }, trigger: { retries: 0 },
    calls: 4, result: "processed 'processed '“unicode-quotes”''",
    handler: () => serve<string>(async (context) => {
      expect(context.headers.get(HEADER), HEADER_VALUE, "trigger header");
      const one = await context.run("step1", async () => `processed '${context.requestPayload}'`);
      expect(context.requestPayload, "“unicode-quotes”", "payload");
      const two = await context.run("step2", () => `processed '${one}'`);
      const three = await context.run("step 3", () => true);
      expect(three, true, "a boolean result");
      await save(context, two);
    }),
  },

  unknown_sdk_header: {
    // A first delivery that says Upstash-Workflow-Unknown-Sdk: the SDK triggers the run again as
    // its own (workflow-js serve with unknownSdk), which costs one more call than `path`.
    route: "/unknown-sdk", payload: "“unicode-quotes”", headers: { [HEADER]: HEADER_VALUE, "Upstash-Workflow-Unknown-Sdk": "true" },
    trigger: { retries: 0 }, calls: 5, result: "processed 'processed '“unicode-quotes”''",
    handler: () => serve<string>(async (context) => {
      expect(context.headers.get(HEADER), HEADER_VALUE, "trigger header");
      const one = await context.run("step1", async () => `processed '${context.requestPayload}'`);
      const two = await context.run("step2", () => `processed '${one}'`);
      await context.run("step 3", () => true);
      await save(context, two);
    }),
  },

  rest_trigger_unknown_sdk: {
    // Upstash Workflow's REST trigger asked for an unknown-SDK first delivery, with a large payload.
    // The scenario's own run (client.trigger) is a small one; the REST trigger's has its own id.
    route: "/rest-unknown", payload: { large: "x" }, calls: 2, result: "rest payload of 1 characters", seconds: 60,
    handler: () => serve<{ large: string }>(async (context) => {
      const length = await context.run("measure", () => context.requestPayload.large.length);
      await save(context, `rest payload of ${length} characters`);
    }),
    check: async (_runId, scenarioId) => {
      const id = `${scenarioId}-rest`;
      const answer = await fetch(`${process.env.QSTASH_URL}/v2/trigger/${appUrl("/rest-unknown")}`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json", Authorization: `Bearer ${process.env.QSTASH_TOKEN}`,
          [`Upstash-Forward-${ID_HEADER}`]: id, "Upstash-Retries": "0", "Upstash-Workflow-Unknown-Sdk": "true",
        },
        body: JSON.stringify({ large }),
      });
      expect(answer.status, 200, "the REST trigger's status");
      const { workflowRunId } = await answer.json() as { workflowRunId: string };
      await until("the REST run's end", async () => ((await client.logs({ workflowRunId })).runs[0] as any)?.workflowState === "RUN_SUCCESS" ? true : undefined, 60);
      expect(results[id], `rest payload of ${large.length} characters`, "the REST run's result");
      expect(calls[id], 3, "calls: the unknown-SDK delivery, the run's first, the end");
    },
  },

  sleep: {
    route: "/sleep", headers: { [HEADER]: HEADER_VALUE }, trigger: { retries: 0 }, calls: 6, result: "slept",
    handler: () => serve<string>(async (context) => {
      expect(context.requestPayload, undefined, "payload");
      const start = await context.run("step1", () => Date.now());
      await context.sleepUntil("sleep1", Math.ceil(Date.now() / 1000) + 2);
      const middle = await context.run("step2", () => Date.now());
      if (middle - start < 2000) throw new Failure("sleepUntil did not wait");
      await context.sleep("sleep2", 1);
      const end = await context.run("step3", () => Date.now());
      if (end - middle < 1000) throw new Failure("sleep did not wait");
      await save(context, "slept");
    }),
  },

  parallel_in_loop: {
    route: "/parallel-loop", payload: { amount: 10, email: "my@mail.com" }, trigger: { retries: 0 }, calls: 12, result: "charged",
    handler: () => serve<{ amount: number; email: string }>(async (context) => {
      let counter = 0;
      for (let index = 0; index < 3; index++) {
        const charge = await context.run("attemptCharge", () => {
          counter += 1;
          return { success: counter === 3, counter };
        });
        counter = charge.counter;
        if (charge.success) {
          const [amount, email, slept] = await Promise.all([
            context.run("updateDb", () => context.requestPayload.amount),
            context.run("sendReceipt", () => context.requestPayload.email),
            context.sleep("sleep", 1),
          ]);
          expect(amount, 10, "amount");
          expect(email, "my@mail.com", "email");
          expect(slept, undefined, "a sleep's result");
          await save(context, "charged");
          return;
        }
        await context.sleep("retrySleep", 1);
      }
    }),
  },

  returns_before_step: {
    route: "/returns-before-step", trigger: { retries: 0 }, calls: 2,
    result: "400 Failed to authenticate Workflow request. If this is unexpected, see the caveat https://upstash.com/docs/workflow/basics/caveats#avoid-non-deterministic-code-outside-context-run",
    handler: () => serve(async (context) => {
      const n = (scratch[`rbs/${testId(context)}`] = ((scratch[`rbs/${testId(context)}`] as number) ?? 0) + 1);
      if (n === 1) return;
      if (n === 2) { await context.run("mock step", () => {}); return; }
      problems[testId(context)] = "called a third time";
    }, {
      failureFunction: async ({ context, failStatus, failResponse }) => { await save(context, `${failStatus} ${failResponse}`); },
    }),
  },

  failure_function: {
    route: "/failure-function", headers: { [HEADER]: HEADER_VALUE, authentication: "Bearer super-secret-token" },
    trigger: { retries: 0, label: "my-label" }, calls: 2, result: "500 my-error",
    handler: () => serve<string>(async (context) => {
      expect(context.label, "my-label", "label");
      await context.run("step1", () => { throw new Error("my-error"); });
    }, {
      failureFunction: async ({ context, failStatus, failResponse }) => {
        expect(context.requestPayload, undefined, "payload in the failure function");
        expect(context.headers.get("authentication"), "Bearer super-secret-token", "trigger header in the failure function");
        expect(context.label, "my-label", "label in the failure function");
        await save(context, `${failStatus} ${failResponse}`);
      },
    }),
  },

  failure_function_retried_step: {
    route: "/failure-function-retry", payload: "my-payload", trigger: { retries: 1 }, calls: 3, result: "500 my-error",
    handler: () => serve<string>(async (context) => {
      await context.run("step1", () => { throw new Error("my-error"); });
    }, {
      failureFunction: async ({ context, failStatus, failResponse }) => {
        expect(context.requestPayload, "my-payload", "payload in the failure function");
        await save(context, `${failStatus} ${failResponse}`);
      },
    }),
  },

  failure_function_non_retryable: {
    route: "/failure-function-nonretryable", payload: "my-payload", trigger: { retries: 3, label: "nr-label" }, calls: 2,
    result: "489 my-non-retryable-error",
    handler: () => serve<string>(async (context) => {
      await context.run("step1", () => { throw new WorkflowNonRetryableError("my-non-retryable-error"); });
    }, {
      failureFunction: async ({ context, failStatus, failResponse }) => {
        expect(context.label, "nr-label", "label in the failure function");
        await save(context, `${failStatus} ${failResponse}`);
      },
    }),
  },

  failure_url: {
    route: "/failure-url/workflow", payload: "failure-url-payload", headers: { [HEADER]: HEADER_VALUE },
    trigger: { retries: 0, failureUrl: "/failure-url/third-party" }, calls: 1,
    result: /^\{"error":"Error","message":"failing for the failure URL","stack":.*\} header-bar failure-url-payload$/s,
    handler: () => serve<string>(async (context) => {
      await context.run("step1", () => { throw new Error("failing for the failure URL"); });
    }),
  },

  call: {
    // 13 calls: the trigger's delivery, then for each of the five calls its callback and the result's
    // delivery, the sleep's, and the PATCH's first failed attempt's callback (QStash calls a callback
    // after every attempt, docs qstash/features/callbacks). Upstash's own route expects 12.
    route: "/call", payload: "my-payload", headers: { [HEADER]: HEADER_VALUE }, trigger: { retries: 0, retryDelay: "1000" },
    calls: 13, result: "called GET 'get-header-value-x'",
    handler: () => serve<string>(async (context) => {
      const post = await context.call("post call", {
        url: appUrl("/third-party"), method: "POST", body: "post-payload",
        headers: { "post-header": "post-header-value-x", "content-type": "application/x-www-form-urlencoded" },
      });
      expect(context.requestPayload, "my-payload", "payload");
      expect(post.status, 201, "POST status");
      expect(post.body, "called POST 'post-header-value-x' 'post-payload' 'application/x-www-form-urlencoded'", "POST body");
      await context.sleep("sleep 1", 1);
      const get = await context.call<string>("get call", { url: appUrl("/third-party"), headers: { "get-header": "get-header-value-x" } });
      expect(get.status, 200, "GET status");
      expect(get.header["Get-Header"]?.[0], "get-header-value-FOO", "GET header");
      const patch = await context.call<number>("patch call", { url: appUrl("/third-party"), method: "PATCH", retries: 1, retryDelay: "100" });
      expect(patch.status, 401, "PATCH status");
      expect(patch.body, 99999999, "PATCH body");
      expect(patch.header["Fail-Header-Foo"]?.[0], "fail-header-value-BAR", "PATCH header");
      const put = await context.call<string>("put call", { url: appUrl("/third-party"), method: "PUT", retries: 0 });
      expect(put.status, 300, "PUT status");
      expect(put.body, "", "PUT body");
      const del = await context.call<object>("delete call", { url: appUrl("/third-party"), method: "DELETE", retries: 0 });
      expect(del.status, 400, "DELETE status");
      expect(JSON.stringify(del.body), JSON.stringify({ foo: "bar", zed: 2, unicode: "`“X” - 𐐷𐐶𐐹`" }), "DELETE body");
      await save(context, get.body);
    }),
  },

  large_initial: {
    lazyFetches: { deliveries: 1 }, route: "/large/initial", payload: large, trigger: { retries: 0 }, calls: 4, result: "throwing-foo", seconds: 60,
    handler: () => serve<string>(async (context) => {
      expect(context.requestPayload === large, true, "large payload arrived whole");
      const length = await context.run("step1", () => context.requestPayload.length);
      expect(length, large.length, "length");
      const again = await context.run("step2", () => context.requestPayload);
      expect(again === large, true, "large step result");
      await context.run("throws", () => { throw new Error("throwing-foo"); });
    }, {
      failureFunction: async ({ context, failResponse }) => {
        expect(context.requestPayload === large, true, "large payload in the failure function");
        await save(context, failResponse);
      },
    }),
  },

  large_step_result: {
    lazyFetches: { deliveries: 1 }, route: "/large/step", payload: "foo", trigger: { retries: 0 }, calls: 3, result: String(large.length), seconds: 60,
    handler: () => serve<string>(async (context) => {
      const one = await context.run("step1", () => large);
      expect(one === large, true, "large step result");
      const two = await context.run("step2", () => one.length);
      await save(context, String(two));
    }),
  },

  large_step_result_parallel: {
    lazyFetches: { deliveries: 1 }, route: "/large/parallel", payload: "foo", trigger: { retries: 0 }, calls: 9, result: `${large.length} - ${large.length}`, seconds: 90,
    handler: () => serve<string>(async (context) => {
      const [none, big] = await Promise.all([context.run("step 1", () => undefined), context.run("step 2 - large", () => large)]);
      expect(none, undefined, "undefined result");
      const [big2, none2] = await Promise.all([context.run("step 3 - large", () => large), context.run("step 4", () => undefined)]);
      expect(none2, undefined, "undefined result");
      await save(context, `${big.length} - ${big2.length}`);
    }),
  },

  large_call_result: {
    lazyFetches: { deliveries: 1, callbacks: 1 }, route: "/large/call", payload: "p", trigger: { retries: 0 }, calls: 4, result: String(large.length), seconds: 60,
    handler: () => serve<string>(async (context) => {
      const { body, status, header } = await context.call<string>("get large body", { url: appUrl("/large-third-party"), method: "GET" });
      expect(status, 201, "status");
      expect(body === large, true, "large call body");
      expect(header["Get-Header"]?.[0], "get-header-value-FOO", "header");
      const length = await context.run("step2", () => body.length);
      await save(context, String(length));
    }),
  },

  large_return: {
    // The workflow's return value is the body of its run's end (DELETE …?cancel=false).
    route: "/large/return", payload: "p", trigger: { retries: 0 }, calls: 0, result: "returned 5242880", seconds: 60,
    handler: () => serve<string>(async (context) => {
      await context.run("one", () => "x");
      return large;
    }),
    check: async (runId, id) => {
      const run = await until("the run's end", async () => {
        const found = (await client.logs({ workflowRunId: runId })).runs[0] as any;
        return found?.workflowState !== "RUN_STARTED" ? found : undefined;
      }, 60);
      expect(run.workflowState, "RUN_SUCCESS", "state");
      results[id] = `returned ${JSON.parse(run.workflowRunResponse).length}`;
    },
  },

  large_error: {
    route: "/large/error", payload: "“unicode-quotes”", trigger: { retries: 0 }, calls: 3, result: "large error seen", seconds: 60,
    handler: () => serve<string>(async (context) => {
      await context.run("step1", () => context.requestPayload.length);
      await context.run("step2", () => { throw new Error(large); });
    }, {
      failureFunction: async ({ context, failStatus, failResponse }) => {
        expect(failStatus, 500, "status");
        expect(failResponse === large, true, "large error message");
        expect(context.requestPayload, "“unicode-quotes”", "payload");
        await save(context, "large error seen");
      },
    }),
  },

  invoke: {
    route: "/invoke/parent", many: true, payload: "invoke-payload", calls: 0, result: "invoke-result / failed: undefined false true", seconds: 60,
    handler: () => {
      const child = createWorkflow<string, string>(async (context) => {
        expect(context.requestPayload, "invoke-payload", "child payload");
        expect(context.headers.get("invoke-header"), "invoke-header-value", "invoke header");
        expect(context.label, "invoke-label", "child label");
        await context.run("child step", () => {});
        return "invoke-result";
      });
      const failing = createWorkflow<string, string>(async () => { throw new Error("child fails"); });
      const parent = createWorkflow<string, unknown>(async (context) => {
        const ok = await context.invoke("invoking child", {
          workflow: child, body: "invoke-payload", headers: { "invoke-header": "invoke-header-value", [ID_HEADER]: testId(context) },
          label: "invoke-label",
        });
        expect(ok.isCanceled, false, "isCanceled of a child that succeeded");
        expect(ok.isFailed, false, "isFailed of a child that succeeded");
        const bad = await context.invoke("invoke failing", { workflow: failing, body: "x", retries: 0, headers: { [ID_HEADER]: testId(context) } });
        await save(context, `${ok.body} / failed: ${bad.body} ${bad.isCanceled} ${bad.isFailed}`);
      });
      return serveMany({ parent, child, failing });
    },
  },

  parallel_invokes: {
    route: "/invokes/parent", many: true, payload: 3, calls: 0, result: "[30,40]", seconds: 60,
    handler: () => {
      const times = createWorkflow<number, number>(async (context) => await context.run("times ten", () => context.requestPayload * 10));
      const parent = createWorkflow<number, unknown>(async (context) => {
        const [a, b] = await Promise.all([
          context.invoke("one", { workflow: times, body: context.requestPayload, headers: { [ID_HEADER]: testId(context) } }),
          context.invoke("two", { workflow: times, body: context.requestPayload + 1, headers: { [ID_HEADER]: testId(context) } }),
        ]);
        await save(context, JSON.stringify([a.body, b.body]));
      });
      return serveMany({ parent, times });
    },
  },

  // Upstash's `invoke-parent-failure`: a parallel step fails the run while a child it invoked
  // sleeps; the child's result still lands in the failed run's parallel group. Resumed from the
  // DLQ, the run goes on from the child's result.
  invoke_parent_failure: {
    route: "/invoke-failure/parent", many: true, payload: "p", trigger: { retries: 0 }, calls: 0, result: "resumed: child done", seconds: 60,
    handler: () => {
      const child = createWorkflow<string, string>(async (context) => {
        await context.sleep("sleep 3s", 3);
        return await context.run("child step", () => "child done");
      });
      const parent = createWorkflow<string, unknown>(async (context) => {
        const [invoked] = await Promise.all([
          context.invoke("invoke child", { workflow: child, body: "c", headers: { [ID_HEADER]: testId(context) } }),
          context.run("failing step", async () => {
            if (flags[`${testId(context)}/fixed`]) return "fixed";
            await new Promise((resolve) => setTimeout(resolve, 1000));
            throw new WorkflowNonRetryableError("step failed");
          }),
        ]);
        await save(context, `resumed: ${invoked.body}`);
      });
      return serveMany({ parent, child });
    },
    check: async (runId, id) => {
      await until("the child's success and the failed step in the parent's parallel group", async () => {
        const run = (await client.logs({ workflowRunId: runId })).runs[0] as any;
        const group = run?.steps?.[1];
        if (run?.workflowState !== "RUN_FAILED" || group?.type !== "parallel") return undefined;
        const invoked = group.steps.find((step: any) => step.stepName === "invoke child");
        const failing = group.steps.find((step: any) => step.stepName === "failing step");
        return invoked?.state === "STEP_SUCCESS" && failing?.state === "STEP_FAILED" ? true : undefined;
      }, 30);
      flags[`${id}/fixed`] = true;
      const entry = (await client.dlq.list({ filter: { workflowRunId: runId } } as any)).messages[0] as any;
      await client.dlq.resume(entry.dlqId);
    },
  },

  wait_for_event: {
    route: "/wait", payload: "my-payload", trigger: { retries: 0 }, calls: 0, result: "text-data - {\"object\":true}", seconds: 60,
    handler: () => serve<string>(async (context) => {
      const none = await context.waitForEvent("timing out", `never-${testId(context)}`, { timeout: 1 });
      expect(none.timeout, true, "timed out");
      expect(none.eventData, undefined, "event data of a timeout");
      const ids = await context.run("ids", () => ({ text: `text-${testId(context)}`, object: `object-${testId(context)}` }));
      const [started, text] = await Promise.all([
        context.call<{ workflowRunId: string }>("start notifier", { url: appUrl("/notifier"), method: "POST", body: JSON.stringify(ids), retries: 0 }),
        context.waitForEvent("wait text", ids.text, { timeout: "10s" }),
      ]);
      expect(started.status, 200, "the notifier's start");
      expect(text.timeout, false, "text timeout");
      const object = await context.waitForEvent("wait object", ids.object, { timeout: "10s" });
      expect(object.timeout, false, "object timeout");
      await save(context, `${text.eventData} - ${JSON.stringify(object.eventData)}`);
    }),
  },

  webhook: {
    route: "/webhook", payload: { test: "webhook-payload" }, calls: 8, result: "webhook done", seconds: 60,
    handler: () => serve<{ test: string }>(async (context) => {
      const lapsed = await context.createWebhook("timeout webhook");
      const timedOut = await context.waitForWebhook("wait for timeout webhook", lapsed, "1s");
      expect(timedOut.timeout, true, "timeout");
      expect(timedOut.request, undefined, "request of a timeout");
      const webhook = await context.createWebhook("create webhook");
      const called = await context.call("call webhook caller", {
        url: appUrl("/webhook-caller"), method: "POST", body: JSON.stringify({ webhookUrl: webhook.webhookUrl }),
      });
      expect(called.status, 200, "caller status");
      const answer = await context.waitForWebhook("wait for webhook", webhook, "30s");
      expect(answer.timeout, false, "timeout");
      const request = answer.request!;
      expect(request.url, webhook.webhookUrl, "request url");
      expect(request.method, "POST", "method");
      expect(request.headers.get("X-Test-Header"), "webhook-test-value", "header");
      const data = await request.json() as { test: string };
      expect(data.test, "webhook-body", "body");
      const result = await context.run("verify", () => (context.requestPayload.test === "webhook-payload" ? "webhook done" : "wrong payload"));
      await save(context, result);
    }),
  },

  trigger_non_workflow: {
    route: "/trigger-non-workflow", calls: 4, result: "non-workflow says hi", seconds: 60,
    handler: () => serve(async (context) => {
      const { workflowRunId } = await context.run("trigger non-workflow", async () => client.trigger({ url: appUrl("/non-workflow") }));
      await context.sleep("wait", 1);
      const body = await context.run("check run logs", async () => {
        for (let i = 0; i < 10; i++) {
          const { runs } = await client.logs({ workflowRunId });
          const run = runs[0] as any;
          if (run?.workflowState === "RUN_FAILED") {
            expect(run.steps.length, 2, "groups of the failed run");
            expect(run.steps[0].steps[0].stepType, "Initial", "first step");
            expect(run.steps[1].type, "next", "second group");
            expect(run.steps[1].steps[0].state, "STEP_FAILED", "state");
            const errors = run.steps[1].steps[0].errors;
            expect(errors.length, 1, "errors");
            expect(errors[0].error, "detected a non-workflow destination for trigger/invoke. make sure you are sending the request to the correct endpoint", "error");
            return errors[0].body;
          }
          await new Promise((r) => setTimeout(r, 500));
        }
        return "never failed";
      });
      await save(context, body);
    }),
  },

  rest_trigger_non_workflow: {
    // Upstash Workflow's REST trigger to an endpoint that runs no SDK 1.x (workflow-js examples/ci qstash-trigger-fetch).
    route: "/rest-trigger-non-workflow", calls: 4, result: "trigger rest api is only usable with sdk versions after v1.0.0 major version", seconds: 60,
    handler: () => serve(async (context) => {
      const workflowRunId = await context.run("trigger non-workflow by REST", async () => {
        const answer = await fetch(`${process.env.QSTASH_URL}/v2/trigger/${appUrl("/non-workflow")}`, {
          method: "POST", headers: { Authorization: `Bearer ${process.env.QSTASH_TOKEN}`, "Upstash-Retries": "0" }, body: JSON.stringify({ data: "x" }),
        });
        return ((await answer.json()) as { workflowRunId: string }).workflowRunId;
      });
      await context.sleep("wait", 1);
      const error = await context.run("check run logs", async () => {
        for (let i = 0; i < 10; i++) {
          const run = (await client.logs({ workflowRunId })).runs[0] as any;
          if (run?.workflowState === "RUN_FAILED") {
            expect(run.steps.length, 2, "groups of the failed run");
            expect(run.steps[1].type, "next", "second group");
            return run.steps[1].steps[0].errors[0].error as string;
          }
          await new Promise((r) => setTimeout(r, 500));
        }
        return "never failed";
      });
      await save(context, error);
    }),
  },

  signed: {
    route: "/signed", payload: "p", calls: 2, result: "signed ok",
    handler: () => serve(async (context) => {
      const result = await context.run("one", () => "signed ok");
      await save(context, result);
    }, { receiver: new Receiver({ currentSigningKey: signingKeys.current, nextSigningKey: signingKeys.next }) }),
  },

  signature_rejected: {
    // Keys that are not Stepwise's: the SDK refuses every delivery, so the run never saves.
    route: "/signed-wrongly", payload: "p", trigger: { retries: 0 }, calls: 0, result: "no delivery accepted",
    handler: () => serve(async (context) => {
      await save(context, "a delivery was accepted");
    }, { receiver: new Receiver({ currentSigningKey: "sig_wrong_current", nextSigningKey: "sig_wrong_next" }) }),
    check: async (runId, id) => {
      await until("the run's failure", async () => {
        const run = (await client.logs({ workflowRunId: runId })).runs[0] as any;
        return run?.workflowState === "RUN_FAILED" ? true : undefined;
      });
      results[id] ??= "no delivery accepted";
    },
  },

  dlq_client: {
    // A run fails into the DLQ and its failure function fails; the DLQ client retries the failure
    // function, then resumes the run, which ends where it failed.
    route: "/dlq-client", payload: "dlq-payload", trigger: { retries: 0, label: "dlq-label" }, calls: 0, result: "resumed", seconds: 60,
    handler: () => serve<string>(async (context) => {
      const id = testId(context);
      await context.run("before", () => { bump(`${id}/before`); });
      await context.run("fails until fixed", () => {
        if (!flags[`${id}/step`]) throw new WorkflowNonRetryableError("not fixed yet");
      });
      await save(context, `resumed`);
    }, {
      failureFunction: async ({ context }) => {
        if (!flags[`${testId(context)}/failure`]) throw new Error("the failure function fails first");
      },
    }),
    check: async (runId, id) => {
      const entry = async (state: string) => until(`a DLQ entry in ${state}`, async () => {
        const page = await client.dlq.list({ filter: { workflowRunId: runId } } as any);
        const found = page.messages[0] as any;
        return found?.failureCallbackInfo?.state === state ? found : undefined;
      });
      const failed = await entry("CALLBACK_FAIL");
      expect(failed.workflowRunId, runId, "entry's run");
      expect(((await client.dlq.list({ filter: { label: "dlq-label" } } as any)).messages as any[]).some((m) => m.dlqId === failed.dlqId), true, "listed by label");
      flags[`${id}/failure`] = true;
      const retried = await client.dlq.retryFailureFunction({ dlqId: failed.dlqId }) as any;
      expect(retried.workflowRunId, runId, "retryFailureFunction's run");
      await entry("CALLBACK_SUCCESS");
      flags[`${id}/step`] = true;
      const resumed = await client.dlq.resume(failed.dlqId) as any;
      expect(resumed.workflowRuns?.length, 1, "resumed runs");
      expect(resumed.workflowRuns[0].workflowRunId, runId, "the resumed run keeps its id");
      await until("the resumed run's end", async () => ((await client.logs({ workflowRunId: runId })).runs[0] as any)?.workflowState === "RUN_SUCCESS" ? true : undefined);
      expect(counts[`${id}/before`], 1, "steps before the failure run once");
      expect((await client.dlq.list({ filter: { workflowRunId: runId } } as any)).messages.length, 0, "the entry is gone");
    },
  },

  dlq_restart_and_delete: {
    route: "/dlq-restart", payload: "again", trigger: { retries: 0 }, calls: 0, result: "restarted", seconds: 60,
    handler: () => serve<string>(async (context) => {
      const id = testId(context);
      const n = await context.run("count", () => bump(`${id}/count`));
      if (n === 1) await context.run("first time fails", () => { throw new WorkflowNonRetryableError("first"); });
      await save(context, "restarted");
    }),
    check: async (runId, id) => {
      const listed = await until("the DLQ entry", async () => (await client.dlq.list({ filter: { workflowRunId: runId } } as any)).messages[0] as any);
      const restarted = await client.dlq.restart([listed.dlqId]) as any;
      const newRunId = restarted.workflowRuns?.[0]?.workflowRunId;
      expect(typeof newRunId, "string", "restarted run id");
      await until("the restarted run's end", async () => ((await client.logs({ workflowRunId: newRunId })).runs[0] as any)?.workflowState === "RUN_SUCCESS" ? true : undefined);
      expect(counts[`${id}/count`], 2, "a restart runs the steps again");
      // A second failure, deleted from the DLQ by the client.
      const other = await client.trigger({ url: appUrl("/dlq-restart"), body: "again", retries: 0, headers: { [ID_HEADER]: `${id}-deleted` } });
      const second = await until("the second DLQ entry", async () => (await client.dlq.list({ filter: { workflowRunId: other.workflowRunId } } as any)).messages[0] as any);
      const deleted = await client.dlq.delete(second.dlqId) as any;
      expect(deleted.deleted, 1, "deleted entries");
      expect((await client.dlq.list({ filter: { workflowRunId: other.workflowRunId } } as any)).messages.length, 0, "the deleted entry is gone");
    },
  },

  cancel_by_filter: {
    route: "/slow", payload: "slow", calls: 0, result: "cancelled 3", seconds: 30,
    handler: () => serve(async (context) => {
      await context.sleep("long", 60);
      problems[testId(context)] = "a canceled run went on";
    }),
    check: async (runId, id) => {
      const label = `cancel-${id}`;
      const more = await client.trigger([1, 2, 3].map(() => ({ url: appUrl("/slow"), body: "slow", label, headers: { [ID_HEADER]: `${id}-x` } })));
      // Each asleep: its last group is the delivery after the sleep, queued (not its first delivery, the init step's).
      const asleep = (run: any) => {
        const last = run.steps[run.steps.length - 1];
        return last?.type === "next" && last.steps[0]?.messageId !== run.steps[0]?.steps[0]?.messageId;
      };
      await until("three labelled runs asleep", async () => {
        const { runs } = await client.logs({ filter: { label } } as any);
        return runs.length === 3 && runs.every(asleep) ? true : undefined;
      });
      const { cancelled } = await client.cancel({ filter: { label } } as any);
      expect(cancelled, 3, "cancelled by label");
      for (const { workflowRunId } of more) {
        const run = (await client.logs({ workflowRunId })).runs[0] as any;
        expect(run.workflowState, "RUN_CANCELED", "state of a cancelled run");
        const dropped = run.steps[run.steps.length - 1];
        expect(`${dropped.type} ${dropped.steps[0]?.state}`, "next STEP_CANCELED", "the delivery the cancel dropped");
      }
      expect((await client.cancel(runId)).cancelled, 1, "cancelled by id");
      results[id] = `cancelled ${cancelled}`;
    },
  },

  // As Upstash's own `invoke-parent-failure` and `quota-error` tests read a failed parallel step.
  logs_parallel_failure: {
    route: "/logs-parallel-failure", payload: "p", trigger: { retries: 0 }, calls: 0, result: "489 broken on purpose",
    handler: () => serve<string>(async (context) => {
      await Promise.all([
        context.run("fine", () => "ok"),
        context.run("broken", async () => {
          // Fails once the fine step's result is in the log: a failed run takes no more steps.
          await until("the fine step's result", async () => {
            const run = (await client.logs({ workflowRunId: context.workflowRunId })).runs[0] as any;
            return run?.steps?.some((group: any) => group.steps?.some((step: any) => step.stepName === "fine" && step.state === "STEP_SUCCESS")) || undefined;
          });
          throw new WorkflowNonRetryableError("broken on purpose");
        }),
      ]);
    }, {
      failureFunction: async ({ context, failStatus, failResponse }) => { await save(context, `${failStatus} ${failResponse}`); },
    }),
    check: async (runId) => {
      const run = await until("the run's failure", async () => {
        const found = (await client.logs({ workflowRunId: runId })).runs[0] as any;
        return found?.workflowState === "RUN_FAILED" ? found : undefined;
      });
      const group = run.steps.find((g: any) => g.type === "parallel");
      expect(group?.type, "parallel", "a parallel group");
      const broken = group.steps.find((step: any) => step.stepName === "broken");
      expect(broken?.state, "STEP_FAILED", "the broken step's state");
      expect(broken?.errors?.[0]?.status, 489, "the broken step's error status");
      expect(group.steps.find((step: any) => step.stepName === "fine")?.state, "STEP_SUCCESS", "the fine step's state");
      expect(run.steps.some((g: any) => g.type === "next"), false, "a next group besides");
    },
  },

  logs_initial_step: {
    route: "/logs-initial", payload: "logged-payload", calls: 2, result: "ok",
    handler: () => serve<string>(async (context) => {
      await context.run("only", () => "x");
      await save(context, "ok");
    }),
    check: async (runId) => {
      const run = await until("the run's end", async () => {
        const found = (await client.logs({ workflowRunId: runId })).runs[0] as any;
        return found?.workflowState === "RUN_SUCCESS" ? found : undefined;
      });
      const first = run.steps[0];
      expect(first.type, "sequential", "first group");
      expect(first.steps[0].stepType, "Initial", "first step's type");
      expect(first.steps[0].stepName, "init", "first step's name");
      expect(first.steps[0].out, "logged-payload", "first step's out");
      expect(run.steps[1].steps[0].stepName, "only", "second step");
      // As workflow-js's own client test shows the init step: its message's forwarded headers and retries.
      expect(first.steps[0].headers?.["Upstash-Workflow-Sdk-Version"]?.[0], "1", "the init step's SDK version header");
      expect(typeof first.steps[0].retries, "number", "the init step's retries");
      expect(typeof run.steps[1].steps[0].createdAt, "number", "the second step's createdAt");
    },
  },
};

const plainRoutes: Record<string, Handler> = {
  "/third-party": async (request) => {
    switch (request.method) {
      case "GET": return new Response(`called GET '${request.headers.get("get-header")}'`, { status: 200, headers: { "Get-Header": "get-header-value-FOO" } });
      case "POST": return new Response(`called POST '${request.headers.get("post-header")}' '${await request.text()}' '${request.headers.get("content-type")}'`, { status: 201 });
      case "PATCH": return new Response("99999999", { status: 401, headers: { "Fail-Header-Foo": "fail-header-value-BAR" } });
      case "PUT": return new Response(undefined, { status: 300 });
      default: return new Response(JSON.stringify({ foo: "bar", zed: 2, unicode: "`“X” - 𐐷𐐶𐐹`" }), { status: 400 });
    }
  },
  "/large-third-party": async () => new Response(large, { status: 201, headers: { "Get-Header": "get-header-value-FOO" } }),
  "/failure-url/third-party": async (request) => {
    const notice = await request.json() as { body: string; header: Record<string, string[]>; sourceBody: string; workflowRunId: string };
    const id = request.headers.get(ID_HEADER) ?? "none";
    results[id] = `${Buffer.from(notice.body, "base64").toString()} ${request.headers.get(HEADER)} ${Buffer.from(notice.sourceBody, "base64").toString()}`;
    return new Response("", { status: 200 });
  },
  "/webhook-caller": async (request) => {
    const { webhookUrl } = await request.json() as { webhookUrl: string };
    const answer = await fetch(webhookUrl, {
      method: "POST", headers: { "Content-Type": "application/json", "X-Test-Header": "webhook-test-value" },
      body: JSON.stringify({ test: "webhook-body" }),
    });
    return new Response(answer.ok ? "called" : `webhook answered ${answer.status}`, { status: answer.ok ? 200 : 500 });
  },
  "/non-workflow": async () => new Response("non-workflow says hi", { status: 200 }),
};

let notifierHandler: Handler;
function defineNotifier() {
  notifierHandler = serve<{ text: string; object: string }>(async (context) => {
    for (const [step, id, data] of [["text", context.requestPayload.text, "text-data"], ["object", context.requestPayload.object, { object: true }]] as const) {
      for (let i = 1; i <= 5; i++) {
        await context.sleep(`sleep before ${step} ${i}`, 1);
        const { notifyResponse } = await context.notify(`notify ${step} ${i}`, id, data);
        if (notifyResponse.length > 0) break;
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The app and Stepwise.

const handlers: Record<string, Handler> = {};

function startApp(): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const url = appUrl(req.url ?? "/");
      const pathname = new URL(url).pathname;
      const folder = pathname.replace(/\/[^/]*$/, "/");
      const workflow = handlers[pathname] ?? handlers[folder];
      const route = pathname === "/notifier" ? notifierHandler : plainRoutes[pathname] ?? workflow;
      if (!route) { res.statusCode = 404; res.end("no route"); return; }
      const id = req.headers[ID_HEADER];
      if (typeof id === "string" && workflow) calls[id] = (calls[id] ?? 0) + 1;
      const runId = req.headers["upstash-workflow-runid"];
      if (typeof runId === "string" && workflow && Buffer.concat(chunks).length === 0) {
        const empty = (emptyDeliveries[runId] ??= { deliveries: 0, callbacks: 0 });
        if (req.headers["upstash-workflow-callback"]) empty.callbacks++;
        else if (req.headers["upstash-workflow-sdk-version"]) empty.deliveries++;
      }
      if (process.env.TRACE && workflow) console.log("TRACE", pathname, id, Object.keys(req.headers).filter((h) => h.startsWith("upstash")).join(","));
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === "string") headers.set(k, v); else if (Array.isArray(v)) for (const x of v) headers.append(k, x);
      }
      const method = req.method ?? "GET";
      const request = new Request(url, { method, headers, body: ["GET", "HEAD"].includes(method) ? undefined : Buffer.concat(chunks) });
      const response = await route(request);
      res.statusCode = response.status;
      response.headers.forEach((v, k) => res.setHeader(k, v));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error));
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    appPort = (server.address() as { port: number }).port;
    resolve(server);
  }));
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Stepwise {
  process?: ChildProcess;
  port = 0;
  token = "";
  folder = fs.mkdtempSync(path.join(os.tmpdir(), "stepwise-js-"));
  constructor(readonly binary: string) {}

  async start() {
    this.port = await freePort();
    const log = fs.openSync(path.join(this.folder, "serve.log"), "w");
    this.process = spawn(this.binary, ["serve", "--store", `sqlite:${path.join(this.folder, "stepwise.db")}`, "--host", "127.0.0.1",
      "--port", String(this.port), "--retry-delay-scale", "0.01", "--max-message-bytes", String(16 << 20)], { cwd: this.folder, stdio: ["ignore", log, log] });
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(`${this.url}/health`)).ok) break;
      } catch { /* not up yet */ }
      await sleep(50);
    }
    this.token = fs.readFileSync(path.join(this.folder, ".stepwise", "token"), "utf8").trim();
  }

  get url() { return `http://127.0.0.1:${this.port}`; }
  stop() { this.process?.kill("SIGKILL"); }
}

let client: Client;
let signingKeys = { current: "", next: "" };

async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) { last = error; }
    await sleep(100);
  }
  throw new Failure(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

async function run(name: string, scenario: Scenario) {
  const id = `${name}-${Math.random().toString(36).slice(2, 8)}`;
  const url = appUrl(scenario.route);
  const { workflowRunId } = await client.trigger({
    url, body: scenario.payload as any, headers: { [ID_HEADER]: id, ...(scenario.headers ?? {}) },
    retries: scenario.trigger?.retries, retryDelay: scenario.trigger?.retryDelay, label: scenario.trigger?.label,
    failureUrl: scenario.trigger?.failureUrl ? appUrl(scenario.trigger.failureUrl) : undefined,
  });
  if (scenario.check) await scenario.check(workflowRunId, id);
  const result = await until("the workflow's result", async () => results[id], scenario.seconds ?? 30);
  await sleep(300);
  if (problems[id]) throw new Failure(problems[id]);
  if (scenario.result instanceof RegExp) {
    if (!scenario.result.test(result)) throw new Failure(`result: got ${JSON.stringify(result.slice(0, 300))}, expected ${scenario.result}`);
  } else expect(result.length > 300 ? `${result.length} chars` : result, scenario.result, "result");
  if (scenario.calls) expect(calls[id], scenario.calls, "calls of the endpoint");
  if (scenario.lazyFetches) {
    const empty = emptyDeliveries[workflowRunId] ?? { deliveries: 0, callbacks: 0 };
    const fetched = lazyFetches[workflowRunId] ?? 0;
    expect(empty.deliveries >= scenario.lazyFetches.deliveries, true, `empty step deliveries (${empty.deliveries})`);
    expect(empty.callbacks >= (scenario.lazyFetches.callbacks ?? 0), true, `empty callbacks (${empty.callbacks})`);
    expect(fetched >= empty.deliveries + empty.callbacks, true, `the SDK's fetches of the log (${fetched})`);
  }
}

/** Deliveries of each run that came with an empty body, by run id. */
const emptyDeliveries: Record<string, { deliveries: number; callbacks: number }> = {};

/** How often the SDK read each run's log itself (`GET /v2/workflows/runs/{id}`), by run id. */
const lazyFetches: Record<string, number> = {};

/** Counts the SDK's lazy fetches, which go through the global `fetch`. */
function countLazyFetches() {
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: any, init?: any) => {
    const url = typeof input === "string" ? input : input.url;
    const runId = /\/v2\/workflows\/runs\/([^/?]+)$/.exec(url)?.[1];
    if (runId && (init?.method ?? "GET") === "GET") lazyFetches[runId] = (lazyFetches[runId] ?? 0) + 1;
    return original(input, init);
  }) as typeof fetch;
}

/** Logs the Upstash headers of every batch item the SDK publishes (TRACE=1). */
function traceBatches() {
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: any, init?: any) => {
    const url = typeof input === "string" ? input : input.url;
    if (url.includes("/v2/batch") && init?.body) {
      for (const item of JSON.parse(init.body)) console.log("BATCH", item.destination, JSON.stringify(item.headers));
    }
    return original(input, init);
  }) as typeof fetch;
}

/** Runs the chosen scenarios one after another; the number that failed. */
async function runScenarios(stepwise: Stepwise, only: string[]): Promise<number> {
  client = new Client({ baseUrl: stepwise.url, token: stepwise.token });
  process.env.QSTASH_URL = stepwise.url;
  process.env.QSTASH_TOKEN = stepwise.token;
  const keys = await fetch(`${stepwise.url}/v2/keys`, { headers: { authorization: `Bearer ${stepwise.token}` } });
  signingKeys = await keys.json() as { current: string; next: string };
  for (const scenario of Object.values(scenarios)) {
    handlers[scenario.many ? scenario.route.replace(/\/[^/]*$/, "/") : scenario.route] = scenario.handler();
  }
  defineNotifier();
  let passed = 0, failed = 0;
  const chosen = Object.entries(scenarios).filter(([name]) => !only.length || only.includes(name));
  for (const [name, scenario] of chosen) {
    const started = Date.now();
    try {
      await run(name, scenario);
      passed++;
      console.log(`PASS ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failed++;
      console.log(`FAIL ${name}: ${error instanceof Failure ? error.message : (error as Error).stack ?? error}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  if (process.env.TRACE) {
    const events = await fetch(`${stepwise.url}/v2/events?count=100`, { headers: { authorization: `Bearer ${stepwise.token}` } });
    fs.writeFileSync(path.join(stepwise.folder, "events.json"), await events.text());
  }
  return failed;
}

async function main() {
  if (process.env.TRACE) traceBatches();
  countLazyFetches();
  const [binary, ...only] = process.argv.slice(2);
  const stepwise = new Stepwise(binary);
  let app: http.Server | undefined;
  let failed = 1;
  try {
    await stepwise.start();
    app = await startApp();
    failed = await runScenarios(stepwise, only);
  } catch (error) {
    console.log(`the suite could not run: ${(error as Error).stack ?? error}`);
  } finally {
    stepwise.stop();
    app?.close();
  }
  // The folder holds the server's token; kept only for a look at a failure or a trace.
  if (failed || process.env.TRACE) console.log(`server log: ${stepwise.folder}/serve.log`);
  else fs.rmSync(stepwise.folder, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}

main();
