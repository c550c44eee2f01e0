// The live page: the room the participant should be in (Jitsi IFrame API), the countdown, what comes
// next, "my evening" (where the participant will be in each phase) and the whole program.
// The server's `state` pushes decide; the page never navigates by itself (also not after a switch of session).

import { moveAnnouncer } from "./announcer.js";
import { connectionBanner, messageBanners, warningBanner } from "./banners.js";
import { attr, el, qs, qsa, readConfig, setText, show, translator } from "./helpers.js";
import {
  ClockState, Schedule, formatCountdown, nextText, renderCountdown, renderProgram, timeFormatter,
} from "./clock.js";
import { errorMessage, eventApi, getJson, placesText, putChoices } from "./seats.js";
import { chooseInvite } from "./live-choose.js";
import { helpBox } from "./live-help.js";
import { hostPanel } from "./live-host.js";
import { jitsiEmbed } from "./jitsi-embed.js";
import { statusBar } from "./live-statusbar.js";
import { bannerStack } from "./banner-stack.js";
import { notesPanel } from "./notes.js";

const config = readConfig();
const tr = translator(config.strings, config.lang);
const time = timeFormatter(config.lang, config.timezone);
const participant = config.participant || {};
const clock = new ClockState();
const schedule = new Schedule(config.event && config.event.phases);
const base = eventApi(config.slug);

const view = {
  youAre: qs("#you-are"),
  jitsi: qs("#jitsi"),
  panel: qs("#room-panel"),
  panelTitle: qs("#panel-title"),
  panelCountdown: qs("#panel-countdown"),
  panelSub: qs("#panel-sub"),
  panelAction: qs("#panel-action"),
  phaseKind: qs("#phase-kind"),
  nowLabel: qs("#now-label"),
  phaseTitle: qs("#phase-title"),
  roomLine: qs("#room-line"),
  roomTitle: qs("#room-title"),
  countdown: { block: qs("#countdown-block"), value: qs("#countdown"), label: qs("#countdown-label"), paused: qs("#paused-flag") },
  nextLine: qs("#next-line"),
  nextRoomLine: qs("#next-room-line"),
  program: qs("#program"),
  mine: qs("#mine"),
  mineChangeLine: qs("#mine-change-line"),
  tabs: qsa("[role=tab]"),
  switchBox: qs("#switch"),
  switchForm: qs("#switch-form"),
  switchSelect: qs("#switch-select"),
  switchButton: qs("#switch-button"),
  switchNone: qs("#switch-none"),
  switchError: qs("#switch-error"),
  switchStatus: qs("#switch-status"),
};

// Read-only view of what happens, for tests and for debugging in the console.
// jitsiRoles: every Jitsi role this page reported ({room, role}), the last one last.
const plein = { state: null, roomName: null, jitsiRoles: [], me: config.me || { choices: {}, placements: {} } };
window.plein = plein;

let lastPersonal = null; // the last `state` made for this participant (it has `next_room`)
const jwts = new Map(); // room name -> JWT, from personal states (shared pushes carry none)
let jitsiFailed = false;
let wanted = null; // the room the participant should be in
let askedJwtFor = null; // room name we already asked the server a JWT for
let leftRoom = null; // name of the room the participant hung up in
const connection = connectionBanner();
const warning = warningBanner(tr);
const messages = messageBanners(tr, time, config.slug);
const announcer = moveAnnouncer(qs("#announcer"), { tr, time });
const help = helpBox({ tr, time, base, messages });
const statusbar = statusBar({ openHelp: () => help.reveal() });
bannerStack({ tr });
const host = hostPanel({ tr, time, base, phases: () => eventData.phases || [] });
let scheduleVersion = null;
let freshConnection = false; // the first state after a (re)connect is the server's truth
let unloading = false;
let prefetchTimer = null;
let refused = null; // the server refused this participant's connection: the message
let me = plein.me; // {choices, placements}: this participant's seats, refreshed at each new phase
let meVersion = 0; // bumped at every write of `me`, so an answer that left before a newer write is dropped
let eventData = config.event || { phases: [] }; // rounds' switching, locked and places left
let mePhase; // the phase (or status) `me` was last refreshed for
let mineTimer = null;
let switchPending = null; // {session, title} after an accepted switch, until the server moves the page
let switchTimer = null;
let notes = null; // the brainstorm notes panel (notes.js), made once the socket exists
const invite = chooseInvite({
  tr,
  slug: config.slug,
  // Before the socket's first `state`, the round's status as the server rendered the page (never a running round).
  open: (round) => !round.locked && (clock.state ? roundStatus(round.id) : round.status) === "upcoming",
  reload: async () => {
    const fresh = await getJson(base);
    if (fresh) eventData = fresh;
    return fresh;
  },
  chosen: (mine) => {
    setMe(mine);
    renderMine();
    renderProgramList();
    renderInvite();
  },
});

