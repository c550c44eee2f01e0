// The moderator console: the evening's clock live, the clock controls (also jump, end, any number of minutes),
// the live overview of the rooms (console.js), help requests (console-help.js), the audit log (console-audit.js),
// messages, sign-up, the key and the links (mod-controls.js), the rounds (seats per session, locking the
// choices), the Jitsi check.
// Every action is a request to the API; the server decides and answers.

import { connectionBanner, warningBanner } from "./banners.js";
import { eventApi, getJson } from "./seats.js";
import {
  askDialog, attr, el, feedback, qs, qsa, readConfig, refusal, sendJson, setText, show, translator,
} from "./helpers.js";
import { ClockState, Schedule, nextText, playedTimes, renderCountdown, renderProgram, timeFormatter } from "./clock.js";
import { foldForPhones } from "./console-folds.js";
import { liveOverview } from "./console.js";
import { helpDesk } from "./console-help.js";
import { auditLog } from "./console-audit.js";
import { moderatorControls } from "./mod-controls.js";
import { noteHistory } from "./notes-history.js";

const config = readConfig();
const tr = translator(config.strings, config.lang);
const time = timeFormatter(config.lang, config.timezone);
const clock = new ClockState();
const schedule = new Schedule(config.event && config.event.phases);
const base = eventApi(config.slug);
const connection = connectionBanner();
const warning = warningBanner(tr);

const view = {
  pill: qs("#status-pill"),
  phaseKind: qs("#phase-kind"),
  phaseTitle: qs("#mod-phase-title"),
  countdown: { block: qs("#countdown-block"), value: qs("#countdown"), label: qs("#countdown-label"), paused: qs("#paused-flag") },
  nextLine: qs("#next-line"),
  speed: qs("#fact-speed"),
  countdownFact: qs("#fact-countdown"),
  participants: qs("#total-participants"),
  error: qs("#mod-error"),
  ok: qs("#mod-ok"),
  buttons: qsa("[data-action]"),
  jumpSelect: qs("#jump-select"),
  extendMinutes: qs("#extend-minutes"),
  jitsiCheck: qs("#jitsi-check"),
  recheck: qs("#jitsi-recheck"),
  program: qs("#program"),
  rounds: qs("#rounds"),
  roundsError: qs("#rounds-error"),
  roundsOk: qs("#rounds-ok"),
  overflow: qs("#overflow-banner"),
  overflowList: qs("#overflow-list"),
};

const plein = { state: null, console: null };
window.plein = plein;

let busy = false; // a clock request is on its way
let freshConnection = false;
let unloading = false;
let scheduleVersion = null;
let rounds = null; // GET /rounds: [{id, title, locked, switching, sessions: [{id, title, capacity, chosen, placed, connected}]}]
let roundsLoading = false;
let locking = null; // the round whose lock is being changed
let roundsTimer = null;
let revoked = false; // the moderator key was changed elsewhere: this page can do nothing more

// -- state ------------------------------------------------------------------------------------------

function handleState(state) {
  if (freshConnection) clock.state = null; // after a reconnect the server's word wins
  freshConnection = false;
  if (!clock.accept(state)) return;
  plein.state = state;
  schedule.update(state);
  if (scheduleVersion !== null && scheduleVersion !== state.version) refreshSchedule();
  scheduleVersion = state.version;
  if (warning.data && (!state.phase || state.phase.id !== warning.data.phase)) warning.hide();
  render();
  clearTimeout(roundsTimer);
  roundsTimer = setTimeout(loadRounds, 300); // placements at a round's start show up right away
}

async function refreshSchedule() {
  try {
    const event = await getJson(base);
    if (!event) return;
    schedule.reset(event.phases);
    schedule.update(clock.state);
    renderProgramList();
  } catch (error) {
    console.warn("could not refresh the program", error);
  }
}

