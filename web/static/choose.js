// The choose page: a session per round (radio groups), saved in one PUT of the rounds that changed.
// A full session is answered with suggestions; the page refreshes the places left and stays.

import { el, qs, readConfig, setText, show, translator } from "./helpers.js";
import { timeFormatter } from "./clock.js";
import { errorMessage, eventApi, getJson, placesText, putChoices, roundEditable } from "./seats.js";

const config = readConfig();
const tr = translator(config.strings, config.lang);
const time = timeFormatter(config.lang, config.timezone);
const base = eventApi(config.slug);

const view = {
  form: qs("#choose-form"),
  rounds: qs("#rounds"),
  error: qs("#choose-error"),
  save: qs("#choose-save"),
  later: qs("#choose-later"),
};

let event = config.event || { phases: [] };
let me = config.me || { choices: {}, placements: {} };
const selected = new Map(); // round id -> session id, or null for "no preference" (what the form shows)
const roundErrors = new Map(); // round id -> {message, suggestions}
let saving = false;

// Read-only view for tests and debugging.
window.plein = { selected, get me() { return me; } };

const rounds = () => (event.phases || []).filter((p) => p.kind === "round");
const choices = () => me.choices || {};
const placements = () => me.placements || {};

/** What the server has for this round, as the form shows it. */
function initial(round) {
  if (round.id in choices()) return choices()[round.id];
  if (round.status === "running" && round.id in placements()) return placements()[round.id];
  return null;
}

/** Is this session open to the participant: room left, or already their seat? */
function open(round, session) {
  return session.places_left > 0 || placements()[round.id] === session.id;
}

function sessionTitle(round, id) {
  const session = (round.sessions || []).find((s) => s.id === id);
  return session ? session.title : id;
}

// -- rendering --------------------------------------------------------------------------------------

