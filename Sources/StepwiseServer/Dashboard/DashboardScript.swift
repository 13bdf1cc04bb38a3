/// The dashboard's script: a page per `#/…` route over Stepwise's API (runs, a run's timeline,
/// graph and actions, schedules, workflows), live through the change feed. Every value is set as
/// text, never as markup, so nothing a run holds can run in the page.
enum DashboardScript {
    static let source = #"""
        "use strict";
        const main = () => document.getElementById("main");
        let feed = null;
        // Whether an API call succeeded on this page: a 401 afterwards means the session ended.
        let signedIn = false;

        function el(tag, attributes, ...children) {
          const node = document.createElement(tag);
          for (const [key, value] of Object.entries(attributes || {})) {
            if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
            else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
          }
          for (const child of children.flat()) {
            if (child === null || child === undefined) continue;
            node.append(child instanceof Node ? child : document.createTextNode(String(child)));
          }
          return node;
        }

        async function api(method, path, body) {
          const options = { method, headers: {}, credentials: "same-origin" };
          if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
          const response = await fetch(path, options);
          if (response.status === 401) {
            showSignIn(signedIn ? "The session ended (the server restarted, or it was 12 hours old): sign in again." : "");
            throw new Error("sign in first");
          }
          signedIn = true;
          const text = await response.text();
          const value = text ? JSON.parse(text) : null;
          if (!response.ok) throw new Error((value && value.error) || ("HTTP " + response.status));
          return value;
        }

        const badge = (status) => el("span", { class: "badge " + status, "data-status": status }, status);
        const json = (value) => el("pre", {}, JSON.stringify(value, null, 2));
        const when = (text) => text ? new Date(text).toLocaleString() : "";

        function page(title, ...content) {
          const target = main();
          target.replaceChildren(el("h1", {}, title), ...content.flat().filter((part) => part !== null && part !== undefined));
        }

