/// The dashboard's page and style: one page the script fills in (`DashboardScript`).
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Stepwise</title>
        <link rel="icon" href="/dashboard/icon.svg" type="image/svg+xml">
        <link rel="stylesheet" href="/dashboard/app.css">
        <script src="/dashboard/app.js" defer></script>
        </head>
        <body>
        <header>
          <a class="brand" href="#/runs">Stepwise</a>
          <nav id="nav" hidden>
            <a href="#/runs">Runs</a><a href="#/schedules">Schedules</a><a href="#/workflows">Workflows</a>
            <button id="sign-out" type="button">Sign out</button>
          </nav>
        </header>
        <main id="main"><p class="muted">Loading…</p></main>
        </body>
        </html>
        """#

    /// The tab's icon: three steps, in the header's colours; a page without one makes the
    /// browser ask for `/favicon.ico`, which only logs an error.
    static let icon = #"""
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#24292f"/>
        <rect x="3" y="10" width="4" height="3" fill="#1a7f37"/><rect x="6" y="6.5" width="4" height="3" fill="#0969da"/>
        <rect x="9" y="3" width="4" height="3" fill="#fff"/></svg>
        """#

    static let css = #"""
        :root { --ok: #1a7f37; --bad: #cf222e; --run: #0969da; --wait: #9a6700; --muted: #6e7781; --line: #d0d7de; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #f6f8fa; }
        header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; padding: 10px 16px; background: #24292f; }
        header a { color: #fff; text-decoration: none; }
        .brand { font-weight: 700; margin-right: auto; }
        nav { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; }
        nav button { background: none; border: 1px solid #57606a; color: #fff; border-radius: 6px; padding: 2px 10px; cursor: pointer; }
        main { max-width: 1100px; margin: 0 auto; padding: 16px; }
        h1 { font-size: 20px; margin: 4px 0 12px; word-break: break-all; }
        h2 { font-size: 16px; margin: 20px 0 8px; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; margin-bottom: 12px; overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: 12px; text-transform: uppercase; color: var(--muted); }
        td.id { font-family: ui-monospace, monospace; font-size: 13px; word-break: break-all; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; }
        .succeeded, .done { background: var(--ok); } .failed { background: var(--bad); } .running { background: var(--run); }
        .canceled, .pending { background: var(--muted); } .waiting { background: var(--wait); }
        .filters, .actions { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 12px; align-items: center; }
        select, input, textarea, button.action { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
        button.action { cursor: pointer; } button.primary { background: var(--run); color: #fff; border-color: var(--run); }
        button.danger { color: var(--bad); }
        pre { margin: 0; white-space: pre-wrap; word-break: break-word; font: 13px/1.4 ui-monospace, monospace; }
        .muted { color: var(--muted); } .error { color: var(--bad); }
        .graph { display: flex; flex-direction: column; gap: 6px; }
        .node { border: 2px solid var(--line); border-radius: 6px; padding: 4px 8px; background: #fff; }
        .node.done { border-color: var(--ok); background: #dafbe1; } .node.failed { border-color: var(--bad); background: #ffebe9; }
        .node.waiting { border-color: var(--wait); background: #fff8c5; } .node.pending { color: var(--muted); }
        .node .kind { font-size: 12px; color: var(--muted); margin-left: 6px; }
        .branches { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 6px; }
        .branch { flex: 1 1 180px; border-left: 3px solid var(--line); padding-left: 8px; }
        .branch > .label { font-size: 12px; color: var(--muted); }
        form.signin { max-width: 420px; display: flex; flex-direction: column; gap: 10px; }
        @media (max-width: 600px) { th.optional, td.optional { display: none; } main { padding: 8px; } }
        """#
}