// -- Jitsi ------------------------------------------------------------------------------------------

const jitsi = jitsiEmbed({
  parent: view.jitsi,
  scriptUrl: config.jitsi.script_url,
  lang: config.lang,
  displayName: participant.name,
  report: reportRole,
  onHangUp,
  frameTitle: (room) => tr("video_frame_title", { title: room.title }),
});

/** This page's Jitsi role in a room, for the moderator console (a claim it warns on, never a right). */
function reportRole(data) {
  plein.jitsiRoles = [...plein.jitsiRoles.slice(-19), data];
  // An error ack (an older server without the handler) changes nothing: the role is only ever a hint.
  if (plein.socket && plein.socket.connected) plein.socket.timeout(5000).emit("jitsi:role", data, () => {});
}

const embeddedName = () => (jitsi.room ? jitsi.room.name : null);

/** Leave the room on screen (Jitsi hangs up, the frame goes). */
function leaveRoom() {
  jitsi.leave();
  plein.roomName = null;
}

function embed(room) {
  if (embeddedName() === room.name) return;
  try {
    jitsi.open(room);
  } catch (error) {
    console.warn("Jitsi could not start", error);
    leaveRoom();
    jitsiFailed = true;
    render();
    return;
  }
  leftRoom = null;
  plein.roomName = room.name;
  render();
}

/** Jitsi's hang-up button: leave the iframe closed and offer a way back in. */
function onHangUp(room) {
  plein.roomName = null;
  leftRoom = room && room.name;
  render();
}

/** Make `room` (or no room) the one on screen; a room needing a JWT waits until one is known. */
function wantRoom(given) {
  const room = shownRoom(clock.state, given);
  wanted = room || null;
  if (!room) {
    leaveRoom();
    return;
  }
  if (leftRoom && leftRoom !== room.name) leftRoom = null; // a new phase: go in again
  if (leftRoom === room.name) return;
  if (embeddedName() === room.name) { // same room: leave the call alone (the foyer may now be the plenary)
    jitsi.retitle(room.title);
    return;
  }
  let target = room;
  if (room.token_required && !room.jwt) {
    const jwt = jwts.get(room.name);
    if (jwt) {
      target = { ...room, jwt };
    } else if (askedJwtFor !== room.name) {
      askedJwtFor = room.name; // the personal state from `state:get` carries it
      requestState();
      return;
    } // asked already and still none: go in without, the deployment will say what it needs
  }
  wanted = target;
  jitsi.load().then(() => {
    jitsiFailed = false;
    if (wanted && wanted.name === target.name) embed(wanted);
  }, (error) => {
    console.warn(error.message);
    jitsiFailed = true;
    render();
  });
}

function rememberJwts(state) {
  for (const room of [state.room, state.next_room]) {
    if (room && room.jwt) jwts.set(room.name, room.jwt);
  }
  while (jwts.size > 8) jwts.delete(jwts.keys().next().value);
}

// -- state ------------------------------------------------------------------------------------------

/** The id of the phase running on this page (null before the first or after the last; undefined: not known yet). */
function phaseNow() {
  const s = clock.state;
  if (!s) return undefined;
  return s.phase ? s.phase.id : null;
}

/**
 * A `state`'s room as the page names it: during a break the plenary room is open as the foyer, and is called so
 * (not after the plenary whose room it is, which may not have happened yet). `foyer` says which it is.
 */
