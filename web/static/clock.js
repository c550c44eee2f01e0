// The program clock as the page sees it: ordering of `state` pushes, the server-time offset, the
// local countdown, the schedule of every phase, and the program list. Shared by live.js and moderator.js.

import { attr, bcp47, el, setText, show } from "./helpers.js";

const STATUS = ["waiting", "before", "running", "ended"];
export const OVERDUE_MS = 1500; // no push this long after a deadline: ask the server ourselves
const RETRY_MS = 5000; // still overdue after asking: ask again this often

/** "mm:ss", or "h:mm:ss" from an hour; whole seconds rounded up so 0:00 means "now". */
export function formatCountdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

/** HH:MM in the event's time zone (Europe/Amsterdam), whatever the device's zone. */
export function timeFormatter(lang, timeZone, { seconds = false } = {}) {
  const fmt = new Intl.DateTimeFormat(bcp47(lang), {
    timeZone: timeZone || "Europe/Amsterdam", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    ...(seconds ? { second: "2-digit" } : {}),
  });
  return (value) => {
    const ms = typeof value === "number" ? value : Date.parse(value);
    return Number.isFinite(ms) ? fmt.format(new Date(ms)) : "";
  };
}

/**
 * Keeps the newest `state` and the offset between the server's clock and ours.
 * A state with a lower version is ignored; with the same version, one read earlier on the server is too
 * (a natural transition does not change the version, so the server time orders those).
 */
export class ClockState {
  constructor() {
    this.state = null;
    this.offset = 0; // server time minus local time, ms
    this.lastRequestAt = -Infinity;
    this.lastDeadline = null;
  }

  /** Take a state if it is not older than the one we have; returns true when taken. */
  accept(state) {
    if (!state || typeof state !== "object" || !STATUS.includes(state.status)) return false;
    const serverTime = Date.parse(state.server_time);
    const cur = this.state;
    if (cur) {
      if (state.version < cur.version) return false;
      if (state.version === cur.version && serverTime < Date.parse(cur.server_time)) return false;
    }
    if (Number.isFinite(serverTime)) this.offset = serverTime - Date.now();
    this.state = state;
    return true;
  }

  /** Now on the server's clock, in ms. */
  now() {
    return Date.now() + this.offset;
  }

  /** When the shown countdown ends (ms, server clock): the phase's end, or the start before the evening. */
  deadline() {
    const s = this.state;
    if (!s) return null;
    if (s.status === "running" && s.phase) return Date.parse(s.phase.ends_at);
    if (s.status === "before" && s.next) return Date.parse(s.next.starts_at);
    return null;
  }

  /** Milliseconds left on the countdown; frozen at the pushed `remaining` while paused. */
  remaining() {
    const s = this.state;
    const deadline = this.deadline();
    if (!s || deadline === null) return null;
    if (s.paused) {
      if (s.status === "running" && typeof s.remaining === "number") return s.remaining * 1000;
      return Math.max(0, deadline - Date.parse(s.server_time));
    }
    return Math.max(0, deadline - this.now());
  }

  /**
   * True when the countdown ran out locally and no newer state arrived: time to emit `state:get`
   * (once after OVERDUE_MS, then every RETRY_MS while still overdue).
   */
  overdue() {
    const s = this.state;
    const deadline = this.deadline();
    if (!s || s.paused || deadline === null) return false;
    if (deadline !== this.lastDeadline) {
      this.lastDeadline = deadline;
      this.lastRequestAt = -Infinity;
    }
    const now = this.now();
    if (now < deadline + OVERDUE_MS || Date.now() - this.lastRequestAt < RETRY_MS) return false;
    this.lastRequestAt = Date.now();
    return true;
  }
}

/**
 * Effective start/end of every phase. Starts from the event's phases (effective times at page load) and
 * follows each state: the current and next phase come from the state; later phases keep their length
 * and follow on (the timeline's rule); the phase before the current one ends where it starts.
 */
export class Schedule {
  constructor(phases) {
    this.phases = (phases || []).map((p) => ({
      id: p.id, kind: p.kind, title: p.title, sessions: p.sessions || [],
      start: Date.parse(p.starts_at), end: Date.parse(p.ends_at), ran: runsOf(p),
    }));
    this.index = new Map(this.phases.map((p, i) => [p.id, i]));
  }

  /** Replace every time from a fresh GET /api/events/<slug> (after a moderator changed the clock). */
  reset(phases) {
    for (const p of phases || []) {
      const i = this.index.get(p.id);
      if (i === undefined) continue;
      this.phases[i].start = Date.parse(p.starts_at);
      this.phases[i].end = Date.parse(p.ends_at);
      this.phases[i].ran = runsOf(p);
    }
  }

  update(state) {
    if (!state || state.status === "waiting") return;
    const set = (slot) => {
      const i = slot ? this.index.get(slot.id) : undefined;
      if (i === undefined) return -1;
      this.phases[i].start = Date.parse(slot.starts_at);
      this.phases[i].end = Date.parse(slot.ends_at);
      return i;
    };
    const cur = set(state.phase);
    const nxt = set(state.next);
    if (cur > 0) this.phases[cur - 1].end = Math.min(this.phases[cur - 1].end, this.phases[cur].start);
    // Phases skipped between the current and the next one have no length.
    if (cur >= 0 && nxt > cur) {
      for (let i = cur + 1; i < nxt; i += 1) this.phases[i].start = this.phases[i].end = this.phases[cur].end;
    }
    const from = Math.max(cur, nxt);
    if (from < 0) return;
    for (let i = from + 1; i < this.phases.length; i += 1) {
      const length = Math.max(0, this.phases[i].end - this.phases[i].start);
      this.phases[i].start = this.phases[i - 1].end;
      this.phases[i].end = this.phases[i].start + length;
    }
  }
}

