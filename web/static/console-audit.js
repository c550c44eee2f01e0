// The moderator console's audit log: the newest actions first, each as who, when and a readable sentence.
// The whole log is a CSV download (GET audit.csv).

import { el, qs } from "./helpers.js";

/** ctx: {tr, time, phases}. Returns {update(entries)}. */
export function auditLog(ctx) {
  const { tr, time } = ctx;
  const list = qs("#audit-list");
  const phases = new Map();
  const sessions = new Map();
  for (const phase of ctx.phases || []) {
    phases.set(phase.id, phase.title);
    for (const session of phase.sessions || []) sessions.set(session.id, session.title);
  }
  const phaseTitle = (id) => phases.get(id) || id || "–";
  const sessionTitle = (id) => sessions.get(id) || id || "–";
  let last = null;

  function clockText(d) {
    switch (d.action) {
      case "extend":
        return d.minutes < 0 ? tr("audit_clock_shorten", { n: -d.minutes }) : tr("audit_clock_extend", { n: d.minutes });
      case "jump":
        return tr("audit_clock_jump", { title: phaseTitle(d.phase) });
      case "start": case "advance": case "back": case "pause": case "resume": case "end":
        return tr(`audit_clock_${d.action}`);
      default:
        return tr("audit_clock_other", { action: d.action });
    }
  }

  /** One entry as a sentence in the page's language. */
  function describe(entry) {
    const d = entry.details || {};
    const person = d.participant && typeof d.participant === "object" ? d.participant.name : d.participant;
    switch (entry.action) {
      case "clock": return clockText(d);
      case "move":
        return d.from
          ? tr("audit_move", { name: person, from: sessionTitle(d.from), to: sessionTitle(d.to) })
          : tr("audit_move_new", { name: person, to: sessionTitle(d.to) });
      case "broadcast":
        return d.session
          ? tr("audit_broadcast_room", { title: sessionTitle(d.session), text: d.text })
          : tr("audit_broadcast_all", { text: d.text });
      case "signup": return tr(d.open ? "audit_signup_open" : "audit_signup_closed");
      case "lock": return tr(d.locked ? "audit_lock_on" : "audit_lock_off", { title: phaseTitle(d.round) });
      case "host": return tr(d.host ? "audit_host_on" : "audit_host_off", { name: person, title: sessionTitle(d.session) });
      case "help_answer": return tr("audit_help_answer", { name: person, text: d.text });
      case "help_done": return tr("audit_help_done", { name: person });
      case "notes_restore": return tr("audit_notes_restore", { title: sessionTitle(d.session) });
      case "rotate_key": return tr("audit_rotate_key");
      case "remove": return tr("audit_remove", { name: person });
      case "notes_hide": return tr("audit_notes_hide", { name: person, text: d.text });
      case "card_hide": return tr(d.hidden ? "audit_card_hide" : "audit_card_show", { name: person, text: d.text });
      case "host_link": return tr("audit_host_link", { title: sessionTitle(d.session) });
      case "sign_in": return tr("audit_sign_in");
      default: return entry.action;
    }
  }

  function whoText(who) {
    const name = (who && who.name) || tr("audit_nameless");
    if (!who || who.kind === "moderator") return name;
    return tr(who.kind === "host" ? "audit_who_host" : "audit_who_participant", { name });
  }

  return {
    update(entries) {
      if (!Array.isArray(entries)) return;
      const key = JSON.stringify(entries[0] || null) + entries.length;
      if (key === last) return;
      last = key;
      if (!entries.length) {
        list.replaceChildren(el("li", { class: "audit__empty muted" }, tr("audit_empty")));
        return;
      }
      list.replaceChildren(...entries.map((entry) => el("li", { class: "audit__entry", dataset: { action: entry.action } },
        el("time", { class: "audit__time", datetime: entry.at }, time(entry.at)),
        el("span", { class: "audit__who" }, whoText(entry.who)),
        el("span", { class: "audit__what" }, describe(entry)))));
    },
  };
}