function shownRoom(state, room) {
  if (!room) return null;
  const foyer = Boolean(state && state.phase && state.phase.kind === "break" && !room.session);
  return foyer ? { ...room, title: tr("foyer"), foyer } : { ...room, foyer };
}

/**
 * Where the participant goes after this phase, when the next phase's own name does not say it: their seat in a
 * round (known ahead from their seats), or the foyer in a break. Null otherwise.
 */
function nextSeat(state) {
  if (!state || state.status === "ended" || !state.next) return null;
  const phase = roundInfo(state.next.id);
  if (phase && phase.kind === "break") return { title: tr("foyer") };
  return phase && phase.kind === "round" ? seatIn(phase) : null;
}

function handleState(state) {
  if (!state || typeof state !== "object") return;
  rememberJwts(state);
  if (freshConnection) clock.state = null; // after a reconnect the server's word wins, whatever its version
  freshConnection = false;
  if (refused) return;
  if (!clock.accept(state)) {
    // An older personal state can still hold the JWT the current room waits for.
    const current = clock.state && clock.state.room;
    if (current && embeddedName() !== current.name) wantRoom(current);
    return;
  }
  if ("next_room" in state) lastPersonal = state;
  plein.state = state;
  schedule.update(state);
  refreshScheduleIfChanged(state.version);
  refreshMineOnNewPhase(state);
  if (switchPending && (!state.phase || !state.room || !state.room.session || state.room.session.id === switchPending.session)) {
    endSwitch(state.room && state.room.session && state.room.session.id === switchPending.session);
  }
  if (warning.data && !warningStillTrue(state)) warning.hide();
  messages.phase(phaseNow()); // what belonged to an earlier phase goes
  announcer.state(state, shownRoom(state, state.room));
  wantRoom(state.room);
  prefetchNextJwt(state);
  host.state(state);
  if (notes) notes.state(state);
  render();
}

/** `moved`: a moderator put this participant in another room; the new `state` follows and moves the page. */
function onMoved(data) {
  if (!data || !data.to || typeof data.round !== "string") return;
  messages.moved(data, phaseNow());
  setMe({ ...me, placements: { ...(me.placements || {}), [data.round]: data.to.id } });
  renderMine();
  renderProgramList();
}

/**
 * With JWTs, a shared transition push names the room but carries no token. Fetch this participant's
 * own state once during the phase (at a random moment, so not everyone at once), so the next room's
 * JWT is already here when the next push comes.
 */
function prefetchNextJwt(state) {
  if (!config.jitsi.token_required || !state.next || prefetchTimer) return;
  if (lastPersonal && lastPersonal.next && lastPersonal.next.id === state.next.id) return;
  const left = clock.remaining() ?? 60000;
  const delay = Math.random() * Math.min(30000, Math.max(1000, left / 2));
  prefetchTimer = setTimeout(() => {
    prefetchTimer = null;
    requestState();
  }, delay);
}

/** Ask the server for this participant's state (after a missed push, or for a room's JWT). */
function requestState() {
  if (!socket.connected) return;
  socket.timeout(8000).emit("state:get", (err, ack) => {
    if (err || !ack) return; // no answer: the countdown asks again
    if (ack.error) {
      console.warn("state:get", ack.error.code, ack.error.message);
      if (ack.error.code === "unauthorized") showRefused(ack.error.message);
      return;
    }
    if (ack.ok && ack.state) handleState(ack.state);
  });
}

/** After a moderator changed the clock, fetch every phase's new times (spread out over a few seconds). */
function refreshScheduleIfChanged(version) {
  if (scheduleVersion === null || version === scheduleVersion) {
    scheduleVersion = version;
    return;
  }
  scheduleVersion = version;
  setTimeout(async () => {
    try {
      const event = await getJson(base);
      if (!event) return;
      eventData = event;
      schedule.reset(event.phases);
      schedule.update(clock.state);
      renderProgramList();
      renderMine();
      renderInvite();
    } catch (error) {
      console.warn("could not refresh the program", error);
    }
  }, Math.random() * 4000);
}

// -- my evening and switching ----------------------------------------------------------------------

const roundInfo = (id) => (eventData.phases || []).find((p) => p.id === id) || null;

