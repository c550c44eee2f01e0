// "Ik kom er niet uit": a participant asks the moderators for help from the live page. A small form (the text
// may stay empty), then the status of the request, the answers as they come, and "Gelukt, bedankt" to close
// it. The server's word wins: `help:answer`, `help:done`, `help:status`, and GET participants/me/help after
// every (re)connect.

import { charCounter, el, qs, refusal, sendJson, setText, show } from "./helpers.js";
import { getJson } from "./seats.js";

/** ctx: {tr, time, base, messages (banners.messageBanners)}. Returns {answer, done, status, load, reveal}. */
export function helpBox(ctx) {
  const { tr, time, base } = ctx;
  const view = {
    open: qs("#help-open"),
    form: qs("#help-form"),
    text: qs("#help-text"),
    count: qs("#help-count"),
    send: qs("#help-send"),
    cancel: qs("#help-cancel"),
    error: qs("#help-error"),
    status: qs("#help-status"),
    statusText: qs("#help-status-text"),
    thread: qs("#help-thread"),
    thanks: qs("#help-thanks"),
    more: qs("#help-more"),
    note: qs("#help-note"),
  };
  let request = null; // the open request, or null
  let asking = false; // the form is open
  const recount = charCounter(view.text, view.count, tr);

  function statusText() {
    if (!request) return "";
    const answered = request.messages.some((m) => m.from !== "participant");
    return answered ? tr("help_answered") : tr("help_sent");
  }

  function render() {
    show(view.form, asking);
    show(view.open, !asking && !request);
    show(view.status, Boolean(request) && !asking);
    view.open.setAttribute("aria-expanded", String(asking));
    setText(view.statusText, statusText());
    const messages = request ? request.messages : [];
    view.thread.replaceChildren(...messages.map((m) => el("li", { class: `thread__msg thread__msg--${m.from}` },
      el("p", { class: "thread__who" },
        m.from === "participant" ? tr("help_you") : (m.name || tr("message_moderator")), " · ", el("time", {}, time(m.at))),
      el("p", { class: "thread__text" }, m.text))));
    show(view.thread, messages.length > 0);
    if (request || asking) setText(view.note, "");
  }

  function take(item) {
    request = item && item.status !== "done" ? item : null;
    render();
  }

  function openForm() {
    asking = true;
    setText(view.error, "");
    render();
    view.text.focus();
  }

  function closeForm() {
    asking = false;
    render();
    (request ? view.more : view.open).focus();
  }

  async function ask(event) {
    event.preventDefault();
    view.send.disabled = true;
    setText(view.error, "");
    try {
      const result = await sendJson(`${base}/participants/me/help`, { text: view.text.value });
      if (result.ok) {
        view.text.value = "";
        recount();
        asking = false;
        take(result.data);
        view.statusText.focus();
      } else {
        setText(view.error, refusal(result));
      }
    } catch (error) {
      setText(view.error, tr("help_network"));
    } finally {
      view.send.disabled = false;
    }
  }

  async function thanks() {
    view.thanks.disabled = true;
    try {
      const result = await sendJson(`${base}/participants/me/help/done`, {});
      const code = result.data && result.data.error && result.data.error.code;
      if (result.ok || code === "unknown_help" || code === "help_done_already") {
        take(null);
        setText(view.note, tr("help_thanks_said"));
        view.open.focus();
      } else {
        setText(view.note, refusal(result));
      }
    } catch (error) {
      setText(view.note, tr("help_network"));
    } finally {
      view.thanks.disabled = false;
    }
  }

  view.open.addEventListener("click", openForm);
  view.more.addEventListener("click", openForm);
  view.cancel.addEventListener("click", closeForm);
  view.form.addEventListener("submit", ask);
  view.thanks.addEventListener("click", thanks);
  render();

  return {
    /** `help:answer`: the request with the new answer. */
    answer(item) {
      if (!item || typeof item.id !== "string") return;
      take(item);
      ctx.messages.answer(item);
    },
    /** `help:done`: a moderator (or this participant on another device) closed it. */
    done(item) {
      if (request && item && item.id !== request.id) return;
      const byMe = item && item.done_by && request && item.done_by === request.name;
      take(null);
      setText(view.note, byMe ? tr("help_thanks_said") : tr("help_closed"));
    },
    /** `help:status` on connect: the request still open. */
    status(item) {
      if (item && typeof item.id === "string") take(item);
    },
    /** From elsewhere on the page (the phone's status bar): the form, or the open request, on screen. */
    reveal() {
      if (!request && !asking) openForm();
      const target = asking ? view.form : view.status;
      target.scrollIntoView({ block: "center" });
      (asking ? view.text : view.statusText).focus({ preventScroll: true });
    },
    /** After a (re)connect: what the server has now (a request may have been closed meanwhile). */
    async load() {
      try {
        const data = await getJson(`${base}/participants/me/help`);
        if (data && "request" in data) take(data.request);
      } catch (error) {
        console.warn("could not load my help request", error);
      }
    },
  };
}
