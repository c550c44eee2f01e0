// Earlier versions of a brainstorm's note, for moderators (console, per session) and the session's host (notes
// panel): the snapshots the server keeps (one a minute), who wrote how much after each (what a restore undoes),
// who wrote how much in all, and "restore" behind a confirmation. GET .../notes/<sid>/history and
// POST .../notes/<sid>/restore; the server restores by editing the note, so every open page follows.

import { askDialog, el, refusal, sendJson, setText } from "./helpers.js";
import { getJson } from "./seats.js";

const kb = (n) => (n >= 1024 ? `${Math.round(n / 1024)} kB` : `${n} B`);

/** ctx: {tr, time (with seconds), base, session: {id, title}}. Returns {node}: a <details> that loads when opened. */
export function noteHistory({ tr, time, base, session }) {
  const people = (list) => list.map((p) => `${p.restore ? tr("history_restore_by", { name: p.name }) : p.name} ${kb(p.bytes)}`)
    .join(", ");
  const url = `${base}/notes/${encodeURIComponent(session.id)}`;
  const list = el("ol", { class: "history__list" });
  const who = el("p", { class: "history__who muted" });
  const writers = el("ul", { class: "history__writers" });
  const ok = el("p", { class: "mod-ok", role: "status", "aria-live": "polite" });
  const error = el("p", { class: "alert", role: "alert" });
  const node = el("details", { class: "history" },
    el("summary", { class: "history__summary" }, tr("history_heading")),
    el("p", { class: "muted history__intro" }, tr("history_intro")), who, writers, list, ok, error);

  /** "Haal weg wat X schreef": one person's writing out of the note, for everyone (after a confirmation). */
  function writer(person) {
    const button = el("button", { type: "button", class: "button button--small button--quiet" },
      tr("history_hide", { name: person.name }));
    button.addEventListener("click", async () => {
      const sure = await askDialog({ title: tr("history_hide_title", { name: person.name }), text: tr("history_hide_text"),
        confirm: tr("history_hide_button"), cancel: tr("dialog_cancel"), danger: true });
      if (!sure) return;
      button.disabled = true;
      const result = await sendJson(`${url}/hide`, { participant: person.id }).catch(() => null);
      button.disabled = false;
      if (result && result.ok) {
        setText(error, "");
        setText(ok, tr("history_hidden", { name: person.name }));
        await load();
      } else {
        setText(ok, "");
        setText(error, result ? refusal(result) : tr("history_unavailable"));
      }
    });
    return el("li", { class: "history__writer" }, button);
  }

  function item(snap) {
    const button = el("button", { type: "button", class: "button button--small" }, tr("history_restore"),
      el("span", { class: "visually-hidden" }, `: ${time(snap.at)}`));
    button.addEventListener("click", () => restore(snap, button));
    return el("li", { class: "history__item" },
      el("span", { class: "history__time" }, time(snap.at)),
      el("span", { class: "history__chars" }, tr("history_chars", { n: snap.chars })),
      snap.before_restore ? el("span", { class: "history__tag" }, tr("history_before_restore")) : null,
      el("q", { class: "history__preview" }, snap.preview ? snap.preview.slice(0, 80) : tr("history_empty")),
      el("span", { class: "history__after muted" }, snap.after.length ? tr("history_after", { people: people(snap.after) }) : ""),
      button);
  }

  async function load() {
    const data = await getJson(`${url}/history`);
    if (!data) {
      setText(error, tr("history_unavailable"));
      return;
    }
    setText(error, "");
    setText(who, data.contributions.length ? tr("history_who", { people: people(data.contributions) }) : "");
    writers.replaceChildren(...data.contributions.filter((p) => !p.restore && !p.id.includes(":") && p.bytes > 0).map(writer));
    list.replaceChildren(...data.snapshots.slice().reverse().map(item));
    if (!data.snapshots.length) list.append(el("li", { class: "muted" }, tr("history_none")));
  }

  async function restore(snap, button) {
    const sure = await askDialog({
      title: tr("history_confirm_title", { time: time(snap.at) }),
      text: tr("history_confirm_text", { title: session.title }),
      confirm: tr("history_restore"), cancel: tr("dialog_cancel"), danger: true,
    });
    if (!sure) return;
    button.disabled = true;
    try {
      const result = await sendJson(`${url}/restore`, { snapshot: snap.id });
      if (result.ok) {
        setText(error, "");
        setText(ok, tr("history_restored", { time: time(snap.at) }));
        await load();
      } else {
        setText(ok, "");
        setText(error, refusal(result));
      }
    } catch (err) {
      setText(error, tr("history_unavailable"));
    } finally {
      button.disabled = false;
    }
  }

  node.addEventListener("toggle", () => { if (node.open) load(); });
  return { node };
}