/** upcoming | running | over, by the clock as this page knows it. */
function roundStatus(id) {
  const s = clock.state;
  if (!s || s.status === "waiting" || s.status === "before") return "upcoming";
  if (s.status === "ended" || !s.phase) return "over";
  const i = schedule.index.get(id);
  const cur = schedule.index.get(s.phase.id);
  if (i === cur) return "running";
  return i > cur ? "upcoming" : "over";
}

/** Some round still takes choices: offer the way to the choose page. */
function canChange() {
  return schedule.phases.some((p) => p.kind === "round" && roundStatus(p.id) === "upcoming" && !(roundInfo(p.id) || {}).locked);
}

/** The running round allows moving to another session now. */
function canSwitch() {
  const s = clock.state;
  if (refused || !s || s.status !== "running" || !s.phase || s.phase.kind !== "round" || !s.room) return false;
  const round = roundInfo(s.phase.id);
  return Boolean(round && round.switching && !round.locked);
}

/** The session this participant has (or will have) in a round: their seat, or the room they are in now. */
function seatIn(phase) {
  const placements = (me && me.placements) || {};
  let id = placements[phase.id];
  const s = clock.state;
  if (!id && s && s.phase && s.phase.id === phase.id && s.room && s.room.session) id = s.room.session.id;
  return id ? (phase.sessions || []).find((x) => x.id === id) || null : null;
}

/**
 * A new phase: if it is a round this page knows no seat in, fetch the seats again, so the placement Plein
 * made at the round's start shows up (with the places left). Spread over a few seconds.
 */
function refreshMineOnNewPhase(state) {
  const key = state.phase ? state.phase.id : state.status;
  const first = mePhase === undefined;
  if (key === mePhase) return;
  mePhase = key;
  // Seats change at a phase change only for someone Plein has just placed: ask only in a round where this
  // page knows no seat (so a transition costs requests only from those placed, not from everyone).
  if (!(state.phase && state.phase.kind === "round" && !(me.placements || {})[state.phase.id])) return;
  clearTimeout(mineTimer);
  mineTimer = setTimeout(refreshMine, first ? 0 : Math.random() * 3000);
}

function setMe(value) {
  me = value;
  plein.me = value;
  meVersion += 1;
}

async function refreshMine() {
  mineTimer = null;
  const s = clock.state;
  const inRound = Boolean(s && s.phase && s.phase.kind === "round");
  const asked = meVersion;
  try {
    const [mine, fresh] = await Promise.all([
      getJson(`${base}/participants/me`),
      inRound ? getJson(base) : Promise.resolve(null),
    ]);
    // A switch made while this request was out wrote a newer `me`; this answer would undo it on screen.
    if (asked !== meVersion) return;
    if (mine) setMe(mine);
    if (fresh) eventData = fresh;
    renderMine();
    renderProgramList();
    renderInvite();
    renderSwitch();
  } catch (error) {
    console.warn("could not refresh my evening", error);
  }
}

async function loadSwitchOptions() {
  view.switchSelect.disabled = true;
  view.switchSelect.replaceChildren(el("option", { value: "" }, tr("switch_loading")));
  try {
    const fresh = await getJson(base);
    if (fresh) eventData = fresh;
  } catch (error) {
    console.warn("could not load the places left", error);
  }
  renderSwitchOptions();
}

function renderSwitchOptions() {
  const s = clock.state;
  const round = s && s.phase ? roundInfo(s.phase.id) : null;
  const current = s && s.room && s.room.session ? s.room.session.id : null;
  const others = round ? (round.sessions || []).filter((x) => x.id !== current && x.places_left > 0) : [];
  const keep = view.switchSelect.value;
  view.switchSelect.replaceChildren(...others.map((x) => el("option", { value: x.id },
    tr("switch_option", { title: x.title, places: placesText(tr, x.places_left) }))));
  if (others.some((x) => x.id === keep)) view.switchSelect.value = keep;
  view.switchSelect.disabled = !others.length;
  show(view.switchSelect.parentElement, others.length > 0);
  show(view.switchNone, !others.length);
  view.switchButton.disabled = !others.length || Boolean(switchPending);
}

