// Passback gradebook widget: plain JavaScript over the GraphQL API, nothing else loaded.
"use strict";

const $ = (id) => document.getElementById(id);
const STATUS = {
  NOT_SYNCED: "Not synced", IN_PROGRESS: "In progress", SUCCESSFUL: "Successful",
  UPDATES_AVAILABLE: "Updates available", ERROR: "Error", OPT_OUT: "Opt out",
};
const state = { token: null, sections: [], section: null, after: null, streams: [], searchTimer: null, mapEdits: {}, launchedSections: [] };

// ---- API -------------------------------------------------------------------------------------

class APIError extends Error {
  constructor(message, code) { super(message); this.code = code; }
}

// The widget's GraphQL documents (documents/*.graphql) by name, each with its SHA-256, as the
// server lists them: requests carry the hash, not the text (the server may run only documents it knows).
let documents = null;

async function loadDocuments() {
  if (documents) return documents;
  let response;
  try {
    response = await fetch("/widget/documents.json");
  } catch (e) {
    throw new APIError("Passback cannot be reached. Check your connection and try again.", "NETWORK");
  }
  if (!response.ok) throw new APIError(`Passback did not send the widget's files (HTTP ${response.status}). Reload the page; if it goes on, tell your administrator.`, "WIDGET");
  documents = await response.json();
  return documents;
}

function persisted(name) {
  // A page loaded before Passback was upgraded may name a document the server no longer lists.
  if (!documents[name]) throw new APIError("Passback has been updated since this page was loaded. Reload the page.", "WIDGET");
  return { persistedQuery: { version: 1, sha256Hash: documents[name].sha256Hash } };
}