/** A phase's `ran` from the server: [{start, end}] in ms; end null while it runs. */
function runsOf(phase) {
  return (Array.isArray(phase.ran) ? phase.ran : []).map((r) => ({
    start: Date.parse(r.starts_at), end: r.ends_at ? Date.parse(r.ends_at) : null,
  }));
}

/**
 * The times a played phase actually ran ([{start, end}]): the server's record; a run still open when it was
 * read ended where the schedule (which follows every push since) ends the phase. A played phase without a
 * record ran as scheduled (it began after the page read the program and nobody touched the clock since).
 */
export function playedTimes(phase) {
  const runs = (phase.ran || []).map((r) => ({ start: r.start, end: r.end === null ? phase.end : r.end }))
    .filter((r) => r.end > r.start);
  return runs.length ? runs : [{ start: phase.start, end: phase.end }];
}

/** Earlier runs of a phase that is not behind us (the clock went back past it): [{start, end}], closed ones. */
function earlierRuns(phase) {
  return (phase.ran || []).filter((r) => r.end !== null && r.end > r.start && r.end <= phase.start);
}

function timeRange(time, start, end) {
  return [
    el("time", { datetime: new Date(start).toISOString() }, time(start)),
    el("span", { "aria-hidden": "true" }, "–"),
    el("span", { class: "visually-hidden" }, " – "),
    el("time", { datetime: new Date(end).toISOString() }, time(end)),
  ];
}

/**
 * Render the whole program into an <ol>, the current phase marked with aria-current="step".
 * `extra(phase)` may return a node to add under a phase (e.g. the participant's own session).
 */
export function renderProgram(list, schedule, state, { tr, time, extra = () => null, played = false }) {
  const currentId = state && state.phase ? state.phase.id : null;
  const nextId = state && state.next ? state.next.id : null;
  const currentIndex = currentId !== null && schedule.index.has(currentId) ? schedule.index.get(currentId) : -1;
  const items = schedule.phases.map((p, i) => {
    const current = p.id === currentId;
    const done = Boolean(state) && (state.status === "ended" || (currentIndex >= 0 && i < currentIndex));
    const classes = ["program__phase", `program__phase--${p.kind}`];
    if (current) classes.push("is-current");
    if (p.id === nextId) classes.push("is-next");
    if (done && !current) classes.push("is-done");
    const skipped = p.end <= p.start && state && state.status !== "waiting";
    if (skipped) classes.push("is-skipped");
    // With `played` (the console): a phase behind us shows when it actually ran, each run if it ran more than once.
    const ran = played && done && !current && (!skipped || (p.ran || []).some((r) => r.end === null || r.end > r.start));
    const runs = ran ? playedTimes(p) : [{ start: p.start, end: p.end }];
    const before = played && !ran ? earlierRuns(p) : [];
    if (ran) classes.push("is-played");
    return el("li", { class: classes.join(" "), dataset: ran ? { phase: p.id, played: "true" } : { phase: p.id },
      "aria-current": current ? "step" : null },
      el("p", { class: "program__time" },
        runs.map((r, n) => el("span", { class: "program__run" }, n ? ", " : null, ...timeRange(time, r.start, r.end)))),
      el("div", { class: "program__body" },
        el("p", { class: "program__head" },
          el("span", { class: `tag tag--${p.kind}` }, tr(`kind_${p.kind}`)),
          current ? el("span", { class: "tag tag--now" }, tr("program_now")) : null,
          ran ? el("span", { class: "tag tag--played" }, tr("program_played")) : null),
        el("p", { class: "program__title" }, p.title),
        before.length ? el("p", { class: "program__earlier" }, tr("program_ran_before"), " ",
          before.map((r, n) => el("span", { class: "program__run" }, n ? ", " : null, ...timeRange(time, r.start, r.end))))
          : null,
        extra(p)));
  });
  list.replaceChildren(...items);
}

/** Fill the countdown block: the value, its label, the paused flag. */
export function renderCountdown(nodes, clock, tr) {
  const s = clock.state;
  const ms = clock.remaining();
  show(nodes.block, ms !== null);
  if (ms === null) return;
  setText(nodes.value, formatCountdown(ms));
  setText(nodes.label, s.status === "before" ? tr("starts_in") : tr("time_left"));
  show(nodes.paused, Boolean(s.paused));
  attr(nodes.block, "data-paused", s.paused ? "true" : null);
}

/** "Hierna: <title> om HH:MM" (or without a time while waiting for the moderator). */
export function nextText(state, tr, time) {
  if (!state) return "";
  if (state.status === "ended") return "";
  if (!state.next) return state.status === "running" ? tr("next_none") : "";
  if (state.status === "waiting") return tr("next_title", { title: state.next.title });
  return tr("next_at", { title: state.next.title, time: time(state.next.starts_at) });
}