function requestState() {
  if (!socket.connected) return;
  socket.timeout(8000).emit("state:get", (err, ack) => {
    if (!err && ack && ack.ok && ack.state) handleState(ack.state);
  });
}

// -- clock actions ----------------------------------------------------------------------------------

/** Which controls make sense now; the server still decides (and says why when it refuses). */
function allowed(action, s) {
  if (!s) return false;
  const running = s.status === "running";
  const first = s.phase && schedule.index.get(s.phase.id) === 0;
  switch (action) {
    case "start": return !running;
    case "back": return (running && !first) || s.status === "ended";
    case "advance": return s.status !== "ended";
    case "pause": return !s.paused && (running || s.status === "before");
    case "resume": return Boolean(s.paused);
    case "extend": return running;
    case "jump": return schedule.phases.length > 0;
    case "end": return running || s.status === "before";
    default: return false;
  }
}

/** Where a move of the clock sends everyone: the phase's title, or null when the action moves nobody. */
function destination(action, s) {
  const at = s && s.phase ? schedule.index.get(s.phase.id) : undefined;
  if (action === "start") return schedule.phases[0] ? schedule.phases[0].title : null;
  if (action === "advance") return s && s.next ? s.next.title : tr("confirm_move_end");
  if (action === "back") return at > 0 ? schedule.phases[at - 1].title : null;
  return null;
}

/**
 * What a clock action does to everyone, asked before it is sent: a move of every participant (start, next,
 * back, jump), a pause, a change of more than 5 minutes, the end. Null: nothing to ask (±1 and ±5 minutes,
 * resume).
 */
function question(action, body, s) {
  const to = destination(action, s);
  if (to) {
    return { title: tr("confirm_move_title", { title: to }), text: tr("confirm_move_text"), confirm: tr("confirm_move_button") };
  }
  if (action === "jump") {
    const phase = schedule.phases[schedule.index.get(body.phase)];
    return { title: tr("jump_confirm_title", { title: phase ? phase.title : body.phase }), text: tr("jump_confirm_text"),
      confirm: tr("jump_confirm_button") };
  }
  if (action === "pause") return { title: tr("confirm_pause_title"), text: tr("confirm_pause_text"), confirm: tr("confirm_pause_button") };
  if (action === "extend" && Math.abs(body.minutes) > 5) {
    const title = s && s.phase ? s.phase.title : "";
    return { title: tr(body.minutes > 0 ? "confirm_extend_title" : "confirm_shorten_title", { title, n: Math.abs(body.minutes) }),
      text: tr("confirm_extend_text"), confirm: tr("confirm_extend_button") };
  }
  if (action === "end") {
    return { title: tr("end_confirm_title"), text: tr("end_confirm_text"), confirm: tr("end_confirm_button"), danger: true };
  }
  return null;
}

/** A clock button: its action (and minutes), after a confirmation that names what will happen. */
async function act(button) {
  if (busy) return;
  const action = button.dataset.action;
  const body = { action };
  if (button.dataset.minutes === "custom") {
    const minutes = Number(view.extendMinutes.value);
    if (!Number.isInteger(minutes) || minutes === 0) {
      setText(view.ok, "");
      setText(view.error, tr("extend_custom_invalid"));
      view.extendMinutes.focus();
      return;
    }
    body.minutes = minutes;
  } else if (button.dataset.minutes) {
    body.minutes = Number(button.dataset.minutes);
  }
  if (action === "jump") body.phase = view.jumpSelect.value;
  const ask = question(action, body, clock.state);
  if (ask && !(await askDialog({ ...ask, cancel: tr("dialog_cancel") }))) return;
  busy = true;
  setText(view.error, "");
  setText(view.ok, "");
  renderButtons();
  try {
    const result = await call("/clock", body);
    if (result.ok) {
      handleState(result.data);
      setText(view.ok, doneText(action, result.data));
    } else {
      setText(view.error, refusal(result));
    }
  } catch (error) {
    setText(view.error, tr("mod_network_error"));
  } finally {
    busy = false;
    renderButtons();
  }
}

