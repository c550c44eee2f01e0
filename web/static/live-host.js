// The host panel on the live page, for a participant who hosts a session: who is in their room now (from the
// `host:room` pushes and GET sessions/<sid>/room), and a message to their room only.

import { el, feedback, messageForm, qs, sendJson, setText, show } from "./helpers.js";
import { getJson } from "./seats.js";

/** ctx: {tr, time, base, phases: () => event phases}. Returns {state(state), room(entry)}. */
export function hostPanel(ctx) {
  const { tr, time, base } = ctx;
  const view = {
    panel: qs("#host-panel"),
    title: qs("#host-title"),
    later: qs("#host-later"),
    now: qs("#host-now"),
    count: qs("#host-count"),
    people: qs("#host-people"),
    peopleCount: qs("#host-people-count"),
    form: qs("#host-form"),
    text: qs("#host-text"),
    counter: qs("#host-text-count"),
    send: qs("#host-send"),
    say: feedback(qs("#host-ok"), qs("#host-error")),
  };
  let hosting = []; // session ids; shared transition pushes carry none, so the last known list is kept
  let running = null; // {id, title} of the hosted session of the running round
  let room = null; // its overview entry

  function sessionsOf(ids) {
    const out = [];
    for (const phase of ctx.phases()) {
      for (const session of phase.sessions || []) {
        if (ids.includes(session.id)) out.push({ id: session.id, title: session.title, round: phase });
      }
    }
    return out;
  }

  function render() {
    const mine = sessionsOf(hosting);
    show(view.panel, mine.length > 0);
    if (!mine.length) return;
    setText(view.title, tr("host_title", { title: (running || mine[0]).title }));
    const others = mine.filter((s) => !running || s.id !== running.id);
    setText(view.later, others.length ? tr("host_also", { titles: others.map((s) => `${s.title} (${s.round.title})`).join(", ") }) : "");
    show(view.later, others.length > 0);
    show(view.now, Boolean(running));
    if (!running) return;
    const present = room ? room.present : [];
    setText(view.count, room ? tr(typeof room.capacity === "number" ? "host_count" : "host_count_plain",
      { n: room.count, max: room.capacity }) : tr("connecting"));
    setText(view.peopleCount, String(present.length));
    view.people.replaceChildren(...present.map((p) => el("li", { class: "person" },
      el("span", { class: "person__label" }, p.name),
      p.since ? el("span", { class: "person__since" }, tr("console_since", { time: time(p.since) })) : null)));
  }

  async function loadRoom() {
    if (!running) return;
    try {
      const data = await getJson(`${base}/sessions/${encodeURIComponent(running.id)}/room`);
      if (data && data.session === running.id) {
        room = data;
        render();
      }
    } catch (error) {
      console.warn("could not load my room", error);
    }
  }

  messageForm({
    form: view.form,
    text: view.text,
    counter: view.counter,
    button: view.send,
    say: view.say,
    tr,
    empty: tr("broadcast_empty"),
    network: tr("mod_network_error"),
    send: (text) => sendJson(`${base}/broadcasts`, { text, session: running && running.id }),
    sent: (data) => tr("host_sent", { time: time(data.at * 1000) }),
  });

  return {
    /** Every `state`: which hosted session runs now (and its room when it changed). */
    state(state) {
      if (!state) return;
      if (Array.isArray(state.hosting)) hosting = state.hosting;
      const phase = state.status === "running" && state.phase && state.phase.kind === "round" ? state.phase : null;
      const now = phase ? sessionsOf(hosting).find((s) => s.round.id === phase.id) || null : null;
      const changed = (now && now.id) !== (running && running.id);
      running = now;
      if (changed) {
        room = null;
        view.say.clear();
        loadRoom();
      }
      render();
    },
    /** `host:room`: the room's overview entry (at most once a second). */
    room(entry) {
      if (!entry || !running || entry.session !== running.id) return;
      room = entry;
      render();
    },
    reload: loadRoom,
  };
}
