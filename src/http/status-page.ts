// The status page served at `/`: one HTML shell, one script, one stylesheet, all from the agent
// (no CDN, works offline). The shell holds no data and no token; the script asks for the token
// once (kept in sessionStorage), reads /status and follows /events for live changes.
// Over 400 lines: the page is served as one self-contained document (no build step, no CDN), so its
// markup, style and script sit together; each section's render function is short.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edge-agent status</title>
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body>
<header>
  <h1>edge-agent <span id="gw"></span></h1>
  <div class="meta"><span id="health" class="badge">…</span> <span id="live" class="badge off">connecting</span> <span id="uptime"></span></div>
</header>
<form id="login" hidden>
  <label for="token">API token (http.token)</label>
  <input id="token" type="password" autocomplete="current-password" required>
  <button type="submit">Open</button>
  <p id="login-error" class="err" role="alert"></p>
</form>
<main id="main" hidden>
  <section id="alarms-section">
    <h2>Active alarms <span id="alarm-count" class="count">0</span></h2>
    <div class="scroll"><table id="alarms">
      <thead><tr><th>Level</th><th>Alarm</th><th>Device</th><th>Status</th><th>Since</th><th>Work order</th></tr></thead>
      <tbody></tbody>
    </table></div>
    <p id="no-alarms" class="muted">No active alarm.</p>
  </section>
  <section id="repeats-section" hidden>
    <h2>Silenced repeats <span id="repeat-count" class="count">0</span></h2>
    <p class="muted">New episodes within their rule's period, counted on the alarm they repeat and not sent upstream (last 24 h).</p>
    <div class="scroll"><table id="repeats">
      <thead><tr><th>Alarm</th><th>Device</th><th>Repeats</th><th>Last repeat</th><th>Raised</th></tr></thead>
      <tbody></tbody>
    </table></div>
  </section>
  <section>
    <h2>Devices <span id="device-count" class="count">0</span></h2>
    <p id="device-pager" class="pager" hidden><button id="devices-prev" type="button">&lsaquo; previous</button> <span id="devices-range" class="muted"></span> <button id="devices-next" type="button">next &rsaquo;</button></p>
    <div id="devices" class="cards"></div>
  </section>
  <div class="two">
    <section>
      <h2>Outbox</h2>
      <dl id="outbox" class="kv"></dl>
      <ul id="outbox-errors" class="errors"></ul>
    </section>
    <section>
      <h2>Hooks</h2>
      <div class="scroll"><table id="hooks"><thead><tr><th>Hook</th><th>State</th><th>Errors</th><th>Timeouts</th></tr></thead><tbody></tbody></table></div>
    </section>
  </div>
  <section>
    <h2>Rules <span id="rule-count" class="count">0</span></h2>
    <ul id="rule-files" class="plain"></ul>
    <ul id="rule-problems" class="errors"></ul>
  </section>
  <section id="tasks-section" hidden>
    <h2>Tasks <span id="task-count" class="count">0</span></h2>
    <div class="scroll"><table id="tasks"><thead><tr><th>Task</th><th>Schedule</th><th>Enabled</th><th>Next run</th><th>Last run</th><th></th></tr></thead><tbody id="task-rows"></tbody></table></div>
    <ul id="task-problems" class="errors"></ul>
  </section>
  <section id="notify-section" hidden>
    <h2>Recipient groups <span id="notify-count" class="count">0</span></h2>
    <div class="scroll"><table id="notify-groups"><thead><tr><th>Group</th><th>Users</th><th>Principals</th><th>Delay</th><th></th></tr></thead><tbody id="notify-rows"></tbody></table></div>
    <p id="notify-summary" class="muted"></p>
    <ul id="notify-results" class="plain"></ul>
  </section>
  <section id="kpis-section" hidden>
    <h2>KPIs</h2>
    <div class="scroll"><table id="kpis"><thead><tr><th>KPI</th><th>Today</th><th>Month</th><th>Year</th></tr></thead><tbody id="kpi-rows"></tbody></table></div>
  </section>
