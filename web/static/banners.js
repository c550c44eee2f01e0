// The connection banner and the clock-warning banner (markup: templates/_banners.html), shared by the
// live page and the moderator page; the live page's stack of messages (broadcasts, a move, help answers).

import { attr, el, qs, setText, show } from "./helpers.js";

/** The banner that says the connection is lost (and comes back) or was refused (with a way out). */
export function connectionBanner() {
  const box = qs("#conn-banner");
  const text = qs("#conn-text");
  const link = qs("#conn-link");
  return {
    link,
    /** A message, or null to hide; withLink when the page cannot recover by itself. */
    show(message, withLink = false) {
      show(box, Boolean(message));
      setText(text, message || "");
      show(link, withLink);
      attr(box, "data-kind", withLink ? "refused" : message ? "lost" : null);
    },
  };
}

/** The banner for `clock:warning` ({minutes, phase, ends_at}); it stays until dismissed or no longer true. */
export function warningBanner(tr) {
  const content = qs("#warning-content");
  const text = qs("#warning-text");
  const banner = {
    data: null,
    show(data) {
      banner.data = data;
      const key = data.minutes === 5 ? "warning_5" : data.minutes === 1 ? "warning_1" : "warning_n";
      content.dataset.phase = data.phase || "";
      show(content, true);
      setText(text, tr(key, { minutes: data.minutes }));
    },
    hide() {
      banner.data = null;
      show(content, false);
      setText(text, "");
    },
  };
  qs("#warning-close").addEventListener("click", () => banner.hide());
  return banner;
}

const DISMISSED_KEPT = 200;

/**
 * The stack of messages on the live page (markup: templates/_banners.html `message_banners`): moderators'
 * broadcasts, the notice of a move, answers to a help request. Each stays until dismissed; the ids of dismissed
 * ones are kept in localStorage, so the replay after a reconnect does not bring them back. The stack is an
 * assertive live region: a screen reader reads a new message at once.
 */
export function messageBanners(tr, time, slug) {
  const stack = qs("#messages");
  const storeKey = `plein:${slug}:dismissed`;
  const shown = new Map(); // id -> node
  let current; // the phase the messages on screen belong to (see `phase`)

  function dismissed() {
    try {
      const list = JSON.parse(localStorage.getItem(storeKey) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (error) {
      return [];
    }
  }

  function dismiss(id, remember) {
    const node = shown.get(id);
    if (node) {
      const next = node.nextElementSibling || node.previousElementSibling;
      node.remove();
      shown.delete(id);
      if (next && next.querySelector("button")) next.querySelector("button").focus();
    }
    if (!remember) return;
    try {
      const list = dismissed().filter((x) => x !== id);
      list.push(id);
      localStorage.setItem(storeKey, JSON.stringify(list.slice(-DISMISSED_KEPT)));
    } catch (error) {
      // private mode: forgotten after a reload
    }
  }

  /** Show one message unless it is on screen already or was dismissed. kind: broadcast | moved | answer.
   * `phase`: the phase it belongs to (it goes when another phase starts), or undefined to keep it. */
  function add(id, kind, meta, text, extra = null, phase = undefined) {
    if (shown.has(id) || dismissed().includes(id)) return;
    const close = el("button", { type: "button", class: "button button--quiet banner__close", "aria-label": tr("message_dismiss") },
      tr("dismiss"));
    const bound = phase === undefined ? {} : { phase: phase === null ? "" : phase };
    const node = el("div", { class: `message message--${kind}`, dataset: { message: id, kind, ...bound } },
      el("span", { class: "message__icon", "aria-hidden": "true" }),
      el("div", { class: "message__body" },
        meta ? el("p", { class: "message__meta" }, meta, extra) : null,
        el("p", { class: "message__text" }, text)),
      close);
    close.addEventListener("click", () => dismiss(id, kind !== "moved"));
    shown.set(id, node);
    stack.append(node);
  }

  return {
    /** `broadcast` {id, text, from, at (epoch s), session: {id, title} | null, phase, lifetime}; `now`: the id of
     * the phase running on this page (null before the first). One for its phase only is dropped in another phase. */
    broadcast(item, now) {
      if (!item || typeof item.id !== "string" || typeof item.text !== "string") return;
      const bound = item.lifetime !== "evening";
      if (bound && now !== undefined && (item.phase ?? null) !== now) return; // said in a phase that is over
      const meta = tr("message_from", { name: item.from || tr("message_moderator"), time: time(item.at * 1000) });
      const roomOnly = item.session ? el("span", { class: "tag tag--room-only" }, tr("message_room_only")) : null;
      add(`b-${item.id}`, "broadcast", meta, item.text, roomOnly, bound ? item.phase ?? null : undefined);
    },
    /** `moved` {round, from, to: {id, title}, by}: one notice at a time, until the next phase starts. */
    moved(data, now) {
      if (!data || !data.to) return;
      for (const [id, node] of shown) if (node.dataset.kind === "moved") { node.remove(); shown.delete(id); }
      add(`m-${data.round}-${data.to.id}-${Date.now()}`, "moved", null, tr("moved_notice", { title: data.to.title }), null,
        now ?? null);
    },
    /** Another phase runs (`now`: its id, or null): what belonged to an earlier phase goes. */
    phase(now) {
      if (now === current) return;
      current = now;
      for (const [id, node] of [...shown]) {
        if (node.dataset.phase !== undefined && node.dataset.phase !== (now ?? "")) {
          node.remove();
          shown.delete(id);
        }
      }
    },
    /** The newest answer to this participant's help request. */
    answer(request) {
      const last = request && request.messages && request.messages[request.messages.length - 1];
      if (!last || last.from === "participant") return;
      add(`a-${request.id}-${request.messages.length}`, "answer",
        tr("message_answer_from", { name: last.name || tr("message_moderator"), time: time(last.at) }), last.text);
    },
  };
}
