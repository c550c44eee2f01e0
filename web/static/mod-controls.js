// The moderator console's controls beside the clock: a message to everyone or one room, sign-up open or closed,
// the moderator's own name for the log, a new moderator key, and the links (participants, moderators, hosts).

import { askDialog, el, feedback, messageForm, qs, qsa, refusal, setText, show } from "./helpers.js";

/**
 * ctx: {config, tr, time, call}. Returns {update(overview), rotating()}: rotating() is true while this page
 * itself is changing the key (its own `auth:revoked` is then expected).
 */
export function moderatorControls(ctx) {
  const { config, tr, time, call } = ctx;
  let rotating = false;

  // -- links ------------------------------------------------------------------------------------------

  const copyStatus = qs("#copy-status");

  async function copy(input) {
    let ok = false;
    try {
      await navigator.clipboard.writeText(input.value);
      ok = true;
    } catch (error) {
      input.select(); // not a secure context, or no permission: the old way
      try {
        ok = document.execCommand("copy");
      } catch (error2) {
        ok = false;
      }
    }
    setText(copyStatus, ok ? tr("copied") : tr("copy_failed"));
    setTimeout(() => setText(copyStatus, ""), 4000);
  }

  function copyRow(id, label, value, extra = null) {
    return el("div", { class: "copy-field copy-field--tight" },
      el("label", { class: "field__label", for: id }, label),
      el("div", { class: "copy-field__row" },
        el("input", { class: "input input--mono", id, type: "text", readonly: true, value }),
        el("button", { type: "button", class: "button", dataset: { copy: id } }, tr("copy_button")),
        extra));
  }

  /** "Nieuwe link": the session's old host link stops working (after a confirmation). */
  function reissueButton(session) {
    const button = el("button", { type: "button", class: "button button--quiet", dataset: { reissue: session.id } },
      tr("host_link_reissue"));
    button.addEventListener("click", async () => {
      const yes = await askDialog({ title: tr("host_link_reissue_title", { title: session.title }),
        text: tr("host_link_reissue_text"), confirm: tr("host_link_reissue"), cancel: tr("dialog_cancel"), danger: true });
      if (!yes) return;
      try {
        const result = await call(`/sessions/${encodeURIComponent(session.id)}/host-link`, {});
        if (!result.ok) throw new Error(refusal(result));
        qs(`#host-link-${CSS.escape(session.id)}`).value = result.data.link;
        setText(copyStatus, tr("host_link_reissued", { title: session.title }));
      } catch (error) {
        setText(copyStatus, error.message || tr("mod_network_error"));
      }
    });
    return button;
  }

  const links = config.links || {};
  qs("#participant-link").value = links.participant || "";
  qs("#moderator-link").value = links.moderator || "";
  const hosts = links.hosts || {};
  const rounds = ((config.event && config.event.phases) || []).filter((p) => p.kind === "round");
  qs("#host-links").replaceChildren(...rounds.map((round) => el("div", { class: "host-links__round" },
    el("h3", { class: "host-links__title" }, round.title),
    round.sessions.filter((s) => hosts[s.id]).map((s) => copyRow(`host-link-${s.id}`, s.title, hosts[s.id], reissueButton(s))))));
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-copy]");
    if (button) copy(document.getElementById(button.dataset.copy));
  });

  // -- broadcast ----------------------------------------------------------------------------------------

  const cast = {
    form: qs("#broadcast-form"),
    text: qs("#broadcast-text"),
    counter: qs("#broadcast-count"),
    target: qs("#broadcast-target"),
    button: qs("#broadcast-button"),
    say: feedback(qs("#broadcast-ok"), qs("#broadcast-error")),
  };
  let targets = "";

  function renderTargets(rooms) {
    const key = rooms.map((r) => `${r.session}:${r.title}`).join("|");
    if (key === targets) return;
    targets = key;
    const keep = cast.target.value;
    cast.target.replaceChildren(el("option", { value: "" }, tr("broadcast_everyone")),
      ...rooms.map((r) => el("option", { value: r.session }, tr("broadcast_room", { title: r.title }))));
    cast.target.value = rooms.some((r) => r.session === keep) ? keep : "";
  }

  messageForm({
    ...cast,
    tr,
    empty: tr("broadcast_empty"),
    network: tr("mod_network_error"),
    send: (text) => call("/broadcasts", {
      text, lifetime: qs("#broadcast-lifetime").value, ...(cast.target.value ? { session: cast.target.value } : {}),
    }),
    sent: (data) => tr("broadcast_sent", {
      time: time(data.at * 1000),
      to: data.session ? tr("broadcast_room", { title: data.session.title }) : tr("broadcast_everyone"),
    }),
  });

  // -- sign-up --------------------------------------------------------------------------------------

  const signup = qs("#signup-open");
  const signupSay = feedback(qs("#evening-ok"), qs("#evening-error"));
  let signupBusy = false;
  signup.addEventListener("change", async () => {
    const open = signup.checked;
    signupBusy = true;
    signup.disabled = true;
    signupSay.clear();
    try {
      const result = await call("/signup", { open }, "PUT");
      if (result.ok) signupSay.ok(tr(result.data.signup_open ? "signup_now_open" : "signup_now_closed"));
      else {
        signup.checked = !open;
        signupSay.error(refusal(result));
      }
    } catch (error) {
      signup.checked = !open;
      signupSay.error(tr("mod_network_error"));
    } finally {
      signupBusy = false;
      signup.disabled = false;
    }
  });

  // -- my name ----------------------------------------------------------------------------------------

  const me = {
    name: qs("#me-name"),
    edit: qs("#me-edit"),
    form: qs("#me-form"),
    input: qs("#me-input"),
    cancel: qs("#me-cancel"),
    error: qs("#me-error"),
    ask: qs("#me-ask"),
    plain: qs("#me-plain"),
  };
  // A moderator who came in with the key link has no name yet: asked once per browser session (tab).
  const askedKey = `plein:${config.slug}:moderator-name-asked`;
  const asked = () => {
    try {
      return sessionStorage.getItem(askedKey) === "1";
    } catch (error) {
      return false;
    }
  };
  const rememberAsked = () => {
    try {
      sessionStorage.setItem(askedKey, "1");
    } catch (error) { /* no storage: asked again on the next load */ }
  };
  function asking(on) {
    show(me.ask, on);
    show(me.plain, !on); // asked: the question is the field's label
    setText(me.cancel, on ? me.cancel.dataset.ask : me.cancel.dataset.edit);
  }
  function renderName(name) {
    setText(me.name, name || tr("me_nameless"));
    me.name.classList.toggle("is-empty", !name);
  }
  renderName(config.moderator_name);
  function editing(on) {
    if (!on && !me.ask.hidden) rememberAsked();
    asking(false);
    show(me.form, on);
    me.edit.setAttribute("aria-expanded", String(on));
    setText(me.error, "");
    if (on) {
      me.input.value = config.moderator_name || "";
      me.input.focus();
    } else {
      me.edit.focus();
    }
  }
  me.edit.addEventListener("click", () => {
    if (!me.ask.hidden) editing(true); // asked already: the name button goes to the same field
    else editing(me.form.hidden);
  });
  if (!config.moderator_name && !asked()) {
    editing(true);
    asking(true);
  }
  me.cancel.addEventListener("click", () => editing(false));
  me.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setText(me.error, "");
    try {
      const result = await call("/moderators/me", { name: me.input.value }, "PUT");
      if (result.ok) {
        config.moderator_name = result.data.name;
        renderName(result.data.name);
        rememberAsked();
        editing(false);
      } else {
        setText(me.error, refusal(result));
        me.input.focus();
      }
    } catch (error) {
      setText(me.error, tr("mod_network_error"));
    }
  });

  // -- a new moderator key ------------------------------------------------------------------------------

  const rotate = qs("#rotate-key");
  if (config.config_key) {
    rotate.disabled = true;
    show(qs("#rotate-configured"), true);
  }
  rotate.addEventListener("click", async () => {
    const yes = await askDialog({
      title: tr("rotate_confirm_title"), text: tr("rotate_confirm_text"),
      confirm: tr("rotate_confirm_button"), cancel: tr("dialog_cancel"), danger: true,
    });
    if (!yes) return;
    rotate.disabled = true;
    signupSay.clear();
    rotating = true;
    try {
      const result = await call("/moderator-key/rotate", {});
      if (result.ok) {
        const box = qs("#rotate-result");
        box.replaceChildren(
          el("p", { class: "mod-ok" }, tr("rotate_done")),
          copyRow("new-moderator-link", tr("rotate_new_link"), result.data.link),
          el("p", { class: "muted" }, tr("rotate_others_out")));
        show(box, true);
        qs("#moderator-link").value = result.data.link;
        for (const [id, link] of Object.entries(result.data.hosts || {})) {
          const input = document.getElementById(`host-link-${id}`);
          if (input) input.value = link; // a new key makes new host links too
        }
        ctx.onRotated();
      } else {
        signupSay.error(refusal(result));
      }
    } catch (error) {
      signupSay.error(tr("mod_network_error"));
    } finally {
      setTimeout(() => { rotating = false; }, 3000);
      rotate.disabled = Boolean(config.config_key);
    }
  });

  return {
    update(overview) {
      renderTargets(overview.rooms.filter((r) => r.session));
      if (!signupBusy && typeof overview.signup_open === "boolean") signup.checked = overview.signup_open;
      show(qs("#signup-closed-flag"), overview.signup_open === false);
    },
    rotating: () => rotating,
    /** Every control off (the key was changed elsewhere: nothing this page sends is accepted any more). */
    disableAll() {
      for (const node of qsa("button, input, select, textarea")) {
        if (!node.closest("#revoked-banner") && !node.closest(".site-header")) node.disabled = true;
      }
    },
  };
}