</main>
<footer class="muted">Served by the agent itself; no internet access needed.</footer>
</body>
</html>
`;

export const PAGE_CSS = `:root{--bg:#f6f7f9;--fg:#1b1f24;--card:#fff;--muted:#69727d;--line:#dde1e6;--ok:#1a7f37;--warn:#b26b00;--bad:#c62828;--info:#1f6feb}
@media (prefers-color-scheme:dark){:root{--bg:#111417;--fg:#e6e8eb;--card:#1a1e23;--muted:#9aa4af;--line:#2c333b}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.75rem 1rem;background:var(--card);border-bottom:1px solid var(--line);position:sticky;top:0;z-index:1}
h1{font-size:1.15rem;margin:0}h2{font-size:1rem;margin:0 0 .5rem}
main,form,footer{padding:1rem;max-width:1200px;margin:0 auto}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.75rem 1rem;margin-bottom:1rem}
.two{display:grid;grid-template-columns:1fr;gap:0 1rem}@media (min-width:800px){.two{grid-template-columns:1fr 1fr}}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:999px;font-size:.8rem;border:1px solid var(--line)}
.badge.ok,.st-online{color:#fff;background:var(--ok);border-color:var(--ok)}
.badge.bad,.badge.off,.st-offline{color:#fff;background:var(--bad);border-color:var(--bad)}
.st-alarm{color:#fff;background:var(--warn);border-color:var(--warn)}.st-maintenance{color:#fff;background:var(--info)}
.st-unknown{color:var(--muted);border-style:dashed}.pager button{font:inherit;padding:.2rem .6rem}
.count{font-weight:normal;color:var(--muted)}
.muted{color:var(--muted)}.err{color:var(--bad)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.8rem;color:var(--muted);font-weight:600}
tr.s2 td:first-child{border-left:4px solid var(--bad)}tr.s1 td:first-child{border-left:4px solid var(--warn)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:.75rem}
.card{border:1px solid var(--line);border-radius:6px;padding:.5rem .75rem}
.card h3{font-size:.95rem;margin:0 0 .25rem;display:flex;justify-content:space-between;align-items:flex-start;gap:.5rem}.card h3 .badge{white-space:nowrap}
.kv{display:grid;grid-template-columns:auto 1fr;gap:.15rem .75rem;margin:0}.kv dt{color:var(--muted)}.kv dd{margin:0;font-variant-numeric:tabular-nums}
.values{font-size:.85rem}.maint{margin-top:.4rem;font-size:.85rem}.maint-btn{font:inherit;font-size:.8rem;margin-top:.2rem}.badge.suppressed{font-size:.75rem}
ul.errors{padding-left:1.1rem;margin:.5rem 0 0;color:var(--bad);font-size:.85rem}ul.plain{padding-left:1.1rem;margin:0}
form label{display:block;margin-bottom:.25rem}form input{font:inherit;padding:.4rem;width:min(100%,24rem)}form button{font:inherit;padding:.4rem .9rem;margin-left:.25rem}
@media (max-width:520px){body{font-size:14px}th:nth-child(5),td:nth-child(5){display:none}}
`;

export const PAGE_JS = `"use strict";
(function () {
  var KEY = "edge-agent-token";
  // Keyed by ids that come from devices: objects without a prototype, so "__proto__" or
  // "constructor" are ordinary ids. Devices come a page at a time (/status?devicesOffset=).
  var state = { devices: Object.create(null), alarms: Object.create(null), status: null, skew: 0, offset: 0 };
  var token = sessionStorage.getItem(KEY) || "";
  var $ = function (id) { return document.getElementById(id); };

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) for (var k in attrs) { if (k === "text") el.textContent = attrs[k]; else el.setAttribute(k, attrs[k]); }
    for (var i = 2; i < arguments.length; i++) { var c = arguments[i]; if (c != null) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c); }
    return el;
  }
  function headers() { return token ? { Authorization: "Bearer " + token } : {}; }
  function ago(ms) {
    if (ms == null) return "never";
    var s = Math.max(0, Math.round((Date.now() + state.skew - ms) / 1000));
    return s < 60 ? s + " s ago" : s < 3600 ? Math.round(s / 60) + " min ago" : Math.round(s / 3600) + " h ago";
  }
  function fmt(v) { return typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v !== null && typeof v === "object" ? JSON.stringify(v) : String(v); }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

  function showLogin(msg) {
    $("main").hidden = true; $("login").hidden = false; $("login-error").textContent = msg || "";
    $("token").focus();
  }
  $("login").addEventListener("submit", function (e) {
    e.preventDefault(); token = $("token").value.trim(); sessionStorage.setItem(KEY, token); start();
  });

  function loadStatus() {
    return fetch("/status?devicesOffset=" + state.offset, { headers: headers(), cache: "no-store" }).then(function (r) {
      if (r.status === 401) { sessionStorage.removeItem(KEY); showLogin(token ? "That token was refused." : ""); throw new Error("unauthorized"); }
      return r.json();
    }).then(function (body) {
      var d = body.data; state.status = d; state.skew = d.gateway.now - Date.now(); state.devices = Object.create(null); state.alarms = Object.create(null);
      d.devices.forEach(function (x) { state.devices[x.id] = x; });
      d.alarms.active.forEach(function (a) { state.alarms[a.id] = a; });
      state.recurring = d.alarms.recurring || [];
      $("login").hidden = true; $("main").hidden = false;
      renderAll(); loadMaintenance(); loadRecipients();
    });
  }

  function renderAll() { renderHeader(); renderAlarms(); renderRepeats(); renderDevices(); renderOutbox(); renderHooks(); renderRules(); renderKpis(); renderTasks(); }
  function renderHeader() {
    var s = state.status; if (!s) return;
    $("gw").textContent = s.gateway.id + " · v" + s.gateway.version;
    var hl = $("health"); hl.textContent = s.health.ok ? "healthy" : "degraded: " + Object.keys(s.health.parts).filter(function (k) { return !s.health.parts[k].ok; }).join(", ");
    hl.className = "badge " + (s.health.ok ? "ok" : "bad");
    $("uptime").textContent = "up " + Math.round(s.gateway.uptimeS / 60) + " min";
  }
  function renderAlarms() {
    var list = Object.keys(state.alarms).map(function (k) { return state.alarms[k]; })
      .sort(function (a, b) { return b.status - a.status || b.level - a.level || b.created - a.created; });
    var tb = clear($("alarms").tBodies[0]);
    list.forEach(function (a) {
      var dev = a.resource || a.device || {};
      tb.appendChild(h("tr", { "class": "s" + a.status, "data-alarm-id": a.id },
        h("td", { text: String(a.level) }), h("td", null, h("strong", { text: a.title || a.name }), h("div", { "class": "muted", text: a.message || "" }),
          a.suppressed ? h("div", { "class": "badge suppressed", text: "kept local: " + a.suppressed }) : null),
        h("td", { text: dev.name ? dev.name + " (" + dev.id + ")" : dev.id || "" }),
        h("td", { text: a.status === 2 ? "alarm" : "pre-warning" }), h("td", { text: ago(a.created) }),
        h("td", { text: a.workOrderId || "—" })));
    });
    $("alarm-count").textContent = String(list.length);
    $("no-alarms").hidden = list.length > 0;
  }
  function renderRepeats() {
    var list = state.recurring || []; var tb = clear($("repeats").tBodies[0]);
    list.forEach(function (a) {
      var dev = a.device || a.resource || {};
      tb.appendChild(h("tr", { "data-alarm-id": a.id },
        h("td", null, h("strong", { text: a.title || a.name }), h("div", { "class": "muted", text: a.id })),
        h("td", { text: dev.name ? dev.name + " (" + dev.id + ")" : dev.id || "" }),
        h("td", { "class": "repeats", text: String(a.recurrences || 0) }), h("td", { text: ago(a.lastRecurrence) }), h("td", { text: ago(a.created) })));
    });
    $("repeat-count").textContent = String(list.length);
    $("repeats-section").hidden = list.length === 0;
  }
  function renderDevices() {
    var box = clear($("devices")); var ids = Object.keys(state.devices).sort();
    ids.forEach(function (id) {
      var d = state.devices[id]; var dl = h("dl", { "class": "kv values" });
      Object.keys(d.values || {}).sort().forEach(function (k) { dl.appendChild(h("dt", { text: k })); dl.appendChild(h("dd", { text: fmt(d.values[k]) })); });
      box.appendChild(h("div", { "class": "card", "data-device-id": id },
        h("h3", null, h("span", { text: d.name ? d.name + " · " + id : id }), h("span", { "class": "badge st-" + d.status, text: d.status })),
        h("div", { "class": "muted", text: d.product + " · " + d.source + " · seen " + ago(d.lastSeen) }), dl,
        d.valuesTruncated ? h("div", { "class": "muted more-values", text: "… and " + d.valuesTruncated + " more values (not shown)" }) : null,
        maintenanceControl(id)));
    });
    var s = state.status; var total = s && s.devicesTotal != null ? s.devicesTotal : ids.length;
    $("device-count").textContent = String(total);
    var paged = total > ids.length || state.offset > 0;
    $("device-pager").hidden = !paged;
    if (paged) {
      $("devices-range").textContent = (ids.length ? state.offset + 1 : 0) + "–" + (state.offset + ids.length) + " of " + total;
      $("devices-prev").disabled = state.offset === 0;
      $("devices-next").disabled = state.offset + ids.length >= total;
    }
  }
  // Maintenance switched at run time: one button per device; the config's maintenance cannot be switched off here.
  function loadMaintenance() {
    return fetch("/device/maintenance/list", { headers: headers(), cache: "no-store" }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body || !body.data) return;
        state.maintenance = Object.create(null); body.data.devices.forEach(function (m) { state.maintenance[m.did] = m; }); renderDevices();
      }).catch(function () {});
  }
  function durationMs(s) {
    var m = /^(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m)?$/.exec(s); if (!m || !s) return null;
    return ((+(m[1] || 0) * 24 + +(m[2] || 0)) * 60 + +(m[3] || 0)) * 60000 || null;
  }
  function maintenanceControl(id) {
    var m = state.maintenance && state.maintenance[id];
    var box = h("div", { "class": "maint" });
    if (m) box.appendChild(h("div", { "class": "muted maint-info", text: "maintenance" + (m.reason ? ": " + m.reason : "") + (m.until ? " · until " + new Date(m.until - state.skew).toLocaleString() : "") + (m.origin === "config" ? " (config file)" : " · by " + m.by) }));
    var btn = h("button", { type: "button", "class": "maint-btn", "data-maintenance": m ? "off" : "on", text: m ? "Maintenance off" : "Maintenance on" });
    if (m && m.origin === "config") { btn.disabled = true; btn.title = "Set in the config file (devices." + id + ".maintenance): remove it there to end it"; }
    btn.addEventListener("click", function () { switchMaintenance(id, !m); });
    box.appendChild(btn); return box;
  }
  function switchMaintenance(id, on) {
    var body = { did: id, on: on, by: "page" };
    if (on) {
      var reason = window.prompt("Maintenance of " + id + ": reason (e.g. panel work)", ""); if (reason === null) return;
      var dur = window.prompt("Ends by itself after (e.g. 2h, 30m, 1d2h); empty: until switched off", ""); if (dur === null) return;
      body.reason = reason; dur = dur.trim();
      if (dur) { var ms = durationMs(dur); if (ms === null) { window.alert("Not a duration: " + dur + " (use e.g. 2h, 30m, 1d)"); return; } body.until = Date.now() + state.skew + ms; }
    }
    var hd = headers(); hd["Content-Type"] = "application/json";
    fetch("/device/maintenance", { method: "POST", headers: hd, body: JSON.stringify(body) }).then(function (r) { return r.json(); })
      .then(function (res) { if (res.code !== 0) window.alert("Maintenance of " + id + " refused: " + res.message); loadMaintenance(); loadStatus().catch(function () {}); })
      .catch(function (e) { window.alert("Maintenance of " + id + " failed: " + e.message); });
  }
  function pageLimit() { return (state.status && state.status.devicesLimit) || 200; }
  $("devices-prev").addEventListener("click", function () { state.offset = Math.max(0, state.offset - pageLimit()); loadStatus().catch(function () {}); });
  $("devices-next").addEventListener("click", function () { state.offset += pageLimit(); loadStatus().catch(function () {}); });
  function renderOutbox() {
    var o = state.status && state.status.outbox; var dl = clear($("outbox")); var ul = clear($("outbox-errors"));
    if (!o) { dl.appendChild(h("dt", { text: "upstream" })); dl.appendChild(h("dd", { text: "not configured" })); return; }
    [["pending", o.pending], ["oldest pending", o.oldestPendingAgeS + " s"], ["dead letters", o.deadLetters], ["delivered", o.delivered], ["dropped", o.dropped], ["delivery", o.paused ? "PAUSED (credentials refused)" : "running"]]
      .forEach(function (p) { dl.appendChild(h("dt", { text: p[0] })); dl.appendChild(h("dd", { text: String(p[1]) })); });
    var d = o.lastDeadLetter;
    if (d) {
      var answer = d.code !== undefined ? "code " + d.code + (d.msg ? ": " + d.msg : "") + " — " : "";
      dl.appendChild(h("dt", { text: "last dead letter" }));
      dl.appendChild(h("dd", { id: "outbox-last-dead", text: "#" + d.seq + " " + d.kind + (d.alarmId ? " (alarm " + d.alarmId + ")" : "") + ": " + answer + (d.error || "") + " (" + ago(d.at) + "; edge-agent outbox retry " + d.seq + ")" }));
    }
    // Notifications per channel: waiting, sent, settled without sending, refused for good.
    var n = o.notifications || {};
    Object.keys(n).forEach(function (ch) {
      var c = n[ch];
      dl.appendChild(h("dt", { text: "notify " + ch }));
      dl.appendChild(h("dd", { "data-notify-channel": ch, text: "pending " + c.pending + ", sent " + c.sent + ", skipped " + c.skipped + ", failed " + c.failed }));
    });
    Object.keys(o.lastErrors || {}).forEach(function (k) { var e = o.lastErrors[k]; if (e) ul.appendChild(h("li", { text: k + ": " + e.message + " (" + ago(e.at) + ")" })); });
  }
  function renderHooks() {
    var tb = clear($("hooks").tBodies[0]); var hooks = (state.status && state.status.hooks) || [];
    if (hooks.length === 0) tb.appendChild(h("tr", null, h("td", { colspan: "4", "class": "muted", text: "No hook loaded." })));
    hooks.forEach(function (x) {
      tb.appendChild(h("tr", { title: x.lastError || "", "data-hook": x.name }, h("td", { text: x.name }), h("td", { text: x.state }), h("td", { text: String(x.errors) }), h("td", { text: String(x.timeouts) })));
    });
  }
  function renderKpis() {
    var k = (state.status && state.status.kpisByPeriod) || { today: {}, month: {}, year: {} }; var names = {};
    ["today", "month", "year"].forEach(function (p) { Object.keys(k[p] || {}).forEach(function (n) { names[n] = true; }); });
    var tb = clear($("kpi-rows")); var list = Object.keys(names).sort();
    list.forEach(function (n) {
      var cell = function (p) { var v = (k[p] || {})[n]; return h("td", { text: v === undefined ? "—" : fmt(v) }); };
      tb.appendChild(h("tr", { "data-kpi": n }, h("td", { text: n }), cell("today"), cell("month"), cell("year")));
    });
    $("kpis-section").hidden = list.length === 0;
  }
  function renderRules() {
    var r = state.status && state.status.rules; if (!r) return;
    $("rule-count").textContent = String(r.count);
    var ul = clear($("rule-files")); r.files.forEach(function (f) { ul.appendChild(h("li", { text: f.file + " — " + f.rules + " rule(s)" })); });
    var pl = clear($("rule-problems")); r.problems.forEach(function (p) { pl.appendChild(h("li", { text: p.file + ": " + p.path + ": " + p.message })); });
    // A rule naming a recipient group this agent does not have: its alarms tell nobody.
    ((state.status.notify || {}).unknownRecipients || []).forEach(function (u) { pl.appendChild(h("li", { text: "rule " + u.rule + ": recipient " + u.recipient + " unknown: nobody is told" })); });
  }

  // Scheduled tasks: one row each, "Run now" starts a manual run (POST /task/run).
  function when(t) { return t == null ? "—" : new Date(t - state.skew).toLocaleString(); }
  function schedText(s) { return s.every != null ? "every " + s.every + " s" : s.cron != null ? "cron " + s.cron : "at " + (s.times || []).join(", ") + (s.days ? " (days " + s.days.join(",") + ")" : ""); }
  function renderTasks() {
    var t = state.status && state.status.tasks; $("tasks-section").hidden = !t; if (!t) return;
    $("task-count").textContent = String(t.count);
    var tb = clear($("task-rows"));
    if (t.tasks.length === 0) tb.appendChild(h("tr", null, h("td", { colspan: "6", "class": "muted", text: "No task in force." })));
    t.tasks.forEach(function (x) {
      var btn = h("button", { type: "button", "class": "run-task", "data-task-run": x.id, text: "Run now" });
      btn.addEventListener("click", function () { runTask(x.id, btn); });
      var last = x.lastRun ? when(x.lastRun.started) + " · " + x.lastRun.status : "never";
      tb.appendChild(h("tr", { "data-task-id": x.id, title: x.file }, h("td", { text: x.name + (x.name !== x.id ? " (" + x.id + ")" : "") }),
        h("td", { text: schedText(x.schedule) + (x.timezone ? " " + x.timezone : "") }), h("td", { text: x.isEnable ? "yes" : "no" }),
        h("td", { text: x.isEnable ? when(x.nextRun) : "—" }), h("td", { "class": x.lastRun && x.lastRun.status !== "ok" && x.lastRun.status !== "running" ? "bad" : "", text: last }), h("td", null, btn)));
    });
    var pl = clear($("task-problems")); t.problems.forEach(function (p) { pl.appendChild(h("li", { text: p.file + ": " + p.path + ": " + p.message })); });
  }
  function runTask(id, btn) {
    var hd = headers(); hd["Content-Type"] = "application/json"; btn.disabled = true;
    fetch("/task/run", { method: "POST", headers: hd, body: JSON.stringify({ id: id }) }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) { if (!res.ok) window.alert("Run of " + id + " refused: " + res.body.message); btn.disabled = false; refreshSoon(); })
      .catch(function (e) { btn.disabled = false; window.alert("Run of " + id + " failed: " + e.message); });
  }

  // Recipient groups with a "Send test" button each (POST /notify/test): the results, one line per person and channel.
  function loadRecipients() {
    return fetch("/recipient/list?limit=1000", { headers: headers(), cache: "no-store" }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { renderRecipients((body && (body.recipients || (body.data && body.data.recipients))) || []); }).catch(function () {});
  }
  function renderRecipients(groups) {
    $("notify-section").hidden = groups.length === 0; $("notify-count").textContent = String(groups.length);
    var tb = clear($("notify-rows"));
    groups.forEach(function (g) {
      var btn = h("button", { type: "button", "class": "notify-test", "data-notify-test": g.id, text: "Send test" });
      btn.addEventListener("click", function () { sendTest(g.id, btn); });
      tb.appendChild(h("tr", { "data-recipient-id": g.id }, h("td", { text: g.name + (g.name !== g.id ? " (" + g.id + ")" : "") }),
        h("td", { text: String((g.users || []).length) }), h("td", { text: String((g.principals || []).length) }), h("td", { text: (g.delay || 0) + " s" }), h("td", null, btn)));
    });
  }
  function sendTest(id, btn) {
    var hd = headers(); hd["Content-Type"] = "application/json"; btn.disabled = true;
    $("notify-summary").textContent = "Sending a test message to " + id + "…"; clear($("notify-results"));
    fetch("/notify/test", { method: "POST", headers: hd, body: JSON.stringify({ recipient: id }) }).then(function (r) { return r.json(); })
      .then(function (res) {
        btn.disabled = false;
        if (res.code !== 0) { $("notify-summary").textContent = "Test of " + id + " refused: " + res.message; return; }
        var list = res.data.results; var bad = list.filter(function (x) { return !x.ok; }).length;
        $("notify-summary").textContent = "Test of " + id + ": " + (list.length - bad) + " sent, " + bad + " failed";
        var ul = $("notify-results");
        list.forEach(function (x) {
          var who = x.userId ? (x.realname ? x.realname + " (" + x.userId + ")" : x.userId) : "robot";
          ul.appendChild(h("li", { "class": x.ok ? "" : "err", "data-notify-result": x.ok ? "ok" : "failed", text: who + " · " + x.channel + " · " + (x.to || "-") + ": " + (x.ok ? "ok" : "FAILED " + (x.code != null ? x.code + ": " : "") + (x.message || "")) }));
        });
      })
      .catch(function (e) { btn.disabled = false; $("notify-summary").textContent = "Test of " + id + " failed: " + e.message; });
  }

  var refreshTimer = null;
  function refreshSoon() { if (refreshTimer) return; refreshTimer = setTimeout(function () { refreshTimer = null; loadStatus().catch(function () {}); }, 700); }
  function onEvent(name, data) {
    if (name === "alarm") {
      if (data.alarm.status > 0) state.alarms[data.alarm.id] = data.alarm; else delete state.alarms[data.alarm.id];
      renderAlarms(); refreshSoon();
    } else if (name === "devices") {
      // A device not on this page is not added (a full page stays as it is; the 10 s poll brings new devices).
      var shown = Object.keys(state.devices).length;
      data.devices.forEach(function (d) { if (state.devices[d.id]) state.devices[d.id] = d; else if (shown < pageLimit()) { state.devices[d.id] = d; shown++; } }); renderDevices();
    } else if (name === "rules") { refreshSoon(); }
  }
  function setLive(on) { var el = $("live"); el.textContent = on ? "live" : "reconnecting"; el.className = "badge " + (on ? "ok" : "off"); }

  // fetch-based event stream: lets the token travel in the Authorization header (EventSource cannot).
  var streamAbort = null;
  function connect() {
    if (streamAbort) streamAbort.abort();
    var ctrl = new AbortController(); streamAbort = ctrl;
    fetch("/events", { headers: headers(), cache: "no-store", signal: ctrl.signal }).then(function (r) {
      if (!r.ok || !r.body) throw new Error("events " + r.status);
      setLive(true);
      var reader = r.body.getReader(); var dec = new TextDecoder(); var buf = "";
      function pump() {
        return reader.read().then(function (x) {
          if (x.done) throw new Error("stream ended");
          buf += dec.decode(x.value, { stream: true });
          var i;
          while ((i = buf.indexOf("\\n\\n")) >= 0) {
            var block = buf.slice(0, i); buf = buf.slice(i + 2);
            var ev = "message", data = "";
            block.split("\\n").forEach(function (line) {
              if (line.indexOf("event: ") === 0) ev = line.slice(7);
              else if (line.indexOf("data: ") === 0) data += line.slice(6);
            });
            if (data) { try { onEvent(ev, JSON.parse(data)); } catch (e) { console.error(e); } }
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      if (ctrl.signal.aborted) return;
      setLive(false); setTimeout(function () { connect(); loadStatus().catch(function () {}); }, 2000);
    });
  }

  var pollTimer = null;
  function start() {
    loadStatus().then(function () {
      connect();
      if (!pollTimer) pollTimer = setInterval(function () { loadStatus().catch(function () {}); }, 10000);
    }).catch(function (e) { if (e.message !== "unauthorized") { setLive(false); setTimeout(start, 3000); } });
  }
  start();
})();
`;