        function showSignIn(notice) {
          quiet();
          signedIn = false;
          document.getElementById("nav").hidden = true;
          const token = el("input", { type: "password", id: "token", placeholder: "API token", autocomplete: "current-password", required: true });
          const message = el("p", { class: "error", id: "signin-error" });
          const form = el("form", { class: "signin", id: "signin", onsubmit: async (event) => {
            event.preventDefault();
            const response = await fetch("/dashboard/session", { method: "POST", headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ token: token.value }), credentials: "same-origin" });
            if (response.ok) { route(); } else { message.textContent = "That is not this server's API token."; }
          } }, el("label", { for: "token" }, "The server's API token (stepwise serve prints where it is)"), token,
            el("button", { class: "action primary", type: "submit" }, "Sign in"), message);
          main().replaceChildren(el("h1", {}, "Sign in"), notice ? el("p", { class: "error", id: "signin-notice" }, notice) : null, form);
        }

        // Closes the page's change feed: an open EventSource reconnects forever, even to a run that ended.
        function quiet() {
          if (feed) { feed.close(); feed = null; }
        }

        // Refreshes the page (at most every 250 ms) on each event of `path`; a run's stream starts
        // with a snapshot, which refreshes only when the run changed since the page read it.
        function live(path, refresh, shownStatus) {
          quiet();
          let pending = null;
          feed = new EventSource(path);
          const later = () => { if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 250); };
          for (const name of ["started", "step", "waiting", "retrying", "finished"]) feed.addEventListener(name, later);
          feed.addEventListener("snapshot", (event) => { if (JSON.parse(event.data).status !== shownStatus) later(); });
          // A feed refused (its session ended with a restart) is closed for good by the browser:
          // ask the API, which shows the sign-in on a 401, or follow again when the session holds.
          const current = feed;
          current.addEventListener("error", () => {
            if (current.readyState !== EventSource.CLOSED) return;
            api("GET", "/api/workflows").then(() => { if (feed === current) { refresh(); live(path, refresh, shownStatus); } }).catch(() => {});
          });
        }

        async function runsPage(query) {
          const params = new URLSearchParams(query);
          const workflows = (await api("GET", "/api/workflows")).workflows;
          const chosen = (name) => params.get(name) || "";
          const filter = (name, options) => el("select", { id: "filter-" + name, onchange: (event) => {
            if (event.target.value) params.set(name, event.target.value); else params.delete(name);
            location.hash = "#/runs?" + params.toString();
          } }, el("option", { value: "" }, "any " + name), options.map((option) =>
            el("option", { value: option, selected: option === chosen(name) }, option)));
          const body = el("tbody", { id: "runs" });
          const more = el("button", { class: "action", id: "more", hidden: true }, "More");
          let cursor = null;
          // How many rows are shown: a live refresh reads them all again, so "More" keeps its pages.
          let shown = 50;
          const load = async (reset) => {
            const search = new URLSearchParams(params);
            search.set("limit", String(reset ? Math.min(shown, 1000) : 50));
            if (!reset && cursor) search.set("cursor", cursor);
            const answer = await api("GET", "/api/runs?" + search.toString());
            const rows = answer.runs.map((run) => el("tr", { "data-run": run.workflowRunId },
              el("td", { class: "id" }, el("a", { href: "#/runs/" + encodeURIComponent(run.workflowRunId) }, run.workflowRunId)),
              el("td", {}, run.workflow, run.label ? el("span", { class: "muted" }, " · " + run.label) : null), el("td", {}, badge(run.status)),
              el("td", { class: "optional" }, when(run.createdAt))));
            if (reset) body.replaceChildren(...rows); else body.append(...rows);
            if (!reset) shown += rows.length;
            cursor = answer.cursor;
            more.hidden = !cursor;
          };
          more.addEventListener("click", () => load(false));
          const label = el("input", { id: "filter-label", placeholder: "label", value: chosen("label"), onchange: (event) => {
            if (event.target.value) params.set("label", event.target.value); else params.delete("label");
            location.hash = "#/runs?" + params.toString();
          } });
          page("Runs", el("div", { class: "filters" }, filter("workflow", workflows.map((w) => w.name)),
              filter("status", ["running", "succeeded", "failed", "canceled"]), label),
            el("div", { class: "card" }, el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Run"), el("th", {}, "Workflow"),
              el("th", {}, "Status"), el("th", { class: "optional" }, "Created"))), body), more));
          await load(true);
          // When the list was first shown, for the browser test's measure of the page.
          document.body.dataset.renderedAt = String(performance.now());
          live("/api/events" + (params.get("workflow") ? "?workflow=" + encodeURIComponent(params.get("workflow")) : ""), () => load(true));
        }

        function stepState(node, run) {
          const pattern = new RegExp("^" + node.path.replace(/[.*+?^${}()|\\]/g, "\\$&").replace(/\[\]/g, "\\[\\d+\\]") + "$");
          const entries = (run.steps || []).filter((step) => pattern.test(step.stepName));
          if (entries.some((step) => step.error)) return "failed";
          if ((run.waiting || []).some((name) => pattern.test(name))) return "waiting";
          if (entries.length > 0) return "done";
          return "pending";
        }

        function graph(steps, run) {
          return el("div", { class: "graph" }, steps.map((node) => {
            const state = run ? (node.durable ? stepState(node, run) : "") : "";
            return el("div", { class: "node " + state, "data-step": node.path, "data-state": state },
              node.id, el("span", { class: "kind" }, node.kind + (state ? " · " + state : "")),
              node.branches.length ? el("div", { class: "branches" }, node.branches.map((branch) =>
                el("div", { class: "branch" }, el("div", { class: "label" }, branch.name), graph(branch.steps, run)))) : null);
          }));
        }

        // The step tree of the version the run is pinned to: the one served, or an earlier one
        // (a run started before a deploy), read once per version; none for an SDK run.
        const versions = {};
        async function pinnedWorkflow(run, workflows) {
          const served = workflows.find((w) => w.name === run.workflow && w.version === run.definition);
          if (served || !run.definition) return served;
          const key = run.workflow + "@" + run.definition;
          if (!(key in versions)) {
            // Only an answer is kept: after a failure (a 503 for a moment) the next redraw asks again.
            const version = await api("GET", "/api/workflows/" + encodeURIComponent(run.workflow) + "/versions/" + encodeURIComponent(run.definition))
              .catch(() => undefined);
            if (!version) return undefined;
            versions[key] = version;
          }
          return versions[key];
        }

        async function runPage(id) {
          // The workflows' step trees do not change while the page is open: read once, not per refresh.
          const workflows = (await api("GET", "/api/workflows")).workflows;
          // What the last action came to: kept across the redraws it and the live feed cause.
          let lastNote = "";
          const render = async () => {
            const run = await api("GET", "/api/runs/" + encodeURIComponent(id));
            const workflow = await pinnedWorkflow(run, workflows);
            const actions = el("div", { class: "actions" });
            const note = el("span", { class: "muted", id: "action-note" }, lastNote);
            const act = async (label, work) => {
              try { note.textContent = label + "…"; await work(); lastNote = label + ": done"; await render(); }
              catch (error) { lastNote = note.textContent = label + " failed: " + error.message; }
            };
            if (run.status === "running") {
              actions.append(el("button", { class: "action danger", id: "cancel", onclick: () => act("Cancel", () =>
                api("DELETE", "/v2/workflows/runs/" + encodeURIComponent(id) + "?cancel=true")) }, "Cancel"));
              const event = el("input", { id: "event-name", placeholder: "event id", value: ((run.waits || [])[0] || {}).event || "" });
              const data = el("input", { id: "event-data", placeholder: "data (JSON)", value: "{}" });
              actions.append(event, data, el("button", { class: "action", id: "send-event", onclick: () => act("Send event", () =>
                api("POST", "/v2/notify/" + encodeURIComponent(id) + "/" + encodeURIComponent(event.value), JSON.parse(data.value || "null"))) },
                "Send event"));
            }
            if (run.status === "failed") {
              actions.append(el("button", { class: "action primary", id: "resume", onclick: () => act("Resume", () =>
                api("POST", "/v2/workflows/dlq/resume/dlq_" + encodeURIComponent(id))) }, "Resume"),
                el("button", { class: "action", id: "restart", onclick: () => act("Restart", async () => {
                  const answer = await api("POST", "/v2/workflows/dlq/restart/dlq_" + encodeURIComponent(id));
                  if (answer && answer.workflowRunId) location.hash = "#/runs/" + encodeURIComponent(answer.workflowRunId);
                }) }, "Restart"));
            }
            actions.append(note);
            const steps = el("tbody", {}, (run.steps || []).map((step) => el("tr", { "data-step": step.stepName },
              el("td", { class: "id" }, step.stepName), el("td", { class: "optional" }, step.stepType),
              el("td", {}, step.error ? el("span", { class: "error" }, step.error.message || JSON.stringify(step.error)) : json(step.out)))));
            let previous = null;
            const attempts = el("tbody", {}, (run.attempts || []).map((attempt) => {
              const took = new Date(attempt.finishedAt) - new Date(attempt.startedAt);
              previous = attempt;
              // Position -1: an attempt of a call step's request, which the engine makes between deliveries.
              return el("tr", {}, el("td", {}, attempt.position === -1 ? "call" : attempt.position), el("td", {}, attempt.attempt), el("td", {}, attempt.outcome),
                el("td", { class: "optional" }, when(attempt.startedAt)), el("td", {}, took + " ms"),
                el("td", { class: "optional" }, attempt.detail || ""));
            }));
            page("Run " + id,
              el("p", {}, badge(run.status), " ", run.workflow, run.label ? " · label " + run.label : "", " · started ", when(run.createdAt),
                " · updated ", when(run.updatedAt)),
              actions,
              run.error ? el("div", { class: "card error", id: "run-error" }, json(run.error)) : null,
              el("h2", {}, "Graph"), el("div", { class: "card", id: "graph" }, workflow ? graph(workflow.steps, run) : el("p", { class: "muted" }, "not a workflow of this server")),
              el("h2", {}, "Steps"), el("div", { class: "card" }, el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Step"),
                el("th", { class: "optional" }, "Type"), el("th", {}, "Result"))), steps)),
              (run.waiting || []).length ? el("p", { id: "waiting" }, "Waiting on: ", run.waiting.join(", ")) : null,
              (run.waits || []).length ? el("p", { id: "waits" }, "Events awaited: ",
                run.waits.map((wait) => wait.step + " waits for " + wait.event + " until " + when(wait.timeoutAt)).join("; ")) : null,
              el("h2", {}, "Deliveries"), el("div", { class: "card" }, el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "At step"),
                el("th", {}, "Try"), el("th", {}, "Outcome"), el("th", { class: "optional" }, "Started"), el("th", {}, "Took"),
                el("th", { class: "optional" }, "Detail"))), attempts)),
              el("h2", {}, "Input"), el("div", { class: "card" }, json(run.input)),
              el("h2", {}, "Output"), el("div", { class: "card", id: "output" }, json(run.output)));
            if (run.status === "running") live("/api/runs/" + encodeURIComponent(id) + "/events", render, run.status);
            else quiet();
          };
          await render();
        }

        async function schedulesPage() {
          const schedules = await api("GET", "/v2/schedules");
          page("Schedules", el("div", { class: "card" }, el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Schedule"),
            el("th", {}, "Cron"), el("th", { class: "optional" }, "Zone"), el("th", {}, "Next tick"), el("th", { class: "optional" }, "Last tick"))),
            el("tbody", {}, schedules.map((schedule) => el("tr", {},
              el("td", { class: "id" }, schedule.scheduleId || schedule.workflow || schedule.destination),
              el("td", {}, schedule.cron), el("td", { class: "optional" }, schedule.timezone || "UTC"),
              el("td", {}, when(schedule.nextFireAt || schedule.nextScheduleTime)),
              el("td", { class: "optional" }, when(schedule.lastFireAt || schedule.lastScheduleTime))))))));
        }

        async function workflowsPage() {
          const workflows = (await api("GET", "/api/workflows")).workflows;
          page("Workflows", ...workflows.map((workflow) => el("div", { class: "card", "data-workflow": workflow.name },
            el("h2", {}, workflow.name), el("p", { class: "muted" }, "version " + workflow.version.slice(0, 12),
              workflow.description ? " · " + workflow.description : ""),
            el("a", { href: "#/runs?workflow=" + encodeURIComponent(workflow.name) }, "runs"), graph(workflow.steps, null))));
        }

        async function route() {
          quiet();
          const hash = location.hash || "#/runs";
          const [path, query] = hash.slice(1).split("?");
          try {
            if (path.startsWith("/runs/")) await runPage(decodeURIComponent(path.slice(6)));
            else if (path === "/schedules") await schedulesPage();
            else if (path === "/workflows") await workflowsPage();
            else await runsPage(query || "");
            document.getElementById("nav").hidden = false;
          } catch (error) {
            if (error.message !== "sign in first") page("Something went wrong", el("p", { class: "error" }, error.message));
          }
        }

        document.addEventListener("DOMContentLoaded", () => {
          document.getElementById("sign-out").addEventListener("click", async () => {
            await fetch("/dashboard/session", { method: "DELETE", credentials: "same-origin" });
            showSignIn();
          });
          window.addEventListener("hashchange", route);
          route();
        });
        """#
}