function renderSwitch() {
  const visible = canSwitch();
  show(view.switchBox, visible || Boolean(switchPending));
  if (!visible && !switchPending && view.switchBox.open) view.switchBox.open = false;
}

async function doSwitch(event) {
  event.preventDefault();
  const s = clock.state;
  const id = view.switchSelect.value;
  if (!id || !s || !s.phase || switchPending) return;
  const round = roundInfo(s.phase.id);
  const session = round && (round.sessions || []).find((x) => x.id === id);
  view.switchButton.disabled = true;
  setText(view.switchError, "");
  let result;
  try {
    result = await putChoices(config.slug, { [s.phase.id]: id });
  } catch (error) {
    setText(view.switchError, tr("switch_network"));
    view.switchButton.disabled = false;
    return;
  }
  if (!result.ok) {
    setText(view.switchError, errorMessage(result));
    await loadSwitchOptions();
    return;
  }
  setMe(result.data);
  // The server moves this page with a new `state`; wait for it (and ask, should it not come).
  switchPending = { session: id, title: session ? session.title : id };
  setText(view.switchStatus, tr("switch_moving", { title: switchPending.title }));
  clearTimeout(switchTimer);
  switchTimer = setTimeout(() => { if (switchPending) requestState(); }, 4000);
  render();
}

function endSwitch(moved) {
  switchPending = null;
  clearTimeout(switchTimer);
  setText(view.switchStatus, "");
  if (moved) view.switchBox.open = false;
}

function selectTab(tab, focus = false) {
  for (const other of view.tabs) {
    const on = other === tab;
    other.setAttribute("aria-selected", String(on));
    other.tabIndex = on ? 0 : -1;
    show(document.getElementById(other.getAttribute("aria-controls")), on);
  }
  if (focus) tab.focus();
  try {
    sessionStorage.setItem("plein-tab", tab.id);
  } catch (error) {
    // private mode: the tab is not remembered
  }
}

// -- warnings and connection ----------------------------------------------------------------------

function onWarning(data) {
  if (!data || typeof data.minutes !== "number") return;
  const s = clock.state;
  if (s && s.phase && data.phase && s.phase.id !== data.phase) return; // a phase we already left
  warning.show(data);
}

function warningStillTrue(state) {
  const shown = warning.data;
  if (!state.phase || state.phase.id !== shown.phase || state.status !== "running") return false;
  const minutesLeft = ((state.remaining || 0) * (state.speed || 1)) / 60;
  return minutesLeft <= shown.minutes + 0.5; // extended since: the warning no longer holds
}

function showRefused(message) {
  leaveRoom();
  wanted = null;
  refused = message || tr("conn_refused");
  connection.show(refused, true);
  render();
}

// -- rendering --------------------------------------------------------------------------------------

function render() {
  renderNow();
  renderPanel();
  renderProgramList();
  renderMine();
  renderInvite();
  renderSwitch();
  if (view.switchBox.open && !switchPending) renderSwitchOptions();
  tick();
}

function renderNow() {
  const s = clock.state;
  if (refused) {
    show(view.countdown.block, false); // no longer told the time: show none rather than a wrong one
    statusbar.time(null);
  }
  if (!s) return;
  const running = s.status === "running" && s.phase;
  show(view.phaseKind, Boolean(running));
  if (running) {
    setText(view.phaseKind, tr(`kind_${s.phase.kind}`));
    view.phaseKind.className = `tag tag--${s.phase.kind}`;
  }
  show(view.nowLabel, Boolean(running));
  let title = "";
  if (running) title = s.phase.title;
  else if (s.status === "before" && s.next) title = tr("panel_before", { time: time(s.next.starts_at) });
  else if (s.status === "waiting") title = tr("panel_waiting");
  else if (s.status === "ended") title = tr("panel_ended");
  setText(view.phaseTitle, title);
  const room = running ? shownRoom(s, s.room) : null;
  const roomSaysMore = Boolean(room && (room.session || room.title !== s.phase.title));
  show(view.roomLine, roomSaysMore);
  statusbar.now(title, running ? s.phase.kind : null, roomSaysMore ? room.title : "");
  setText(view.roomTitle, room ? room.title : "");
  setText(view.nextLine, nextText(s, tr, time));
  // Known from this page's own seats, so it holds after every shared transition push (which carries no next room).
  const next = nextSeat(s);
  show(view.nextRoomLine, Boolean(next));
  setText(view.nextRoomLine, next ? tr("next_room", { title: next.title }) : "");
  attr(document.body, "data-status", s.status);
}

