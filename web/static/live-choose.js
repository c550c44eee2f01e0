// The live page's invitation to choose (markup: templates/live.html #choose-invite): the coming round's sessions
// with their places, one button each. An invitation, never a gate: it sits beside the room, "Niet nu" puts it away
// (remembered in this browser), and the choose page stays one link away for who wants every round at once.

import { el, qs, setText, show } from "./helpers.js";
import { errorMessage, placesText, putChoices } from "./seats.js";

/**
 * tr, slug; open(round): may the participant still choose in this round (upcoming and not locked, by the clock);
 * chosen(me, event): the server took a choice ({id, name, choices, placements}) and `event` is the fresh program
 * (or null); reload(): fetch the places left again (resolves to the fresh program or null).
 */
export function chooseInvite({ tr, slug, open, chosen, reload }) {
  const view = {
    box: qs("#choose-invite"),
    title: qs("#choose-invite-title"),
    list: qs("#choose-invite-list"),
    error: qs("#choose-invite-error"),
    status: qs("#choose-invite-status"),
    close: qs("#choose-invite-close"),
  };
  const storeKey = `plein:${slug}:choose-invite-closed`;
  let sending = false;
  let dismissed = false; // closed in this page (storage may be unavailable)
  let last = { phases: [], me: {} };

  function closed() {
    if (dismissed) return true;
    try {
      return localStorage.getItem(storeKey) === "1";
    } catch (error) {
      return false; // no storage: the invitation comes back after a reload, which does no harm
    }
  }

  /** The round to offer: the first one still open in which the participant has no seat yet. */
  function offered(phases, me) {
    const seats = (me && me.placements) || {};
    return phases.find((p) => p.kind === "round" && !(p.id in seats) && open(p)) || null;
  }

  function option(round, session) {
    const full = !(session.places_left > 0);
    const pick = el("button", { class: "button button--small choose-invite__pick", type: "button", disabled: full || sending },
      tr("invite_pick"), el("span", { class: "visually-hidden" }, ` ${session.title}`));
    pick.addEventListener("click", () => choose(round, session));
    return el("li", { class: "choose-invite__session", dataset: { session: session.id } },
      el("span", { class: "choose-invite__name" },
        el("span", { class: "session__title" }, session.title),
        session.kind === "brainstorm" ? el("span", { class: "tag tag--brainstorm" }, tr("session_kind_brainstorm")) : null,
        el("span", { class: `session__places${full ? " is-full" : ""}` }, placesText(tr, session.places_left))),
      pick);
  }

  async function choose(round, session) {
    if (sending) return;
    sending = true;
    setText(view.error, "");
    render(last.phases, last.me);
    let result;
    try {
      result = await putChoices(slug, { [round.id]: session.id });
    } catch (error) {
      result = null;
    }
    sending = false;
    if (!result || !result.ok) {
      setText(view.error, result ? errorMessage(result) : tr("switch_network"));
      const fresh = await reload().catch(() => null); // a full session: show the places as they are now
      render(fresh ? fresh.phases || [] : last.phases, last.me);
      return;
    }
    setText(view.status, tr("invite_chosen", { title: session.title, round: round.title }));
    const fresh = await reload().catch(() => null);
    chosen(result.data, fresh);
  }

  /** Show the invitation for the program `phases` (GET /api/events/<slug>) and the participant's seats `me`. */
  function render(phases, me) {
    last = { phases: phases || [], me: me || {} };
    const round = closed() ? null : offered(last.phases, last.me);
    const said = Boolean(view.status.textContent);
    show(view.box, !closed() && (Boolean(round) || said));
    setText(view.title, round ? tr("choose_invite_title", { title: round.title }) : tr("invite_done"));
    show(qs("#choose-invite-intro"), Boolean(round));
    setText(view.close, round ? tr("invite_close") : tr("dismiss")); // "Niet nu" while it asks, else "Sluiten"
    const ids = round ? (round.sessions || []).map((s) => `${s.id}:${s.places_left}:${sending}`).join() : "";
    if (view.list.dataset.shown !== `${round && round.id}|${ids}`) {
      view.list.dataset.shown = `${round && round.id}|${ids}`;
      view.list.replaceChildren(...(round ? (round.sessions || []).map((s) => option(round, s)) : []));
    }
  }

  view.close.addEventListener("click", () => {
    dismissed = true;
    try {
      localStorage.setItem(storeKey, "1");
    } catch (error) {
      // private mode: closed until a reload
    }
    show(view.box, false);
  });

  return { render };
}
