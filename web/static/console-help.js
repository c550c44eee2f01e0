// The moderator console's help requests: who asks, from which room, what they wrote, since when; answer with a
// message and mark done. A new request draws attention (highlight, count in the heading and in the tab title,
// a polite announcement); no sound. Each request keeps its own DOM node, so a typed answer survives the
// console's pushes.

import { el, feedback, messageForm, qs, refusal, setText, show } from "./helpers.js";

/** ctx: {tr, time, call}. Returns {update(helpRequests)}. */
export function helpDesk(ctx) {
  const { tr, time, call } = ctx;
  const view = {
    section: qs("#help-section"),
    list: qs("#help-list"),
    empty: qs("#help-empty"),
    count: qs("#help-count"),
    live: qs("#help-live"),
  };
  const items = new Map(); // id -> {node, head, thread, data, seen}
  const baseTitle = document.title;
  let first = true;

  function who(message) {
    if (message.from === "participant") return message.name;
    return tr(message.from === "host" ? "help_from_host" : "help_from_moderator", { name: message.name || "–" });
  }

  function headOf(item) {
    return el("div", { class: "help-item__head" },
      el("p", { class: "help-item__who" },
        el("strong", { class: "help-item__name" }, item.name),
        el("span", { class: "help-item__room" }, item.room ? item.room.title : tr("help_no_room"))),
      el("p", { class: "help-item__meta" },
        el("span", { class: `tag tag--help-${item.status}` }, tr(`help_status_${item.status}`)),
        el("span", {}, tr("help_asked_at", { time: time(item.asked_at) }))));
  }

  function threadOf(item) {
    if (!item.messages.length) return el("p", { class: "help-item__none muted" }, tr("help_no_text"));
    return el("ol", { class: "thread" }, item.messages.map((m) => el("li", { class: `thread__msg thread__msg--${m.from}` },
      el("p", { class: "thread__who" }, who(m), " · ", el("time", {}, time(m.at))),
      el("p", { class: "thread__text" }, m.text))));
  }

  function create(item) {
    const textId = `help-answer-${item.id}`;
    const counterId = `${textId}-count`;
    const text = el("textarea", { class: "input textarea", id: textId, rows: "2", maxlength: "500", "aria-describedby": counterId });
    const counter = el("span", { class: "counter", id: counterId });
    const answer = el("button", { type: "submit", class: "button button--small button--primary" }, tr("help_answer_button"));
    const done = el("button", { type: "button", class: "button button--small" }, tr("help_done_button"));
    const error = el("p", { class: "alert help-item__error", role: "alert" });
    const form = el("form", { class: "help-item__form", novalidate: true },
      el("label", { class: "field__label", for: textId }, tr("help_answer_label", { name: item.name })),
      text,
      counter,
      el("div", { class: "help-item__actions" }, answer, done),
      error);
    const head = headOf(item);
    const thread = threadOf(item);
    const node = el("li", { class: "help-item", dataset: { help: item.id } }, head, thread, form);
    const entry = { node, head, thread, data: item };
    messageForm({
      form, text, counter, button: answer, say: feedback(null, error), tr,
      empty: tr("help_answer_empty"),
      network: tr("mod_network_error"),
      send: (value) => call(`/help/${encodeURIComponent(item.id)}/answer`, { text: value }),
      sent: (data) => { refresh(entry, data); },
    });
    done.addEventListener("click", async () => {
      done.disabled = true;
      setText(error, "");
      try {
        const result = await call(`/help/${encodeURIComponent(item.id)}/done`, {});
        if (result.ok || (result.data && result.data.error && result.data.error.code === "help_done_already")) {
          remove(item.id);
          setText(view.live, tr("help_done_said", { name: item.name }));
        } else {
          setText(error, refusal(result));
          done.disabled = false;
        }
      } catch (e) {
        setText(error, tr("mod_network_error"));
        done.disabled = false;
      }
    });
    return entry;
  }

  /** Replace the head and the thread (never the form: an answer being typed stays). */
  function refresh(entry, item) {
    const grew = item.messages.length > entry.data.messages.length;
    const last = item.messages[item.messages.length - 1];
    if (JSON.stringify(item) === JSON.stringify(entry.data)) return false;
    entry.data = item;
    const head = headOf(item);
    const thread = threadOf(item);
    entry.head.replaceWith(head);
    entry.thread.replaceWith(thread);
    entry.head = head;
    entry.thread = thread;
    entry.node.dataset.status = item.status;
    return grew && last && last.from === "participant";
  }

  function remove(id) {
    const entry = items.get(id);
    if (!entry) return;
    entry.node.remove();
    items.delete(id);
    renderCount();
  }

  function renderCount() {
    const n = items.size;
    setText(view.count, String(n));
    show(view.count, n > 0);
    show(view.empty, n === 0);
    view.section.dataset.open = n > 0 ? "true" : "false";
    document.title = n > 0 ? `(${n}) ${baseTitle}` : baseTitle;
  }

  return {
    update(requests) {
      if (!Array.isArray(requests)) return;
      const fresh = [];
      const ids = new Set(requests.map((r) => r.id));
      for (const id of [...items.keys()]) if (!ids.has(id)) remove(id);
      let previous = null;
      for (const item of requests) {
        let entry = items.get(item.id);
        if (!entry) {
          entry = create(item);
          entry.node.dataset.status = item.status;
          items.set(item.id, entry);
          if (!first) fresh.push(item);
        } else if (refresh(entry, item)) {
          fresh.push(item);
        }
        if (!first && fresh.includes(item)) entry.node.classList.add("is-new");
        // Oldest first, as the server sends them.
        const want = previous ? previous.node.nextSibling : view.list.firstChild;
        if (want !== entry.node) view.list.insertBefore(entry.node, want);
        previous = entry;
      }
      first = false;
      renderCount();
      if (fresh.length === 1) {
        const item = fresh[0];
        setText(view.live, tr("help_new", { name: item.name, room: item.room ? item.room.title : tr("help_no_room") }));
      } else if (fresh.length > 1) {
        setText(view.live, tr("help_new_many", { n: fresh.length }));
      }
    },
  };
}