let panelAction = null;

function renderPanel() {
  const s = clock.state;
  let title = "";
  let sub = "";
  let countdown = false;
  let action = null;
  if (refused) {
    title = refused;
    action = { label: tr("conn_back_link"), run: () => { window.location.href = connection.link.href; } };
  } else if (!s) {
    title = tr("connecting");
  } else if (!s.room) {
    if (s.status === "before" && s.next) {
      title = tr("panel_before", { time: time(s.next.starts_at) });
      sub = tr("panel_before_sub");
      countdown = true;
    } else if (s.status === "ended") {
      title = tr("panel_ended");
      sub = tr("panel_ended_sub");
    } else if (s.status === "waiting") {
      title = tr("panel_waiting");
      sub = tr("panel_waiting_sub");
    } else {
      title = tr("panel_no_room");
      sub = tr("panel_no_room_sub");
    }
  } else if (leftRoom === s.room.name) {
    title = tr("jitsi_left");
    action = { label: tr("jitsi_rejoin"), run: () => { leftRoom = null; wantRoom(clock.state.room); render(); } };
  } else if (jitsiFailed && !jitsi.room) {
    title = tr("jitsi_load_failed");
    action = { label: tr("jitsi_retry"), run: () => { jitsiFailed = false; wantRoom(clock.state.room); render(); } };
  } else if (!jitsi.room) {
    title = tr("connecting");
  }
  const visible = Boolean(title);
  show(view.panel, visible);
  attr(view.panel, "data-state", visible ? (s ? s.status : "connecting") : null);
  setText(view.panelTitle, title);
  setText(view.panelSub, sub);
  show(view.panelSub, Boolean(sub));
  show(view.panelCountdown, countdown);
  panelAction = action;
  show(view.panelAction, Boolean(action));
  setText(view.panelAction, action ? action.label : "");
}

function renderProgramList() {
  renderProgram(view.program, schedule, clock.state, {
    tr,
    time,
    // Every session of a round; the participant's own one marked.
    extra: (phase) => {
      if (!phase.sessions.length) return null;
      const mine = seatIn(phase);
      return el("ul", { class: "sessions sessions--compact" }, phase.sessions.map((session) => {
        const own = Boolean(mine && mine.id === session.id);
        return el("li", { class: `session${own ? " is-mine" : ""}` },
          el("span", { class: "session__title" }, session.title),
          session.kind === "brainstorm" ? el("span", { class: "tag tag--brainstorm" }, tr("session_kind_brainstorm")) : null,
          own ? el("span", { class: "tag tag--mine" }, tr("your_room")) : null);
      }));
    },
  });
}

/** The invitation to choose the coming round's session (never shown to a page the server refused). */
function renderInvite() {
  invite.render(refused ? [] : eventData.phases || [], me);
}

/** "Mijn avond": per phase where this participant will be. */
function renderMine() {
  renderProgram(view.mine, schedule, clock.state, {
    tr,
    time,
    extra: (phase) => {
      let text = "";
      let open = false;
      if (phase.kind === "plenary") text = tr("mine_plenary");
      else if (phase.kind === "break") text = tr("mine_break");
      else {
        const session = seatIn(phase);
        if (session) {
          text = session.title;
          // A brainstorm that is over: its notes stay readable for the rest of the evening.
          if (session.kind === "brainstorm" && roundStatus(phase.id) === "over" && notes) {
            const read = el("button", { class: "button button--small program__notes", type: "button", dataset: { notes: session.id } },
              tr("mine_read_notes"));
            read.addEventListener("click", () => notes.openSession(session.id, session.title));
            return [el("p", { class: "program__where" }, el("span", { class: "visually-hidden" }, `${tr("mine_where")}: `), text), read];
          }
        } else if (roundStatus(phase.id) === "over") text = "–";
        else {
          text = tr("mine_not_chosen");
          open = true;
        }
      }
      return el("p", { class: `program__where${open ? " is-open" : ""}` },
        el("span", { class: "visually-hidden" }, `${tr("mine_where")}: `), text);
    },
  });
  show(view.mineChangeLine, !refused && canChange());
}

