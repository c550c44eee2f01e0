// The live page: the room the participant should be in (Jitsi IFrame API), the countdown, what comes
// next and the whole program. The server's `state` pushes decide; the page never navigates by itself.

import { connectionBanner, warningBanner } from "./banners.js";
import { attr, el, qs, readConfig, setText, show, translator } from "./helpers.js";
import {
  ClockState, Schedule, formatCountdown, nextText, renderCountdown, renderProgram, timeFormatter,
} from "./clock.js";

const config = readConfig();
const tr = translator(config.strings);
const time = timeFormatter(config.lang, config.timezone);
const participant = config.participant || {};
const clock = new ClockState();
const schedule = new Schedule(config.event && config.event.phases);

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
};

// Read-only view of what happens, for tests and for debugging in the console.
const plein = { state: null, roomName: null, api: null };
window.plein = plein;

let lastPersonal = null; // the last `state` made for this participant (it has `next_room`)
const jwts = new Map(); // room name -> JWT, from personal states (shared pushes carry none)
let jitsiLoading = null; // Promise while external_api.js loads
let jitsiFailed = false;
let api = null;
let embedded = null; // the room in the iframe now
let wanted = null; // the room the participant should be in
let askedJwtFor = null; // room name we already asked the server a JWT for
let leftRoom = null; // name of the room the participant hung up in
const connection = connectionBanner();
const warning = warningBanner(tr);
let scheduleVersion = null;
let freshConnection = false; // the first state after a (re)connect is the server's truth
let unloading = false;
let prefetchTimer = null;
let refused = null; // the server refused this participant's connection: the message

// -- Jitsi ------------------------------------------------------------------------------------------

/** Load the IFrame API of the configured deployment (once; again after a failure). */
function loadJitsi() {
  if (window.JitsiMeetExternalAPI) return Promise.resolve();
  if (!jitsiLoading) {
    const script = document.createElement("script");
    jitsiLoading = new Promise((resolve, reject) => {
      script.src = config.jitsi.script_url;
      script.async = true;
      script.onload = () => (window.JitsiMeetExternalAPI ? resolve() : reject(new Error("no JitsiMeetExternalAPI")));
      script.onerror = () => reject(new Error(`could not load ${config.jitsi.script_url}`));
      document.head.append(script);
    }).catch((error) => {
      script.remove();
      jitsiLoading = null;
      throw error;
    });
  }
  return jitsiLoading;
}

function disposeRoom() {
  if (api) {
    try {
      api.dispose();
    } catch (error) {
      console.warn("Jitsi dispose failed", error);
    }
  }
  api = null;
  embedded = null;
  plein.api = null;
  plein.roomName = null;
}

function embed(room) {
  if (api && embedded && embedded.name === room.name) return;
  disposeRoom();
  const options = {
    roomName: room.name,
    parentNode: view.jitsi,
    width: "100%",
    height: "100%",
    lang: config.lang,
    userInfo: { displayName: participant.name },
    // disableDeepLinking: phones stay in the browser instead of being sent to the app store.
    configOverwrite: { prejoinConfig: { enabled: false }, subject: room.title, disableDeepLinking: true },
    interfaceConfigOverwrite: {},
  };
  if (room.jwt) options.jwt = room.jwt;
  try {
    api = new window.JitsiMeetExternalAPI(room.domain, options);
  } catch (error) {
    console.warn("Jitsi could not start", error);
    jitsiFailed = true;
    render();
    return;
  }
  embedded = room;
  leftRoom = null;
  plein.api = api;
  plein.roomName = room.name;
  if (typeof api.addListener === "function") api.addListener("readyToClose", onHangUp);
  render();
}

/** Jitsi's hang-up button: leave the iframe closed and offer a way back in. */
function onHangUp() {
  const name = embedded && embedded.name;
  disposeRoom();
  leftRoom = name;
  render();
}