/** Runs the document `name` (documents/NAME.graphql) by its hash; sends its text only if the server asks for it. */
async function gql(name, variables = {}) {
  await loadDocuments();
  let response, body;
  for (const withText of [false, true]) {
    try {
      response = await fetch("/graphql", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${state.token}` },
        body: JSON.stringify({ ...(withText ? { query: documents[name].query } : {}), variables, extensions: persisted(name) }),
      });
    } catch (e) {
      throw new APIError("Passback cannot be reached. Check your connection and try again.", "NETWORK");
    }
    body = await response.json().catch(() => ({}));
    const code = body.errors && body.errors.length && body.errors[0].extensions && body.errors[0].extensions.code;
    if (code !== "PERSISTED_QUERY_NOT_FOUND") break;
  }
  if (response.status === 401) {
    signOut("Your token is not valid any more (unknown, expired or revoked). Ask your administrator for a new one.");
    throw new APIError("signed out", "UNAUTHENTICATED");
  }
  if (body.errors && body.errors.length) {
    const e = body.errors[0];
    throw new APIError(e.message, e.extensions && e.extensions.code);
  }
  return body.data;
}

/** Throws the first user error of a mutation payload, so callers show it. */
function check(payload) {
  if (payload && payload.userErrors && payload.userErrors.length) throw new APIError(payload.userErrors.map((e) => e.message).join(" "), "USER");
  return payload;
}

/**
 * A subscription, read from /graphql/stream as server-sent events. It is a fetch with the token
 * in its Authorization header (an EventSource can send no header, so its token would travel in
 * the URL, where logs and proxies keep it).
 *
 * A subscription that ends by itself (a run's progress) ends at the server's `complete`; one that
 * does not (`reconnect` given: a section's statuses) is opened again after a `complete` (the
 * server ends streams after an hour, and when it restarts) and after a cut (the network), after a
 * pause of 1 s doubling to 30 s while it keeps failing, as an EventSource would; once the new
 * stream is open `reconnect` reads again what was missed meanwhile. A refusal ends it: an HTTP
 * error, an answer that is not a stream (a subscription refused), or an `UNAUTHENTICATED` event.
 * `close()` stops it.
 */
function subscribe(name, variables, onData, onComplete, reconnect) {
  const controller = new AbortController();
  const stream = { close: () => controller.abort() };
  const finish = () => { if (!controller.signal.aborted && onComplete) onComplete(); };
  let failures = 0, again = false;
  // One connection: "refused" (the server said no), "complete" (the server ended it) or "cut".
  const connect = async () => {
    const response = await fetch("/graphql/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream", Authorization: `Bearer ${state.token}` },
      body: JSON.stringify({ extensions: persisted(name), variables }),
      signal: controller.signal,
    });
    if (response.status >= 400 && response.status < 500) return "refused";
    if (!response.ok || !response.body) return "cut";
    if (!(response.headers.get("Content-Type") || "").startsWith("text/event-stream")) return "refused";
    // Open again: what changed while it was not is read now, with the stream already listening.
    if (again && reconnect) reconnect();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return "cut";
      // Something came: the stream works, and a later cut starts from the shortest pause.
      failures = 0;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const lines = buffer.slice(0, end).split("\n");
        buffer = buffer.slice(end + 2);
        const event = lines.find((l) => l.startsWith("event:"))?.slice(6).trim() || "message";
        const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n");
        if (event === "next" && data) {
          const result = JSON.parse(data);
          if (result.errors && result.errors.some((e) => e.extensions && e.extensions.code === "UNAUTHENTICATED")) return "refused";
          if (result.data) onData(result.data);
        } else if (event === "complete") {
          return "complete";
        }
      }
    }
  };
  (async () => {
    for (;;) {
      const outcome = await connect().catch(() => "cut");
      if (controller.signal.aborted) return;
      if (outcome === "refused" || (outcome === "complete" && !reconnect) || !state.token) { finish(); controller.abort(); return; }
      // A stream the server completed is opened again at once; a cut one after a pause.
      if (outcome === "cut") {
        failures += 1;
        const pause = Math.min(30000, 1000 * 2 ** (failures - 1));
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, pause);
          controller.signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
        });
        if (controller.signal.aborted) return;
      }
      again = true;
    }
  })();
  state.streams.push(stream);
  return stream;
}

function closeStreams() {
  for (const s of state.streams) s.close();
  state.streams = [];
}

// ---- Messages --------------------------------------------------------------------------------

function say(text, isError = false) {
  const m = $("message");
  m.textContent = text;
  m.classList.toggle("error", isError);
  m.setAttribute("role", isError ? "alert" : "status");
}

async function attempt(action, success) {
  try {
    const result = await action();
    if (success) say(typeof success === "function" ? success(result) : success);
    return result;
  } catch (e) {
    if (e.code !== "UNAUTHENTICATED") say(e.message, true);
    return null;
  }
}

// ---- Sign in ---------------------------------------------------------------------------------

function signOut(message) {
  sessionStorage.removeItem("passback.token");
  state.token = null;
  // Nothing of this session carries over to the next sign-in (another teacher may sign in here).
  state.section = null;
  state.mapEdits = {};
  if ($("leavemap").open) $("leavemap").close();
  closeStreams();
  $("app").hidden = true;
  $("console").hidden = true;
  resetConsole();
  $("picker").hidden = true;
  $("signout").hidden = true;
  $("nosections").hidden = true;
  $("signin").hidden = false;
  if (message) say(message, true);
}

/**
 * A launch from the LMS (LTI 1.3, answered at /lti/launch) puts its session and the course's
 * sections in the page: read once and removed, never in a URL. The session is short-lived;
 * while the page is open it is renewed before it ends.
 */
function fromLaunch() {
  const session = document.querySelector('meta[name="passback-session"]');
  if (!session) return;
  sessionStorage.setItem("passback.token", session.content);
  const sections = document.querySelector('meta[name="passback-sections"]');
  state.launchedSections = (sections?.content || "").split(",").filter(Boolean);
  for (const meta of document.querySelectorAll('meta[name^="passback-session"], meta[name="passback-sections"]')) meta.remove();
  setInterval(renewSession, 10 * 60 * 1000);
}

async function renewSession() {
  if (!state.token) return;
  const response = await fetch("/lti/session", { method: "POST", headers: { Authorization: `Bearer ${state.token}` } }).catch(() => null);
  if (response && response.status === 401) signOut("Your session has ended. Open Passback again from your course.");
}

async function start() {
  fromLaunch();
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) {
    sessionStorage.setItem("passback.token", fromHash);
    history.replaceState(null, "", location.pathname + location.search);
  }
  state.token = sessionStorage.getItem("passback.token");
  if (!state.token) { signOut(); return; }
  // Nothing of the last sign-in stays on screen (a new #token= may be another person, or another role).
  resetConsole();
  for (const id of ["app", "console", "picker", "nosections"]) $(id).hidden = true;
  $("signin").hidden = true;
  $("signout").hidden = false;
  const data = await attempt(() => gql("Viewer"));
  if (!data) return;
  // An admin gets the console, not a teacher's controls they may not use.
  if (data.viewer.role === "ADMIN") { await startConsole(data.viewer); return; }
  state.sections = data.viewer.sections.nodes;
  if (!state.sections.length) { $("nosections").hidden = false; return; }
  const select = $("section");
  select.replaceChildren(...state.sections.map((s) => new Option(`${s.title}${s.classCode ? ` (${s.classCode})` : ""} — ${s.school.name}`, s.id)));
  $("picker").hidden = false;
  $("app").hidden = false;
  const remembered = sessionStorage.getItem("passback.section");
  const launched = state.sections.find((s) => (state.launchedSections || []).includes(s.sourcedId));
  if (launched) select.value = launched.id;
  else if (remembered && state.sections.some((s) => s.id === remembered)) select.value = remembered;
  await selectSection(select.value);
}

// ---- A section -------------------------------------------------------------------------------

/** A section's lists the widget needs whole (Section reads their first page), each with the document reading the rest. */
const SECTION_LISTS = {
  gradingPeriods: "SectionGradingPeriods",
  lmsCategories: "SectionLmsCategories",
  sisCategories: "SectionSisCategories",
  categoryMap: "SectionCategoryMap",
};

/**
 * Every item of a section's list: the first 100 come with the section; should a section hold
 * more (none seen yet does), the rest are read a page at a time, so nothing is silently dropped.
 */
async function allNodes(sectionId, field, first) {
  const nodes = [...first.nodes];
  for (let info = first.pageInfo; info.hasNextPage;) {
    const data = await gql(SECTION_LISTS[field], { id: sectionId, after: info.endCursor });
    nodes.push(...data.section[field].nodes);
    info = data.section[field].pageInfo;
  }
  return nodes;
}

async function selectSection(id) {
  if (!state.section || state.section.id !== id) state.mapEdits = {};
  closeStreams();
  sessionStorage.setItem("passback.section", id);
  const data = await attempt(() => gql("Section", { id }));
  if (!data || !data.section) return;
  const lists = await attempt(async () => {
    for (const field of Object.keys(SECTION_LISTS)) data.section[field] = await allNodes(id, field, data.section[field]);
    return true;
  });
  if (!lists) return;
  state.section = data.section;
  setDateZone(state.section.timeZone);
  const linkedPage = state.section.linkedSections;
  const linked = linkedPage.nodes.map((s) => s.title);
  const more = linkedPage.totalCount - linked.length;
  $("linked").textContent = linked.length
    ? `Linked with: ${linked.join(", ")}${more > 0 ? ` and ${more} more` : ""} (each is configured on its own)` : "";
  $("notconfigured").hidden = state.section.configured;
  // Nothing to sync before the map is saved: say so on the button instead of turning every item red.
  $("syncchanges").disabled = !state.section.configured;
  $("syncchanges").title = state.section.configured ? "" : "Save your category map first (Configuration)";
  renderReachability(state.section.sisUnreachableSince);
  renderPeriods();
  renderMap();
  renderSchedule();
  await Promise.all([loadMaterials(true), loadRuns()]);
  // After a cut stream, the rows are read again: a change sent meanwhile was lost with it.
  subscribe("MaterialStatusChanged", { id }, (data) => { updateRow(data.materialStatusChanged); checkReachability(); },
    null, () => { loadMaterials(true); checkReachability(); });
}

// Writes waiting on a SIS that does not answer stay IN_PROGRESS; say why instead of nothing.
function renderReachability(since) {
  const note = $("unreachable");
  note.hidden = !since;
  note.textContent = since ? `The SIS cannot be reached since ${when(since)}: your changes are kept and will be sent as soon as it answers.` : "";
}

let reachabilityCheck = null;
function checkReachability() {
  if (reachabilityCheck || !state.section) return;
  const id = state.section.id;
  reachabilityCheck = setTimeout(async () => {
    reachabilityCheck = null;
    const data = await gql("SectionReachability", { id }).catch(() => null);
    if (data && data.section && state.section && state.section.id === id) renderReachability(data.section.sisUnreachableSince);
  }, 1000);
}

function renderPeriods() {
  const select = $("period");
  const current = select.value;
  select.replaceChildren(new Option("All grading periods", ""),
    ...state.section.gradingPeriods.map((p) => new Option(`${p.title} (${p.startDate} – ${p.endDate})`, p.id)));
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

function renderStatusFilter() {
  const box = $("statuses");
  box.replaceChildren(...Object.entries(STATUS).map(([value, label]) => {
    const l = document.createElement("label");
    const c = document.createElement("input");
    c.type = "checkbox";
    c.value = value;
    c.addEventListener("change", () => loadMaterials(true));
    l.append(c, " ", label);
    return l;
  }));
}

// ---- Materials -------------------------------------------------------------------------------


function filters() {
  const filter = {};
  const search = $("search").value.trim();
  if (search) filter.search = search;
  if ($("period").value) filter.gradingPeriodId = $("period").value;
  const statuses = [...$("statuses").querySelectorAll("input:checked")].map((c) => c.value);
  if (statuses.length) filter.status = statuses;
  const [field, direction] = $("order").value.split(":");
  return { filter, orderBy: { field, direction } };
}

async function loadMaterials(reset) {
  if (!state.section) return;
  if (reset) state.after = null;
  const { filter, orderBy } = filters();
  const data = await attempt(() => gql("Materials", { id: state.section.id, filter, orderBy, after: state.after }));
  if (!data) return;
  const page = data.section.materials;
  const body = $("materials").querySelector("tbody");
  // Drawing the rows again keeps the keyboard where it was: the same control of the same row.
  const focused = document.activeElement && body.contains(document.activeElement) ? document.activeElement : null;
  const keep = focused && { id: focused.closest("tr").dataset.id, control: focused.matches("button.sync") ? "button.sync" : focused.matches("input") ? "input" : ".status" };
  if (reset) body.replaceChildren();
  for (const m of page.nodes) body.append(row(m));
  if (keep) {
    const again = body.querySelector(`tr[data-id="${CSS.escape(keep.id)}"] ${keep.control}`);
    if (again) again.focus();
  }
  state.after = page.pageInfo.endCursor;
  $("more").hidden = !page.pageInfo.hasNextPage;
  $("nomaterials").hidden = body.children.length > 0;
  $("nomaterials").textContent = Object.keys(filter).length ? "No graded items match these filters." : "This section has no graded items yet.";
  $("notconfigured").hidden = data.section.configured;
}

// Dates show in the school's time zone (the section's), named, so "Oct 16, 11:59 PM PDT" reads the
// same for a teacher at home in another zone as for the SIS that places it in a grading period.
let dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
function setDateZone(zone) {
  const options = { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" };
  try {
    dateFormat = new Intl.DateTimeFormat(undefined, { ...options, timeZone: zone || "UTC" });
  } catch {
    dateFormat = new Intl.DateTimeFormat(undefined, { ...options, timeZone: "UTC" });
  }
}
const when = (iso) => (iso ? dateFormat.format(new Date(iso)) : "—");

function row(m) {
  const tr = document.createElement("tr");
  tr.dataset.id = m.id;
  const title = cell("Title", m.title);
  const due = cell("Due", when(m.dueDate));
  const last = cell("Last successful sync", when(m.lastSyncedAt));
  last.className = "last";
  const status = cell("Status", "");
  status.className = "statuscell";
  const actions = cell("Actions", "");
  const sync = document.createElement("button");
  sync.type = "button";
  sync.textContent = "Sync";
  sync.className = "sync";
  sync.setAttribute("aria-label", `Sync ${m.title}`);
  sync.addEventListener("click", () => syncOne(m.id, m.title));
  const optIn = document.createElement("label");
  optIn.className = "check";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.checked = m.syncToSIS;
  box.setAttribute("aria-label", `Send ${m.title} to the SIS`);
  // A refusal (the LMS has sync off, which holds in every section) puts the box back.
  box.addEventListener("change", async () => { if (!(await setSyncToSIS(m.id, box.checked))) box.checked = !box.checked; });
  optIn.append(box, " Send to SIS");
  actions.append(sync, optIn);
  tr.append(title, due, last, status, actions);
  paintStatus(tr, m);
  return tr;
}

function cell(label, text) {
  const td = document.createElement("td");
  td.dataset.label = label;
  td.textContent = text;
  return td;
}

/**
 * The status indicator. With details (an error's problems, or warnings on any status) it is a
 * button whose hover and focus show them (a click keeps them open, for touch screens; Esc closes
 * them), marked when they are warnings; without, plain text, so it takes no tab stop.
 */
function paintStatus(tr, m) {
  const td = tr.querySelector(".statuscell");
  const hadFocus = td.contains(document.activeElement);
  // The first 10 problems come with the item; the others are counted.
  const all = m.problems ? m.problems.nodes : [];
  const unshown = m.problems ? m.problems.totalCount - all.length : 0;
  const problems = all.filter((p) => m.syncStatus === "ERROR" || p.severity === "WARNING");
  const warnings = problems.filter((p) => p.severity === "WARNING").length;
  const onlyWarnings = problems.length > 0 && warnings === problems.length;
  const badge = document.createElement(problems.length ? "button" : "span");
  badge.className = `status ${m.syncStatus}` + (onlyWarnings ? " haswarnings" : "");
  badge.textContent = STATUS[m.syncStatus] || m.syncStatus;
  td.replaceChildren(badge);
  if (onlyWarnings) {
    // Seen at a glance beside the status; its words are in the badge's description for screen readers.
    const mark = document.createElement("span");
    mark.className = "warnmark";
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = `⚠ ${warnings} warning${warnings === 1 ? "" : "s"}`;
    mark.addEventListener("click", () => { badge.focus(); badge.click(); });
    td.append(mark);
  }
  td.classList.remove("dismissed");
  if (problems.length) {
    const id = `details-${tr.dataset.id}`;
    badge.type = "button";
    badge.setAttribute("aria-describedby", id);
    badge.setAttribute("aria-expanded", "false");
    badge.addEventListener("click", () => {
      td.classList.remove("dismissed");
      badge.setAttribute("aria-expanded", String(badge.getAttribute("aria-expanded") !== "true"));
    });
    badge.addEventListener("blur", () => td.classList.remove("dismissed"));
    const text = document.createElement("span");
    text.id = id;
    text.className = `details${onlyWarnings ? " warning" : ""}`;
    text.textContent = problems.map((p) => `${p.severity === "WARNING" ? "Warning" : "Error"} ${p.code}: ${p.message}`).join("\n")
      + (unshown > 0 ? `\n…and ${unshown} more` : "");
    td.append(text);
  }
  tr.querySelector("button.sync").disabled = m.syncStatus === "OPT_OUT";
  if (hadFocus) (problems.length ? badge : tr.querySelector("button.sync")).focus();
}

function updateRow(m) {
  const tr = $("materials").querySelector(`tr[data-id="${CSS.escape(m.id)}"]`);
  if (!tr) return;
  const before = tr.querySelector(".status");
  const changed = !before || !before.classList.contains(m.syncStatus);
  paintStatus(tr, m);
  tr.querySelector(".last").textContent = when(m.lastSyncedAt);
  // A status that changes live is read out, without moving the focus.
  if (changed) $("announce").textContent = `${tr.querySelector("td").textContent}: ${STATUS[m.syncStatus] || m.syncStatus}`;
}

// ---- Syncing ---------------------------------------------------------------------------------

function followRun(run) {
  $("runstate").textContent = `Sync running: ${run.itemsSent} item(s) sent…`;
  subscribe("SyncRunUpdated", { id: run.id }, (data) => {
      const r = data.syncRunUpdated;
      $("runstate").textContent = r.finishedAt
        ? `Last sync ${r.state === "SUCCEEDED" ? "succeeded" : r.state === "PARTIAL" ? "finished with errors" : "failed"}: ${r.jobsSucceeded} of ${r.jobsTotal} writes accepted.`
        : `Sync running: ${r.jobsSucceeded + r.jobsFailed} of ${r.jobsTotal} writes done…`;
    }, () => { loadMaterials(true); loadRuns(); });
}

/** A fresh key per deliberate action: a request sent twice for one click starts one run. */
function idempotencyKey() {
  return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

async function syncChanges() {
  const button = $("syncchanges");
  if (button.disabled) return;
  // A double click starts one run: the button is off until this one has started.
  button.disabled = true;
  let data;
  try {
    data = await attempt(async () => check((await gql("SyncChanges",
      { i: { sectionId: state.section.id, idempotencyKey: idempotencyKey() } })).syncChanges));
  } finally {
    button.disabled = !(state.section && state.section.configured);
  }
  if (!data) return;
  const r = data.run;
  say(`Sync started: ${r.itemsSent} item(s) to send, ${r.itemsFailed} stopped by a rule, ${r.itemsSkipped} skipped.`);
  await loadMaterials(true);
  followRun(r);
}

async function syncOne(id, title) {
  const data = await attempt(async () => check((await gql("SyncMaterial", { i: { materialId: id } })).syncMaterial));
  if (!data) return;
  say(data.run.itemsFailed ? `“${title}” was not sent: a rule stops it (see its status).` : `Sending “${title}”.`);
  await loadMaterials(true);
  followRun(data.run);
}

async function setSyncToSIS(id, on) {
  const data = await attempt(async () => check((await gql("SetMaterialSyncToSIS", { i: { materialId: id, syncToSIS: on } })).setMaterialSyncToSIS),
    on ? "The item will be sent to the SIS." : "The item will not be sent to the SIS (opt out).");
  if (data) updateRow(data.material);
  return data;
}

async function preview() {
  const data = await attempt(async () => check((await gql("PlanSync", { i: { sectionId: state.section.id } })).planSync));
  if (!data) return;
  const words = { SEND: "would be sent", BLOCKED: "would not be sent", SKIP: "is skipped", UNCHANGED: "is unchanged" };
  $("plansummary").textContent = `${data.writeCount} write(s) would go to the SIS. Nothing has been sent.`;
  const more = (count, shown) => (count > shown ? ` (and ${count - shown} more)` : "");
  $("planitems").replaceChildren(...data.items.nodes.filter((i) => i.decision !== "UNCHANGED").map((i) => {
    const li = document.createElement("li");
    const problems = i.problems.nodes;
    li.textContent = `${i.material.title} ${words[i.decision]}`
      + (problems.length ? ` — ${problems.map((p) => `${p.code}: ${p.message}`).join(" ")}${more(i.problems.totalCount, problems.length)}` : "");
    return li;
  }));
  if (data.items.totalCount > data.items.nodes.length) {
    $("planitems").append(Object.assign(document.createElement("li"), { textContent: `…and ${data.items.totalCount - data.items.nodes.length} more items.` }));
  }
  if (!$("planitems").children.length) $("planitems").append(Object.assign(document.createElement("li"), { textContent: "Everything is already in the SIS." }));
  $("plan").hidden = false;
  $("plan").focus();
}

// ---- Configuration ---------------------------------------------------------------------------

/** The saved map: LMS category id → SIS category id. */
function savedMap() {
  return Object.fromEntries(state.section.categoryMap.map((m) => [m.lmsCategory.id, m.sisCategory.id]));
}

/** Choices made in the map and not saved yet (kept across a new category's reload). */
function unsavedMap() {
  const saved = savedMap();
  return Object.entries(state.mapEdits).filter(([lms, sis]) => (saved[lms] || "") !== sis);
}

/**
 * Whether leaving the map (another section, another tab, a new sign-in link) may go on: with
 * unsaved choices it asks in the page (an LMS frames the widget in an iframe sandbox, where
 * window.confirm may answer "no" without showing anything). Resolves true to leave (the choices
 * are dropped), false to stay.
 */
let leaving = null;
function mayLeaveMap() {
  if (!state.section || !unsavedMap().length) return Promise.resolve(true);
  // One question at a time: a second caller while it is open (a new sign-in link) gets its answer.
  if (leaving) return leaving;
  const dialog = $("leavemap");
  leaving = new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => {
      leaving = null;
      // Esc closes it with no answer: that is staying.
      const leave = dialog.returnValue === "leave";
      if (leave && state.section) {
        state.mapEdits = {};
        renderMap();
        $("mapsaved").textContent = "";
      }
      resolve(leave);
    }, { once: true });
    dialog.showModal();
  });
  return leaving;
}

function renderMap() {
  const s = state.section;
  const mapped = { ...savedMap(), ...state.mapEdits };
  const body = $("map").querySelector("tbody");
  body.replaceChildren(...s.lmsCategories.map((c) => {
    const tr = document.createElement("tr");
    const name = cell("LMS category", c.title + (c.createdByTeacher ? " (yours)" : ""));
    const choose = cell("SIS category", "");
    const select = document.createElement("select");
    select.id = `map-${c.id}`;
    select.dataset.lms = c.id;
    select.setAttribute("aria-label", `SIS category for ${c.title}`);
    select.append(new Option("— not mapped —", ""), ...s.sisCategories.map((sc) => new Option(sc.title, sc.id)));
    select.value = mapped[c.id] || "";
    select.addEventListener("change", () => { state.mapEdits[c.id] = select.value; $("mapsaved").textContent = unsavedMap().length ? "Not saved yet." : ""; });
    choose.append(select);
    tr.append(name, choose);
    return tr;
  }));
  $("nocategories").hidden = s.lmsCategories.length > 0;
}

async function saveMap(event) {
  event.preventDefault();
  const map = [...$("map").querySelectorAll("select")].filter((s) => s.value).map((s) => ({ lmsCategoryId: s.dataset.lms, sisCategoryId: s.value }));
  const data = await attempt(async () => check((await gql("SaveCategoryMap", { i: { sectionId: state.section.id, map } })).saveCategoryMap));
  if (!data) return;
  state.mapEdits = {};
  state.section.configured = true;
  await selectSection(state.section.id);
  // Said beside the button that saved it, where the eyes are.
  $("mapsaved").textContent = "Category map saved.";
}

async function createCategory(event) {
  event.preventDefault();
  const title = $("newtitle").value.trim();
  if (!title) { say("Give the new category a title.", true); return; }
  const data = await attempt(async () => check((await gql("CreateLmsCategory", { i: { sectionId: state.section.id, title } })).createLmsCategory),
    (d) => `Category “${d.lmsCategory.title}” created; map it below and save.`);
  // The map is drawn again with the new category; choices not saved yet are kept (state.mapEdits).
  if (data) { $("newtitle").value = ""; await selectSection(state.section.id); $("tab-config").click(); }
}

const DAYS = ["", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/**
 * The time zone picker: the browser's list of IANA zones, with the current one in it. A browser
 * without that list (older Safari on school iPads) gets a text box for the zone's name instead.
 */
function renderZones(current, id = "timezone") {
  let select = $(id);
  if (typeof Intl.supportedValuesOf !== "function") {
    if (select.tagName !== "INPUT") {
      const input = Object.assign(document.createElement("input"), { id, required: true, placeholder: "e.g. America/Chicago" });
      select.replaceWith(input);
      select = input;
    }
    select.value = current;
    return;
  }
  if (!select.options.length) {
    const zones = Intl.supportedValuesOf("timeZone");
    select.replaceChildren(...["UTC", ...zones.filter((z) => z !== "UTC")].map((z) => new Option(z.replaceAll("_", " "), z)));
  }
  if (![...select.options].some((o) => o.value === current)) select.append(new Option(current.replaceAll("_", " "), current));
  select.value = current;
}

/** `iso` as a date and time in `zone`, named. */
function inZone(iso, zone) {
  try {
    return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: zone }).format(new Date(iso)) + ` (${zone})`;
  } catch {
    return when(iso);
  }
}

function renderSchedule() {
  const s = state.section.schedule;
  renderZones((s && s.timeZone) || state.section.timeZone || "UTC");
  if (s && s.enabled) {
    $("weekday").value = String(s.weekday);
    $("starttime").value = s.startTime;
    const pending = new Date(s.effectiveAt) > new Date();
    $("schedulenow").textContent = `${s.isDefault ? "Your district's default: " : ""}every ${DAYS[s.weekday]} within ${s.windowHours} hours after ${s.startTime} (${s.timeZone})`
      + (pending ? `, from ${inZone(s.effectiveAt, s.timeZone)}.` : ".");
  } else {
    $("schedulenow").textContent = s ? "Scheduled sync is off." : "No scheduled sync: grades go to the SIS when you sync.";
  }
}

async function saveSchedule(on) {
  const schedule = on ? { weekday: Number($("weekday").value), startTime: $("starttime").value, timeZone: $("timezone").value.trim() } : null;
  const input = $("allcourses").checked ? { allMyCourses: true, schedule } : { sectionId: state.section.id, schedule };
  const data = await attempt(async () => check((await gql("SaveSyncSchedule", { i: input })).saveSyncSchedule));
  if (!data) return;
  await selectSection(state.section.id);
  $("schedulesaved").textContent = `${on ? "Schedule saved" : "Scheduled sync turned off"} for ${data.sections.totalCount} section(s); it takes effect in 24 hours.`;
}

// ---- Run log ---------------------------------------------------------------------------------

async function loadRuns() {
  const data = await attempt(() => gql("SyncRuns", { id: state.section.id }));
  if (!data) return;
  const runs = data.section.syncRuns.nodes;
  $("runs").querySelector("tbody").replaceChildren(...runRows(runs));
  $("noruns").hidden = runs.length > 0;
}

/**
 * A row that opens under a table's row (`columns` wide), and the link that opens it: `noun` names
 * what it shows ("writes"), `label` the link for screen readers. `load(into)` fills it the first
 * time it opens; a second click while it loads waits for the same load, and a load that put
 * nothing in (it failed: the banner says why) is tried again the next time.
 */
function opener(columns, noun, label, load) {
  const details = document.createElement("tr");
  details.className = "rundetails";
  details.hidden = true;
  const all = document.createElement("td");
  all.colSpan = columns;
  details.append(all);
  const open = document.createElement("button");
  open.type = "button";
  open.className = "link";
  open.textContent = `Show ${noun}`;
  open.setAttribute("aria-expanded", "false");
  open.setAttribute("aria-label", label);
  let loading = null;
  open.addEventListener("click", async () => {
    const opening = details.hidden;
    details.hidden = !opening;
    open.setAttribute("aria-expanded", String(opening));
    open.textContent = `${opening ? "Hide" : "Show"} ${noun}`;
    if (!opening || all.childElementCount || loading) return;
    loading = load(all);
    await loading;
    loading = null;
  });
  return { details, open };
}

const TRIGGERS = { ITEM: "One item", SYNC_CHANGES: "Sync changes", SCHEDULED: "Scheduled", GRADEBOOK: "Gradebook" };
const RUN_STATES = { RUNNING: "Running", SUCCEEDED: "Succeeded", PARTIAL: "Finished with errors", FAILED: "Failed" };

/**
 * A table's rows for runs, each with a row under it that opens to show the run's writes. The
 * admin's console adds each run's section (`admin`), and its writes may be retried or discarded.
 */
function runRows(runs, admin) {
  const by = (r) => r.startedByUser ? `${r.startedByUser.givenName} ${r.startedByUser.familyName}` : r.startedBy === "scheduler" ? "The schedule" : r.startedBy;
  return runs.flatMap((r) => {
    const tr = document.createElement("tr");
    // Counts say what they count, so a narrow screen (no column legend) reads them too.
    const writes = cell("Writes", `${r.jobsSucceeded} accepted, ${r.jobsFailed} failed`);
    tr.append(cell("Started", when(r.startedAt)));
    if (admin) tr.append(cell("Section", r.section ? `${r.section.title}${r.section.classCode ? ` (${r.section.classCode})` : ""} — ${r.section.school.name}` : "—"));
    tr.append(cell("Trigger", TRIGGERS[r.trigger] || r.trigger), cell("By", by(r)),
      cell("State", (RUN_STATES[r.state] || r.state) + (r.cause ? ` — ${r.cause}` : "")),
      cell("Items", `${r.itemsSent} sent, ${r.itemsFailed} stopped, ${r.itemsSkipped} skipped`), writes);
    // A run opens to show its writes, those that did not go through first.
    const { details, open } = opener(admin ? 7 : 6, "writes", `Show the writes of the run started ${when(r.startedAt)}`, async (into) => {
      const list = await runWrites(r.id, admin);
      if (list) into.append(list);
    });
    writes.append(" ", open);
    return [tr, details];
  });
}

const KINDS = { PUT_CATEGORY: "Category", PUT_LINE_ITEM: "Item", PUT_RESULT: "Grade", DELETE_LINE_ITEM: "Item removed" };
const JOB_STATES = { AVAILABLE: "Waiting", SCHEDULED: "Waiting", RUNNING: "Sending", RETRYABLE: "Will retry", COMPLETED: "Accepted",
  DISCARDED: "Failed", CANCELLED: "Cancelled" };

/**
 * A run's writes as a list: what each was (item, grade…), for which item, how it ended, and why
 * not. With `admin`, the writes that failed may be sent again and those still waiting discarded,
 * each or all at once; `admin.changed` is called after either.
 */
async function runWrites(id, admin) {
  const list = document.createElement("ul");
  list.className = "writes";
  // Those that did not go through first (however many were accepted), then the accepted ones.
  const data = await attempt(() => gql("RunWrites", { id }));
  if (!data) return null;  // the banner says why
  const empty = { nodes: [], totalCount: 0 };
  const notDone = data.node ? data.node.notDone : empty, done = data.node ? data.node.done : empty;
  const jobs = { nodes: [...notDone.nodes, ...done.nodes], totalCount: notDone.totalCount + done.totalCount };
  for (const j of jobs.nodes) {
    const li = document.createElement("li");
    li.className = j.state === "COMPLETED" ? "" : "notok";
    li.textContent = `${KINDS[j.kind] || j.kind}${j.material ? ` of “${j.material.title}”` : ""}: ${JOB_STATES[j.state] || j.state}`
      + (j.lastError ? ` — ${j.lastError}` : "");
    const action = admin && jobAction(j);
    if (action) li.append(" ", jobButton(action, [j], `${action === "retry" ? "Retry" : "Discard"} this write`, admin));
    list.append(li);
  }
  if (!jobs.nodes.length) list.append(Object.assign(document.createElement("li"), { textContent: "This run sent no writes." }));
  if (jobs.totalCount > jobs.nodes.length) list.append(Object.assign(document.createElement("li"), { textContent: `…and ${jobs.totalCount - jobs.nodes.length} more.` }));
  if (!admin) return list;
  const failed = notDone.nodes.filter((j) => jobAction(j) === "retry"), waiting = notDone.nodes.filter((j) => jobAction(j) === "discard");
  const bulk = document.createElement("div");
  bulk.className = "actions";
  if (failed.length) bulk.append(jobButton("retry", failed, `Retry the failed writes (${failed.length})`, admin));
  if (waiting.length) bulk.append(jobButton("discard", waiting, `Discard the waiting writes (${waiting.length})`, admin));
  // The actions on them all come first, above a list that may be long.
  const box = document.createElement("div");
  if (bulk.childElementCount) box.append(bulk);
  box.append(list);
  return box;
}

/** What an admin may do with a write: send its item again once it failed, or stop it while it waits. */
function jobAction(job) {
  if (job.state === "DISCARDED" || job.state === "CANCELLED") return "retry";
  if (job.state === "AVAILABLE" || job.state === "SCHEDULED" || job.state === "RETRYABLE") return "discard";
  return null;
}

function jobButton(action, jobs, label, admin) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = action;
  button.textContent = label;
  button.addEventListener("click", async () => {
    button.disabled = true;
    const ids = jobs.map((j) => j.id);
    const done = action === "retry"
      ? await attempt(async () => check((await gql("RetrySyncJobs", { i: { jobIds: ids, idempotencyKey: idempotencyKey() } })).retrySyncJobs),
        (p) => `Sent again: ${p.runs.totalCount} new run${p.runs.totalCount === 1 ? "" : "s"} started. Follow ${p.runs.totalCount === 1 ? "it" : "them"} below.`)
      : await attempt(async () => check((await gql("DiscardSyncJobs", { i: { jobIds: ids, idempotencyKey: idempotencyKey() } })).discardSyncJobs),
        (p) => `${p.jobs.totalCount} write${p.jobs.totalCount === 1 ? "" : "s"} discarded: ${p.jobs.totalCount === 1 ? "its item shows" : "their items show"} Error until sent again.`);
    // Refused (a write moved on meanwhile: sent, or already discarded), the list is read again as it is now.
    await admin.changed();
    if (!done) say(`${document.getElementById("message").textContent} The list below is as it stands now.`, true);
  });
  return button;
}

// ---- Admin console ---------------------------------------------------------------------------

const GROUPS = { CODE: "Problem", SCHOOL: "School", TEACHER: "Teacher" };
/** A problem code in words: SECTION_NOT_CONFIGURED → "Section not configured", SIS_REJECTED → "SIS rejected". */
const codeWords = (code) => (code.charAt(0) + code.slice(1).toLowerCase()).replaceAll("_", " ").replace(/\b(sis|lms|Sis|Lms)\b/g, (w) => w.toUpperCase());
const consoleState = { viewer: null, drill: null, errorsAfter: null, runsAfter: null, rosterTimer: null };

/** The console as a new sign-in finds it: its first tab, nothing read, nothing pending. */
function resetConsole() {
  clearTimeout(consoleState.rosterTimer);
  closeDrill();
  for (const id of ["groups", "orgruns", "rosterruns", "erroritems"]) $(id).querySelector("tbody").replaceChildren();
  for (const id of ["errortotal", "defaultnow", "defaultsaved", "healthtext", "rosterlast", "consolehealth"]) $(id).textContent = "";
  $("consolehealth").hidden = true;
  for (const t of $("console").querySelectorAll('[role="tab"]')) {
    const on = t.id === "tab-errors";
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
}

/** An admin's view: errors across their schools, every sync run, the default schedule, the roster and the SIS connection. */
async function startConsole(viewer) {
  consoleState.viewer = viewer;
  const name = viewer.user ? `${viewer.user.givenName} ${viewer.user.familyName}` : "An administrator";
  $("consoleorg").textContent = `${name}, administrator${viewer.org ? ` of ${viewer.org.name}` : ""}: what goes to the SIS across your schools.`;
  $("console").hidden = false;
  // Times in the admin's own zone, named (their schools may span zones).
  setDateZone(Intl.DateTimeFormat().resolvedOptions().timeZone);
  await Promise.all([loadGroups(), loadRosterStatus()]);
}

/** The open admin tab's contents, read again (after an action, or when the tab is opened). */
async function refreshAdminTab(id) {
  // The roster's tab holds the connection's health too, said above every tab while it is wrong.
  if (id !== "tab-roster") loadRosterStatus();
  if (id === "tab-errors") await loadGroups();
  if (id === "tab-orgruns") await loadOrgRuns(true);
  if (id === "tab-default") await loadDefaultSchedule();
  if (id === "tab-roster") await loadRosterStatus();
}

async function loadGroups() {
  const by = $("groupby").value;
  const data = await attempt(() => gql("ErrorSummary", { by }));
  if (!data) return;
  const total = data.syncErrors.totalCount;
  $("errortotal").textContent = total ? `${total} item${total === 1 ? "" : "s"} in error across your schools.` : "";
  $("groupheading").textContent = GROUPS[by];
  const groups = data.syncErrorSummary.nodes;
  $("groups").querySelector("tbody").replaceChildren(...groups.map((g) => {
    const tr = document.createElement("tr");
    const name = g.label || g.key;
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link";
    open.textContent = "Show items";
    open.setAttribute("aria-label", `Show the ${g.count} items in error: ${name}`);
    open.addEventListener("click", () => drill(by, g));
    const actions = cell("", "");
    actions.append(open);
    tr.append(cell(GROUPS[by], by === "CODE" ? codeWords(name) : name), cell("Items in error", String(g.count)), actions);
    return tr;
  }));
  const unshown = data.syncErrorSummary.totalCount - groups.length;
  if (unshown > 0) {
    const tr = document.createElement("tr");
    const td = cell("", `…and ${unshown} smaller group${unshown === 1 ? "" : "s"}.`);
    td.colSpan = 3;
    tr.append(td);
    $("groups").querySelector("tbody").append(tr);
  }
  // Counting a teacher's errors counts a section with two teachers twice: the total is the items'.
  $("nogroups").hidden = groups.length > 0;
  if (consoleState.drill && consoleState.drill.by !== by) closeDrill();
}

/** The items of one group, newest first, a page at a time. */
async function drill(by, group) {
  const filter = by === "CODE" ? { codes: [group.key] } : by === "SCHOOL" ? { schoolId: group.id } : { teacherId: group.id };
  consoleState.drill = { by, filter };
  consoleState.errorsAfter = null;
  $("drilltitle").textContent = `${group.count} item${group.count === 1 ? "" : "s"} in error: ${by === "CODE" ? codeWords(group.key) : group.label || group.key}`;
  $("erroritems").querySelector("tbody").replaceChildren();
  $("drill").hidden = false;
  await loadErrorItems();
  $("drill").focus();
}

async function loadErrorItems() {
  const { filter } = consoleState.drill;
  const data = await attempt(() => gql("SyncErrors", { filter, after: consoleState.errorsAfter }));
  if (!data) return;
  const page = data.syncErrors;
  $("erroritems").querySelector("tbody").append(...page.nodes.map((e) => {
    const tr = document.createElement("tr");
    tr.append(cell("Item", e.material.title), cell("Section", `${e.section.title}${e.section.classCode ? ` (${e.section.classCode})` : ""}`),
      cell("School", e.school.name),
      // Grouped by problem, the title names it; otherwise each row does.
      cell("Problem", consoleState.drill.by === "CODE" ? e.message || codeWords(e.code) : `${codeWords(e.code)}${e.message ? `: ${e.message}` : ""}`),
      cell("Since", when(e.at)));
    return tr;
  }));
  consoleState.errorsAfter = page.pageInfo.endCursor;
  $("moreerrors").hidden = !page.pageInfo.hasNextPage;
}

function closeDrill() {
  consoleState.drill = null;
  $("drill").hidden = true;
}

async function loadOrgRuns(reset) {
  if (reset) consoleState.runsAfter = null;
  const data = await attempt(() => gql("OrgSyncRuns", { after: consoleState.runsAfter }));
  if (!data) return;
  const page = data.syncRuns;
  const body = $("orgruns").querySelector("tbody");
  const rows = runRows(page.nodes, { changed: () => loadOrgRuns(true) });
  if (reset) body.replaceChildren(...rows); else body.append(...rows);
  consoleState.runsAfter = page.pageInfo.endCursor;
  $("moreorgruns").hidden = !page.pageInfo.hasNextPage;
  $("noorgruns").hidden = body.children.length > 0;
}

async function loadDefaultSchedule() {
  const data = await attempt(() => gql("DefaultSchedule"));
  if (!data) return;
  renderDefault(data.viewer.org && data.viewer.org.defaultSyncSchedule);
}

function renderDefault(s) {
  renderZones((s && s.timeZone) || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", "defaultzone");
  if (s && s.enabled) {
    $("defaultweekday").value = String(s.weekday);
    $("defaultstart").value = s.startTime;
    const pending = new Date(s.effectiveAt) > new Date();
    $("defaultnow").textContent = `Every ${DAYS[s.weekday]} within ${s.windowHours} hours after ${s.startTime} (${s.timeZone})`
      + (pending ? `, from ${inZone(s.effectiveAt, s.timeZone)}.` : ".");
  } else {
    $("defaultnow").textContent = s ? "The default is off: sections without a schedule of their own sync only when their teachers sync." : "No default schedule yet: sections without a schedule of their own sync only when their teachers sync.";
  }
}

async function saveDefault(on) {
  const schedule = on ? { weekday: Number($("defaultweekday").value), startTime: $("defaultstart").value, timeZone: $("defaultzone").value.trim() } : null;
  const data = await attempt(async () => check((await gql("SaveDefaultSyncSchedule", { i: { schedule, idempotencyKey: idempotencyKey() } })).saveDefaultSyncSchedule));
  if (!data) return;
  renderDefault(data.org && data.org.defaultSyncSchedule);
  $("defaultsaved").textContent = `${on ? "Default schedule saved" : "Default schedule turned off"}; it takes effect in 24 hours.`;
}

async function loadRosterStatus() {
  const data = await attempt(() => gql("RosterStatus"));
  if (!data) return;
  renderHealth(data.connectionHealth);
  const runs = data.rosterRuns.nodes;
  const STATES = { QUEUED: "Queued", RUNNING: "Running", SUCCEEDED: "Succeeded", FAILED: "Failed" };
  const last = runs.find((r) => r.finishedAt);
  $("rosterlast").textContent = !last ? "No roster pull has finished yet."
    : `Last pull ${last.state === "SUCCEEDED" ? "finished" : "failed"} ${when(last.finishedAt)}: ${last.created} created, ${last.updated} changed, ${last.deleted} deleted, ${last.rejected} rejected.`
      + (last.error ? ` ${last.error}` : "");
  $("rosterruns").querySelector("tbody").replaceChildren(...runs.flatMap((r) => {
    const tr = document.createElement("tr");
    const rejected = cell("Rejected", String(r.rejected));
    tr.append(cell("Asked for", when(r.requestedAt)), cell("How", `${r.trigger === "SCHEDULED" ? "Scheduled" : "Asked for"}, ${r.mode}`),
      cell("State", (STATES[r.state] || r.state) + (r.error ? ` — ${r.error}` : "")),
      cell("Rows", `${r.created} created, ${r.updated} changed, ${r.unchanged} unchanged, ${r.deleted} deleted`), rejected);
    if (!r.rejected) return [tr];
    const { details, open } = opener(5, "rejects", `Show the ${r.rejected} rows rejected by the pull asked for ${when(r.requestedAt)}`,
      (into) => loadRejects(r.id, into, null));
    rejected.append(" ", open);
    return [tr, details];
  }));
  $("norosterruns").hidden = runs.length > 0;
  // A pull under way is followed until it ends, while its tab is open.
  clearTimeout(consoleState.rosterTimer);
  if (runs.some((r) => r.state === "QUEUED" || r.state === "RUNNING") && !$("view-roster").hidden) {
    consoleState.rosterTimer = setTimeout(loadRosterStatus, 2000);
  }
}

/** A pull's rejected rows: where each came from and why, what the SIS must fix; a page at a time. */
async function loadRejects(id, into, after) {
  const data = await attempt(() => gql("RosterRejects", { id, after }));
  if (!data || !data.node) return;
  const page = data.node.rejects;
  let list = into.querySelector("ul.rejects");
  if (!list) { list = Object.assign(document.createElement("ul"), { className: "writes rejects" }); into.append(list); }
  list.append(...page.nodes.map((j) => Object.assign(document.createElement("li"), {
    textContent: `${j.collection}${j.sourcedId ? ` ${j.sourcedId}` : ""} (${j.location}): ${j.reason}`,
  })));
  into.querySelector("button.more")?.remove();
  if (page.pageInfo.hasNextPage) {
    const more = Object.assign(document.createElement("button"), { type: "button", className: "more", textContent: `Show more (${page.totalCount - list.children.length} left)` });
    more.addEventListener("click", () => loadRejects(id, into, page.pageInfo.endCursor));
    into.append(more);
  }
}

function renderHealth(h) {
  let text;
  if (h.blockedCause) text = `Writes to the SIS are held since ${when(h.blockedSince)}: ${h.blockedCause}`;
  else if (h.unreachableSince) text = `The SIS has not answered since ${when(h.unreachableSince)}${h.lastError ? ` (${h.lastError})` : ""}. Writes wait and are sent as soon as it answers.`;
  else text = "The SIS answers.";
  text += ` ${h.pendingWrites} write${h.pendingWrites === 1 ? "" : "s"} waiting to be sent.`;
  $("healthtext").textContent = text;
  $("healthtext").classList.toggle("problem", Boolean(h.blockedCause || h.unreachableSince));
  // Said above every tab too: nothing reaches the SIS until it is fixed.
  $("consolehealth").hidden = !(h.blockedCause || h.unreachableSince);
  $("consolehealth").textContent = h.blockedCause || h.unreachableSince ? text : "";
}

async function pullRoster() {
  const button = $("pullroster");
  button.disabled = true;
  const data = await attempt(async () => check((await gql("RefreshRoster", { i: { full: $("pullfull").checked, idempotencyKey: idempotencyKey() } })).refreshRoster),
    "Roster pull asked for: it shows below, and its counts once it finishes.");
  button.disabled = false;
  if (data) await loadRosterStatus();
}

// ---- Tabs and wiring -------------------------------------------------------------------------

async function selectTab(tab) {
  // The teacher's views and the admin's console each have their own tabs.
  const tabs = [...tab.closest('[role="tablist"]').querySelectorAll('[role="tab"]')];
  const leaving = tabs.find((t) => t.getAttribute("aria-selected") === "true");
  if (leaving && leaving !== tab && leaving.id === "tab-config" && !(await mayLeaveMap())) { leaving.focus(); return; }
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
  tab.focus();
  // What an action on another tab said is not left over this one.
  if (tab.closest("#console")) { say(""); await refreshAdminTab(tab.id); }
}

document.addEventListener("DOMContentLoaded", () => {
  renderStatusFilter();
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const tabs = [...tab.closest('[role="tablist"]').querySelectorAll('[role="tab"]')];
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(tab);
      if (e.key === "ArrowRight") selectTab(tabs[(i + 1) % tabs.length]);
      if (e.key === "ArrowLeft") selectTab(tabs[(i + tabs.length - 1) % tabs.length]);
    });
  }
  $("signin").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem("passback.token", $("token").value.trim());
    say("");
    start();
  });
  $("signout").addEventListener("click", () => signOut());
  // Another section: the last section's banner does not carry over.
  $("section").addEventListener("change", async (e) => {
    // Unsaved map choices are not dropped without asking (the list shows the section being left meanwhile).
    if (state.section && unsavedMap().length) {
      const chosen = e.target.value;
      e.target.value = state.section.id;
      if (!(await mayLeaveMap())) return;
      e.target.value = chosen;
    }
    say("");
    for (const id of ["mapsaved", "schedulesaved"]) $(id).textContent = "";
    selectSection(e.target.value);
  });
  window.addEventListener("beforeunload", (e) => {
    if (state.section && unsavedMap().length) {
      e.preventDefault();
      e.returnValue = "";
    }
  });
  // Esc closes a status's details, opened by a tap or shown by focus (WCAG 1.4.13).
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    for (const b of document.querySelectorAll('.status[aria-expanded="true"]')) b.setAttribute("aria-expanded", "false");
    const cell = document.activeElement && document.activeElement.closest(".statuscell");
    if (cell) cell.classList.add("dismissed");
  });
  $("search").addEventListener("input", () => { clearTimeout(state.searchTimer); state.searchTimer = setTimeout(() => loadMaterials(true), 250); });
  $("search").addEventListener("search", () => loadMaterials(true));
  $("period").addEventListener("change", () => loadMaterials(true));
  $("order").addEventListener("change", () => loadMaterials(true));
  $("more").addEventListener("click", () => loadMaterials(false));
  $("syncchanges").addEventListener("click", syncChanges);
  $("preview").addEventListener("click", preview);
  $("closeplan").addEventListener("click", () => { $("plan").hidden = true; $("preview").focus(); });
  $("mapform").addEventListener("submit", saveMap);
  $("newcategory").addEventListener("submit", createCategory);
  $("scheduleform").addEventListener("submit", (e) => { e.preventDefault(); saveSchedule(true); });
  $("scheduleoff").addEventListener("click", () => saveSchedule(false));
  $("groupby").addEventListener("change", () => loadGroups());
  $("moreerrors").addEventListener("click", () => loadErrorItems());
  $("closedrill").addEventListener("click", () => { closeDrill(); $("groups").querySelector("button")?.focus(); });
  $("moreorgruns").addEventListener("click", () => loadOrgRuns(false));
  $("defaultform").addEventListener("submit", (e) => { e.preventDefault(); saveDefault(true); });
  $("defaultoff").addEventListener("click", () => saveDefault(false));
  $("pullroster").addEventListener("click", pullRoster);
  // A link with a new token (#token=…) signs in again without a reload.
  window.addEventListener("hashchange", async () => {
    if (!new URLSearchParams(location.hash.slice(1)).get("token") || !(await mayLeaveMap())) return;
    closeStreams();
    state.section = null;
    state.mapEdits = {};
    start();
  });
  start();
});