function tick() {
  if (!clock.state || refused) return;
  renderCountdown(view.countdown, clock, tr);
  statusbar.time(clock.remaining(), Boolean(clock.state.paused));
  if (!view.panelCountdown.hidden) {
    const ms = clock.remaining();
    setText(view.panelCountdown, ms === null ? "" : formatCountdown(ms));
  }
  if (clock.overdue()) requestState(); // the countdown ran out and no push came: a late push never leaves a room open
}

// -- wiring -----------------------------------------------------------------------------------------

setText(view.youAre, participant.name ? tr("you_are", { name: participant.name }) : "");
view.panelAction.addEventListener("click", () => panelAction && panelAction.run());
view.switchBox.addEventListener("toggle", () => {
  if (view.switchBox.open && !switchPending) {
    setText(view.switchError, "");
    loadSwitchOptions();
  }
});
view.switchForm.addEventListener("submit", doSwitch);
view.tabs.forEach((tab, i) => {
  tab.addEventListener("click", () => selectTab(tab));
  tab.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 1, ArrowUp: -1 }[event.key];
    let next = null;
    if (step) next = view.tabs[(i + step + view.tabs.length) % view.tabs.length];
    else if (event.key === "Home") next = view.tabs[0];
    else if (event.key === "End") next = view.tabs[view.tabs.length - 1];
    if (!next) return;
    event.preventDefault();
    selectTab(next, true);
  });
});
try {
  const remembered = document.getElementById(sessionStorage.getItem("plein-tab") || "");
  if (remembered && view.tabs.includes(remembered)) selectTab(remembered);
} catch (error) {
  // no sessionStorage: the first tab
}
window.addEventListener("pagehide", () => { unloading = true; });
// A phone that wakes up: timers were asleep, so check the clock at once (and ask if it ran out).
document.addEventListener("visibilitychange", () => { if (!document.hidden) tick(); });
renderProgramList();
renderMine();
renderInvite();
jitsi.load().catch(() => {}); // start early; a failure shows when a room is wanted

const socket = window.io({ transports: ["websocket"], auth: { lang: config.lang } });
plein.socket = socket; // for tests: they close and reopen it to show what a lost connection does
notes = notesPanel({
  tr, config, socket, base,
  layout: (on) => qs("main.live").classList.toggle("has-notes", on),
});
socket.on("connect", () => {
  freshConnection = true;
  refused = null;
  connection.show(null);
  help.load(); // a request may have been answered or closed while away
  jitsi.reportAgain(); // the role in the room this page is in (a restarted server may not know it)
  notes.connected();
});
socket.on("disconnect", (reason) => {
  notes.disconnected();
  if (unloading) return;
  connection.show(tr("conn_lost"));
  if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000); // not retried by itself
});
socket.on("connect_error", (error) => {
  if (unloading) return;
  const data = error && error.data;
  const storage = data && (data.code === "redis_down" || data.code === "storage_full");
  if (socket.active || storage) {
    connection.show(tr("conn_lost")); // network trouble, or the server's storage away: try again
    if (!socket.active) setTimeout(() => socket.connect(), 1000 + Math.random() * 2000); // not retried by itself
    return;
  }
  showRefused(data && data.message);
});
socket.on("state", handleState);
socket.on("clock:warning", onWarning);
socket.on("broadcast", (item) => messages.broadcast(item, phaseNow()));
socket.on("moved", onMoved);
socket.on("help:answer", help.answer);
socket.on("help:done", help.done);
socket.on("help:status", help.status);
socket.on("host:room", host.room);
socket.on("auth:removed", () => {
  // A moderator took this participant out of the evening: say so, and do not knock again.
  socket.disconnect();
  showRefused(`${tr("removed_title")}. ${tr("removed_text")}`);
});
setInterval(tick, 250);