/** What a clock action did, in the moderator's words (the new state says it). */
function doneText(action, s) {
  if (s.status === "ended") return tr("mod_done_ended");
  if (action === "pause") return tr("mod_done_pause");
  if (action === "resume") return tr("mod_done_resume");
  if (s.status === "before" && s.next) return tr("mod_done_before", { time: time(s.next.starts_at) });
  if (action === "extend" && s.phase) return tr("mod_done_extend", { title: s.phase.title, time: time(s.phase.ends_at) });
  if (s.phase) return tr("mod_done_moved", { title: s.phase.title });
  return "";
}

/** Every moderator request: JSON to /api/events/<slug><path>; a refusal for want of rights ends the page's rights. */
async function call(path, body = {}, method = "POST") {
  const result = await sendJson(`${base}${path}`, body, method);
  const code = result.data && result.data.error && result.data.error.code;
  if (result.status === 401 || (result.status === 403 && code === "moderator_only")) onRevoked(null);
  return result;
}

// -- rounds -------------------------------------------------------------------------------------------

async function loadRounds() {
  if (roundsLoading || locking) return;
  roundsLoading = true;
  try {
    const response = await fetch(`${base}/rounds`, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const data = await response.json().catch(() => null);
    if (response.ok && data && Array.isArray(data.rounds)) {
      rounds = data.rounds;
      if (view.roundsError.dataset.source === "load") setText(view.roundsError, "");
      renderRounds();
    } else if (!rounds) {
      view.roundsError.dataset.source = "load";
      setText(view.roundsError, (data && data.error && data.error.message) || tr("mod_rounds_failed"));
    }
  } catch (error) {
    if (!rounds) {
      view.roundsError.dataset.source = "load";
      setText(view.roundsError, tr("mod_network_error"));
    }
  } finally {
    roundsLoading = false;
  }
}

async function setLock(round, locked, input) {
  if (locking) return;
  locking = round.id;
  input.disabled = true;
  setText(view.roundsError, "");
  setText(view.roundsOk, "");
  try {
    const result = await call(`/rounds/${encodeURIComponent(round.id)}/lock`, { locked });
    if (result.ok && Array.isArray(result.data.rounds)) {
      rounds = result.data.rounds;
      setText(view.roundsOk, tr(locked ? "mod_locked_on" : "mod_locked_off", { title: round.title }));
    } else {
      view.roundsError.dataset.source = "lock";
      setText(view.roundsError, refusal(result));
    }
  } catch (error) {
    view.roundsError.dataset.source = "lock";
    setText(view.roundsError, tr("mod_network_error"));
  } finally {
    locking = null;
    renderRounds();
  }
}

const sum = (sessions, field) => sessions.reduce((total, x) => total + (Number(x[field]) || 0), 0);

/** A round's times: as it ran once it is behind us, else as the clock has it now. */
function roundTimes(phase, round) {
  const s = clock.state;
  const at = s && s.phase ? schedule.index.get(s.phase.id) : -1;
  const behind = s && (s.status === "ended" || (at >= 0 && schedule.index.get(round.id) < at));
  const runs = behind ? playedTimes(phase) : [{ start: phase.start, end: phase.end }];
  return runs.map((r) => `${time(r.start)}–${time(r.end)}`).join(", ");
}

function roundTable(round) {
  const phase = schedule.index.has(round.id) ? schedule.phases[schedule.index.get(round.id)] : null;
  const s = clock.state;
  const running = Boolean(s && s.status === "running" && s.phase && s.phase.id === round.id);
  const lockId = `lock-${round.id}`;
  const input = el("input", { type: "checkbox", role: "switch", id: lockId, class: "toggle__input" });
  input.checked = Boolean(round.locked);
  input.disabled = locking === round.id;
  input.addEventListener("change", () => setLock(round, input.checked, input));
  const number = (value, extra = "") => el("td", { class: `num${extra}` }, String(value));
  const rows = round.sessions.map((x) => {
    const seated = x.chosen + x.placed;
    const full = seated >= x.capacity;
    return el("tr", { dataset: { session: x.id }, class: full ? "is-full" : null },
      el("th", { scope: "row" }, x.title),
      number(x.capacity),
      number(x.chosen),
      number(x.placed),
      number(x.connected));
  });
  const headId = `round-${round.id}-title`;
  return el("div", { class: `round-table${round.locked ? " is-locked" : ""}`, dataset: { round: round.id } },
    el("div", { class: "round-table__head" },
      el("div", { class: "round-table__name" },
        el("h3", { class: "round-table__title", id: headId },
          phase ? el("span", { class: "round-table__time" }, roundTimes(phase, round)) : null,
          round.title),
        el("p", { class: "round-table__tags" },
          running ? el("span", { class: "tag tag--now" }, tr("program_now")) : null,
          round.switching ? null : el("span", { class: "tag" }, tr("mod_switching_off")))),
      el("label", { class: "toggle", for: lockId }, input,
        el("span", { class: "toggle__track", "aria-hidden": "true" }),
        el("span", { class: "toggle__label" }, tr("mod_lock")))),
    el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": headId }, // scrolls on a phone
      el("table", { class: "counts", "aria-labelledby": headId },
        el("thead", {}, el("tr", {},
          el("th", { scope: "col" }, tr("mod_col_session")),
          el("th", { scope: "col", class: "num" }, tr("mod_col_capacity")),
          el("th", { scope: "col", class: "num" }, tr("mod_col_chosen")),
          el("th", { scope: "col", class: "num" }, tr("mod_col_placed")),
          el("th", { scope: "col", class: "num" }, tr("mod_col_connected")))),
        el("tbody", {}, rows),
        el("tfoot", {}, el("tr", {},
          el("th", { scope: "row" }, tr("mod_total")),
          number(sum(round.sessions, "capacity")),
          number(sum(round.sessions, "chosen")),
          number(sum(round.sessions, "placed")),
          number(sum(round.sessions, "connected")))))));
}