function render() {
  const list = rounds();
  const focused = document.activeElement && document.activeElement.id;
  if (!list.length) {
    view.rounds.replaceChildren(el("p", { class: "notice notice--info" }, tr("choose_no_rounds")));
  } else {
    view.rounds.replaceChildren(...list.map((round) => (roundEditable(round) ? editableRound(round) : readonlyRound(round))));
  }
  const anyEditable = list.some(roundEditable);
  setText(view.save, saving ? tr("choose_saving") : anyEditable ? tr("choose_save") : tr("go_live"));
  view.save.disabled = saving;
  view.form.setAttribute("aria-busy", saving ? "true" : "false");
  show(view.later.parentElement, anyEditable);
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

function roundHead(round, tag) {
  const start = el("time", { datetime: round.starts_at }, time(round.starts_at));
  const end = el("time", { datetime: round.ends_at }, time(round.ends_at));
  return [
    el(tag, { class: "round-choice__head", id: `round-${round.id}-title` },
      el("span", { class: "round-choice__time" }, start, el("span", { "aria-hidden": "true" }, "–"),
        el("span", { class: "visually-hidden" }, " – "), end),
      el("span", { class: "round-choice__title" }, round.title)),
    round.status === "running" || round.locked
      ? el("p", { class: "round-choice__tags" },
        round.status === "running" ? el("span", { class: "tag tag--now" }, tr("round_now")) : null,
        round.locked ? el("span", { class: "tag tag--locked" }, tr("round_locked_tag")) : null)
      : null,
  ];
}

function statusNote(round) {
  let key = null;
  if (round.status === "over") key = "round_status_over";
  else if (round.locked) key = "round_status_locked";
  else if (round.status === "running") key = round.switching ? "round_status_switching" : "round_status_running";
  return key ? el("p", { class: "round-choice__status" }, tr(key)) : null;
}

function hostsLine(session) {
  const hosts = session.hosts || [];
  if (!hosts.length) return null;
  return el("span", { class: "option__hosts" },
    tr(hosts.length === 1 ? "choose_hosts" : "choose_hosts_many", { names: hosts.join(", ") }));
}

function editableRound(round) {
  if (!selected.has(round.id)) selected.set(round.id, initial(round));
  // A selection that is no longer possible (the session filled up meanwhile) falls back to the saved one.
  const want = selected.get(round.id);
  const wanted = want && (round.sessions || []).find((s) => s.id === want);
  if (want && (!wanted || !open(round, wanted))) selected.set(round.id, initial(round));
  const current = selected.get(round.id);
  const name = `round-${round.id}`;
  const options = (round.sessions || []).map((session) => {
    const id = `opt-${round.id}-${session.id}`;
    const mine = placements()[round.id] === session.id;
    const disabled = !open(round, session);
    const input = el("input", { class: "option__input", type: "radio", name, id, value: session.id });
    input.checked = current === session.id;
    input.disabled = disabled;
    return el("label", { class: `option${disabled ? " is-full" : ""}`, for: id, dataset: { session: session.id } },
      input,
      el("span", { class: "option__body" },
        el("span", { class: "option__top" },
          el("span", { class: "option__title" }, session.title),
          session.kind === "brainstorm" ? el("span", { class: "tag tag--brainstorm" }, tr("session_kind_brainstorm")) : null),
        hostsLine(session),
        session.description ? el("span", { class: "option__description" }, session.description) : null,
        el("span", { class: `option__places${session.places_left > 0 ? "" : " is-full"}` },
          mine && !(session.places_left > 0) ? tr("choose_yours_full") : placesText(tr, session.places_left))));
  });
  if (round.status === "upcoming") {
    const id = `opt-${round.id}__none`;
    const input = el("input", { class: "option__input", type: "radio", name, id, value: "" });
    input.checked = current === null;
    options.push(el("label", { class: "option option--none", for: id },
      input,
      el("span", { class: "option__body" },
        el("span", { class: "option__title" }, tr("choose_none_option")),
        el("span", { class: "option__description" }, tr("choose_none_hint")))));
  }
  const [head, tags] = roundHead(round, "legend");
  const fieldset = el("fieldset", { class: "round-choice", dataset: { round: round.id, status: round.status } },
    head, tags, statusNote(round), errorBox(round), el("div", { class: "options" }, options));
  fieldset.addEventListener("change", (e) => {
    if (e.target.name !== name) return;
    selected.set(round.id, e.target.value || null);
    if (roundErrors.delete(round.id)) qs(".round-choice__error", fieldset)?.remove();
  });
  return fieldset;
}

function errorBox(round) {
  const error = roundErrors.get(round.id);
  if (!error) return null;
  const suggestions = (error.suggestions || []).map((s) => el("li", {},
    el("button", { class: "button button--small", type: "button", dataset: { suggest: s.id } },
      tr("choose_pick", { title: s.title, places: placesText(tr, s.places_left) }))));
  const box = el("div", { class: "round-choice__error", id: `round-${round.id}-error`, tabindex: "-1" },
    el("p", { class: "round-choice__error-text", role: "alert" }, error.message),
    suggestions.length ? el("p", { class: "round-choice__suggest-label" }, tr("choose_suggestions")) : null,
    suggestions.length ? el("ul", { class: "suggestions" }, suggestions) : null);
  box.addEventListener("click", (e) => {
    const button = e.target.closest("[data-suggest]");
    if (!button) return;
    pick(round.id, button.dataset.suggest);
  });
  return box;
}

/** Select a suggested session: check its radio and move the focus there. */
function pick(roundId, sessionId) {
  selected.set(roundId, sessionId);
  roundErrors.delete(roundId);
  render();
  const radio = document.getElementById(`opt-${roundId}-${sessionId}`);
  if (radio) {
    radio.checked = true;
    radio.focus();
  }
}

function readonlyRound(round) {
  const seat = placements()[round.id];
  let line = null;
  if (seat) {
    const chosen = choices()[round.id] === seat;
    line = el("p", { class: "round-choice__seat" },
      el("span", { class: "round-choice__seat-label" }, `${tr("choose_your_seat")}: `),
      el("strong", {}, sessionTitle(round, seat)),
      chosen ? null : el("span", { class: "round-choice__placed" }, ` (${tr("choose_placed_by_plein")})`));
  } else if (round.status !== "over") {
    line = el("p", { class: "round-choice__seat round-choice__seat--none" }, tr("choose_not_placed"));
  }
  const [head, tags] = roundHead(round, "h2");
  return el("section", {
    class: "round-choice round-choice--readonly", dataset: { round: round.id, status: round.status, readonly: "true" },
    "aria-labelledby": `round-${round.id}-title`,
  }, head, tags, statusNote(round), errorBox(round), line);
}

// -- saving -----------------------------------------------------------------------------------------

/** Fresh places left, locks and seats; what the participant selected stays where still possible. */
async function refresh() {
  const [fresh, mine] = await Promise.all([
    getJson(base).catch(() => null),
    getJson(`${base}/participants/me`).catch(() => null),
  ]);
  if (fresh) event = fresh;
  if (mine) me = mine;
}

function goLive() {
  window.location.href = view.later.href;
}

async function save(e) {
  e.preventDefault();
  if (saving) return;
  const body = {};
  for (const round of rounds()) {
    if (!roundEditable(round) || !selected.has(round.id)) continue;
    const want = selected.get(round.id);
    if (want !== initial(round)) body[round.id] = want;
  }
  if (!Object.keys(body).length) {
    goLive();
    return;
  }
  saving = true;
  setText(view.error, "");
  roundErrors.clear();
  render();
  let result = null;
  try {
    result = await putChoices(config.slug, body);
  } catch (error) {
    saving = false;
    setText(view.error, tr("mod_network_error"));
    render();
    return;
  }
  if (result.ok) {
    me = result.data;
    goLive();
    return;
  }
  const error = (result.data && result.data.error) || {};
  if (error.round) { // full, locked, over, …: said next to the round it is about
    roundErrors.set(error.round, { message: error.message, suggestions: error.suggestions || [] });
    setText(view.error, tr("choose_not_saved"));
  } else {
    setText(view.error, errorMessage(result));
  }
  await refresh();
  saving = false;
  render();
  const box = error.round && document.getElementById(`round-${error.round}-error`);
  if (box) {
    box.scrollIntoView({ block: "center" });
    box.focus({ preventScroll: true });
  } else {
    view.error.scrollIntoView({ block: "center" });
  }
}

view.form.addEventListener("submit", save);
render();