/** Make `room` (or no room) the one on screen; a room needing a JWT waits until one is known. */
function wantRoom(room) {
  wanted = room || null;
  if (!room) {
    disposeRoom();
    return;
  }
  if (leftRoom && leftRoom !== room.name) leftRoom = null; // a new phase: go in again
  if (leftRoom === room.name) return;
  if (api && embedded && embedded.name === room.name) return; // same room: leave the call alone
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
  loadJitsi().then(() => {
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

function handleState(state) {
  if (!state || typeof state !== "object") return;
  rememberJwts(state);
  if (freshConnection) clock.state = null; // after a reconnect the server's word wins, whatever its version
  freshConnection = false;
  if (refused) return;
  if (!clock.accept(state)) {
    // An older personal state can still hold the JWT the current room waits for.
    const current = clock.state && clock.state.room;
    if (current && !(embedded && embedded.name === current.name)) wantRoom(current);
    return;
  }
  if ("next_room" in state) lastPersonal = state;
  plein.state = state;
  schedule.update(state);
  refreshScheduleIfChanged(state.version);
  if (warning.data && !warningStillTrue(state)) warning.hide();
  wantRoom(state.room);
  prefetchNextJwt(state);
  render();
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
      const response = await fetch(`/api/events/${encodeURIComponent(config.slug)}`, {
        credentials: "same-origin", headers: { Accept: "application/json" },
      });
      if (!response.ok) return;
      const event = await response.json();
      schedule.reset(event.phases);
      schedule.update(clock.state);
      renderProgramList();
    } catch (error) {
      console.warn("could not refresh the program", error);
    }
  }, Math.random() * 4000);
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
  disposeRoom();
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
  tick();
}

function renderNow() {
  const s = clock.state;
  if (refused) show(view.countdown.block, false); // no longer told the time: show none rather than a wrong one
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
  const room = running ? s.room : null;
  show(view.roomLine, Boolean(room && (room.session || room.title !== s.phase.title)));
  setText(view.roomTitle, room ? room.title : "");
  setText(view.nextLine, nextText(s, tr, time));
  const nextRoom = running && lastPersonal && lastPersonal.next_room && s.next && lastPersonal.next
    && lastPersonal.next.id === s.next.id ? lastPersonal.next_room : null;
  show(view.nextRoomLine, Boolean(nextRoom && nextRoom.session));
  setText(view.nextRoomLine, nextRoom && nextRoom.session ? tr("next_room", { title: nextRoom.title }) : "");
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
  } else if (jitsiFailed && !embedded) {
    title = tr("jitsi_load_failed");
    action = { label: tr("jitsi_retry"), run: () => { jitsiFailed = false; wantRoom(clock.state.room); render(); } };
  } else if (!embedded) {
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
  const s = clock.state;
  renderProgram(view.program, schedule, s, {
    tr,
    time,
    extra: (phase) => {
      // The participant's own session in the current and the next round.
      let room = null;
      if (s && s.phase && s.phase.id === phase.id) room = s.room;
      else if (lastPersonal && lastPersonal.next && lastPersonal.next.id === phase.id) room = lastPersonal.next_room;
      if (!room || !room.session) return null;
      return el("p", { class: "program__mine" }, `${tr("your_room")}: `, el("strong", {}, room.title));
    },
  });
}

function tick() {
  if (!clock.state || refused) return;
  renderCountdown(view.countdown, clock, tr);
  if (!view.panelCountdown.hidden) {
    const ms = clock.remaining();
    setText(view.panelCountdown, ms === null ? "" : formatCountdown(ms));
  }
  if (clock.overdue()) requestState(); // the countdown ran out and no push came: a late push never leaves a room open
}

// -- wiring -----------------------------------------------------------------------------------------

setText(view.youAre, participant.name ? tr("you_are", { name: participant.name }) : "");
view.panelAction.addEventListener("click", () => panelAction && panelAction.run());
window.addEventListener("pagehide", () => { unloading = true; });
// A phone that wakes up: timers were asleep, so check the clock at once (and ask if it ran out).
document.addEventListener("visibilitychange", () => { if (!document.hidden) tick(); });
renderProgramList();
loadJitsi().catch(() => {}); // start early; a failure shows when a room is wanted

const socket = window.io({ transports: ["websocket"], auth: { lang: config.lang } });
socket.on("connect", () => {
  freshConnection = true;
  refused = null;
  connection.show(null);
});
socket.on("disconnect", (reason) => {
  if (unloading) return;
  connection.show(tr("conn_lost"));
  if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000); // not retried by itself
});
socket.on("connect_error", (error) => {
  if (unloading) return;
  if (socket.active) {
    connection.show(tr("conn_lost")); // network trouble: socket.io keeps trying by itself
    return;
  }
  const data = error && error.data;
  showRefused(data && data.message);
});
socket.on("state", handleState);
socket.on("clock:warning", onWarning);
setInterval(tick, 250);