function renderRounds() {
  if (!rounds) return;
  const focused = document.activeElement && view.rounds.contains(document.activeElement) ? document.activeElement.id : null;
  if (!rounds.length) view.rounds.replaceChildren(el("p", { class: "muted" }, tr("mod_rounds_none")));
  else view.rounds.replaceChildren(...rounds.map(roundTable));
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

/** `seats:overflow`: Plein had to place people in a full session. Stays until dismissed. */
function onOverflow(data) {
  if (!data || typeof data.count !== "number") return;
  const phase = schedule.index.has(data.round) ? schedule.phases[schedule.index.get(data.round)] : null;
  const round = (rounds || []).find((x) => x.id === data.round);
  const titles = (data.sessions || []).map((id) => {
    const session = (round && round.sessions.find((x) => x.id === id)) || (phase && phase.sessions.find((x) => x.id === id));
    return session ? session.title : id;
  });
  const params = { title: phase ? phase.title : data.round, n: data.count, sessions: titles.join(", ") };
  view.overflowList.append(el("li", {}, tr("mod_overflow", params)));
  show(view.overflow, true);
  loadRounds();
}

// -- Jitsi check --------------------------------------------------------------------------------------

function renderJitsiCheck(result) {
  const box = view.jitsiCheck;
  if (!result) {
    box.replaceChildren(el("p", { class: "muted" }, tr("jitsi_check_none")));
    attr(box, "data-ok", null);
    return;
  }
  const checkedAt = typeof result.checked_at === "number" ? time(result.checked_at * 1000) : "";
  box.replaceChildren(
    el("p", { class: `check-result ${result.ok ? "check-result--ok" : "check-result--fail"}` },
      el("span", { class: "check-result__icon", "aria-hidden": "true" }, result.ok ? "✓" : "!"),
      result.ok ? tr("jitsi_check_ok") : `${tr("jitsi_check_fail")}: ${result.detail || ""}`),
    el("p", { class: "check-url" }, `${tr("jitsi_check_url")}: `, el("code", {}, result.url || "")),
    checkedAt ? el("p", { class: "muted" }, tr("jitsi_check_at", { time: checkedAt })) : null,
  );
  attr(box, "data-ok", result.ok ? "true" : "false");
}

async function recheck({ quiet = false } = {}) {
  view.recheck.disabled = true;
  if (!quiet) view.jitsiCheck.replaceChildren(el("p", { class: "muted" }, tr("jitsi_checking")));
  try {
    const result = await call("/jitsi-check", {});
    if (result.ok) renderJitsiCheck(result.data);
    else view.jitsiCheck.replaceChildren(el("p", { class: "alert" }, refusal(result)));
  } catch (error) {
    view.jitsiCheck.replaceChildren(el("p", { class: "alert" }, tr("mod_network_error")));
  } finally {
    view.recheck.disabled = false;
  }
}

// -- rendering --------------------------------------------------------------------------------------

function render() {
  const s = clock.state;
  if (!s) return;
  setText(view.pill, tr(`status_name_${s.status}`));
  attr(view.pill, "data-status", s.status);
  const running = s.status === "running" && s.phase;
  show(view.phaseKind, Boolean(running));
  if (running) {
    setText(view.phaseKind, tr(`kind_${s.phase.kind}`));
    view.phaseKind.className = `tag tag--${s.phase.kind}`;
  }
  let title = tr("mod_no_phase");
  if (running) title = s.phase.title;
  else if (s.status === "before" && s.next) title = tr("panel_before", { time: time(s.next.starts_at) });
  else if (s.status === "waiting") title = tr("panel_waiting");
  else if (s.status === "ended") title = tr("panel_ended");
  setText(view.phaseTitle, title);
  setText(view.nextLine, nextText(s, tr, time));
  setText(view.speed, s.speed === 1 ? tr("mod_speed_normal") : tr("mod_speed_rehearsal", { speed: s.speed }));
  // The countdown as the status pill says it: never "running" while the evening has not begun.
  const countdown = s.paused && s.status !== "ended" ? "paused" : s.status;
  setText(view.countdownFact, tr(`mod_countdown_${countdown}`));
  attr(view.countdownFact, "data-paused", s.paused ? "true" : null);
  renderButtons();
  renderProgramList();
  tick();
}

function renderButtons() {
  for (const button of view.buttons) {
    button.disabled = busy || !allowed(button.dataset.action, clock.state);
  }
}

function renderProgramList() {
  renderProgram(view.program, schedule, clock.state, {
    tr,
    time,
    played: true,
    extra: (phase) => (phase.sessions.length
      ? el("ul", { class: "sessions sessions--compact" }, phase.sessions.map((session) => el("li", { class: "session" },
        el("span", { class: "session__title" }, session.title),
        session.kind === "brainstorm" ? el("span", { class: "tag tag--brainstorm" }, tr("session_kind_brainstorm")) : null)))
      : null),
  });
}

function tick() {
  if (!clock.state) return;
  renderCountdown(view.countdown, clock, tr);
  if (clock.overdue()) requestState();
}

// -- the live overview, help requests, audit log -------------------------------------------------------

const overview = liveOverview({ tr, time, call, feedback: feedback(qs("#console-ok"), qs("#console-error")) });
const help = helpDesk({ tr, time, call });
const audit = auditLog({ tr, time, phases: config.event && config.event.phases });
const timeWithSeconds = timeFormatter(config.lang, config.timezone, { seconds: true });
for (const item of qsa(".mod-notes__item")) {
  const session = { id: item.dataset.session, title: qs(".mod-notes__title", item).textContent };
  item.append(noteHistory({ tr, time: timeWithSeconds, base, session }).node);
}
const controls = moderatorControls({ config, tr, time, call, onRotated: () => reconnect() });

/** The console's overview (push or GET): every panel takes its part; the clock takes its state. */
function onConsole(data) {
  if (!data || !Array.isArray(data.rooms) || revoked) return;
  plein.console = data;
  if (data.state) handleState({ ...data.state, room: null });
  overview.update(data);
  help.update(data.help);
  audit.update(data.audit);
  controls.update(data);
}

async function loadConsole() {
  try {
    const result = await getJson(`${base}/console`);
    if (result) onConsole(result);
  } catch (error) {
    console.warn("could not load the console", error);
  }
}

/** The key was changed (by another moderator, or this cookie no longer counts): sign in again. */
function onRevoked(data) {
  if (revoked || controls.rotating()) return;
  revoked = true;
  const by = data && data.by;
  setText(qs("#revoked-text"), by ? tr("revoked_by", { name: by }) : tr("revoked"));
  show(qs("#revoked-banner"), true);
  document.body.dataset.revoked = "true";
  controls.disableAll();
  socket.disconnect();
  qs("#revoked-link").focus();
}

/** A new socket after this page changed the key: the old connection still carries the old key's mark. */
function reconnect() {
  socket.disconnect();
  socket.connect();
}

// -- wiring -----------------------------------------------------------------------------------------

setText(view.participants, config.participants ?? "–");
for (const phase of schedule.phases) {
  view.jumpSelect.append(el("option", { value: phase.id }, `${time(phase.start)} · ${phase.title}`));
}
renderJitsiCheck(config.jitsi_check);
recheck({ quiet: Boolean(config.jitsi_check) }); // check the deployment now; the last result shows meanwhile
renderProgramList();
renderButtons();
foldForPhones();
for (const button of view.buttons) button.addEventListener("click", () => act(button));
view.recheck.addEventListener("click", () => recheck());
qs("#overflow-close").addEventListener("click", () => {
  show(view.overflow, false);
  view.overflowList.replaceChildren();
});
loadRounds();
loadConsole();
setInterval(() => { if (!document.hidden && !revoked) loadRounds(); }, 5000);
document.addEventListener("visibilitychange", () => { if (!document.hidden && !revoked) loadRounds(); });
window.addEventListener("pagehide", () => { unloading = true; });

const socket = window.io({ transports: ["websocket"], auth: { lang: config.lang } });
let connectedOnce = false;
socket.on("connect", () => {
  plein.connected = true;
  freshConnection = true;
  connection.show(null);
  if (connectedOnce) loadConsole(); // what changed while away (pushes are only sent on a change)
  connectedOnce = true;
});
socket.on("disconnect", (reason) => {
  plein.connected = false;
  if (unloading || revoked) return;
  if (reason === "io client disconnect") return; // reconnect() after a new key: back at once
  connection.show(tr("conn_lost"));
  if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000);
});
socket.on("connect_error", (error) => {
  if (unloading || revoked) return;
  if (error && error.data && error.data.code === "unauthorized" && !controls.rotating()) {
    onRevoked(null); // the key changed while this page was away: sign in again, as if told at once
    return;
  }
  const code = error && error.data && error.data.code;
  if (socket.active || code === "redis_down" || code === "storage_full") {
    connection.show(tr("conn_lost"));
    if (!socket.active) setTimeout(() => socket.connect(), 1000 + Math.random() * 2000); // the server's storage away: try again
    return;
  }
  connection.show((error && error.data && error.data.message) || tr("conn_refused"), true);
});
socket.on("state", handleState);
socket.on("console", onConsole);
socket.on("auth:revoked", onRevoked);
socket.on("seats:overflow", onOverflow);
socket.on("clock:warning", (data) => {
  if (data && typeof data.minutes === "number") warning.show(data);
});
setInterval(tick, 250);
