// The moderator console's live overview: per room who is present (and since when), the video side's own count,
// hosts, who joined but is not connected, the totals. Fed by the `console` push (at most once a second) and by
// GET /console on load and after a reconnect. A name opens a small dialog: move to another room, make host.
// Long name lists stay folded (the count shows); the filter box finds a name among hundreds and lists the hits
// right under it, each with its room and the person's dialog (move, host, remove) one click away.

import { askDialog, attr, el, qs, refusal, setText, show } from "./helpers.js";

/**
 * ctx: {tr, time, call(path, body, method) -> {ok, status, data}, feedback: {ok, error, clear}}.
 * Returns {update(overview)}.
 */
const FINDS_SHOWN = 20; // more hits than this: the count says how many, a longer query narrows them

export function liveOverview(ctx) {
  const { tr, time, call } = ctx;
  const view = {
    rooms: qs("#console-rooms"),
    absent: qs("#console-absent"),
    absentCount: qs("#console-absent-count"),
    absentList: qs("#console-absent-list"),
    filter: qs("#console-filter"),
    filterStatus: qs("#console-filter-status"),
    finds: qs("#console-finds"),
    totals: {
      participants: qs("#total-participants"),
      connected: qs("#total-connected"),
      notConnected: qs("#total-not-connected"),
    },
    roundLine: qs("#console-round"),
    rights: { box: qs("#jitsi-rights"), text: qs("#jitsi-rights-text"), fix: qs("#jitsi-rights-fix") },
  };
  const open = new Set(); // rooms whose names are unfolded
  let data = null;
  let query = "";

  const matches = (person) => !query || person.name.toLocaleLowerCase().includes(query);

  /** The rooms a participant can be moved to: the running round's sessions. */
  const sessionRooms = () => (data ? data.rooms.filter((r) => r.session) : []);

  function personButton(person, room) {
    return el("button", { type: "button", class: "person__name", dataset: { pid: person.id } }, person.name);
  }

  function peopleList(room) {
    const shown = room.present.filter(matches);
    const hostIds = new Set(room.hosts.map((h) => h.id));
    return el("ul", { class: "people" }, shown.map((person) => el("li", { class: "person" },
      personButton(person, room),
      hostIds.has(person.id) ? el("span", { class: "tag tag--host" }, tr("console_host_tag")) : null,
      person.since ? el("span", { class: "person__since" }, tr("console_since", { time: time(person.since) })) : null)));
  }

  function roomTitle(room) {
    if (room.title) return room.title;
    if (room.id === "unplaced") return tr("console_unplaced");
    return tr("console_lobby");
  }

  function video(room) {
    if (!data.jitsi_sizes) return null;
    const known = room.jitsi && room.jitsi.status === "ok" && typeof room.jitsi.count === "number";
    return el("div", { class: "room__fact" },
      el("dt", {}, tr("console_video")),
      el("dd", { class: known ? null : "is-unknown" }, known ? String(room.jitsi.count) : tr("console_video_unknown")));
  }

  /** Who holds Jitsi moderator rights here, as the pages in this room report it. */
  function jitsiModerators(room) {
    const roles = room.video_roles;
    if (!roles || !room.jitsi_room) return null;
    const names = roles.moderators.map((p) => p.name).join(", ");
    const text = roles.reported ? names || tr("console_jitsi_mods_none") : tr("console_jitsi_mods_unknown");
    const wrong = roles.non_hosts.length || roles.hosts_lacking.length;
    return el("p", { class: `room__jitsi${wrong ? " is-wrong" : ""}${roles.reported ? "" : " is-unknown"}`,
      dataset: { moderators: roles.moderators.map((p) => p.id).join(" ") } },
      el("span", { class: "room__jitsi-label" }, tr("console_jitsi_mods")), " ", el("span", {}, text));
  }

  /** The warning when Jitsi's moderator rights went to others than the hosts (or not to a host). */
  function renderRights() {
    const rights = data.jitsi_rights;
    const wrong = Boolean(rights && rights.status === "warning");
    const fold = view.rights.box.closest("details");
    if (wrong && view.rights.box.hidden && fold) fold.open = true; // a new warning is not left folded away on a phone
    show(view.rights.box, wrong);
    if (!wrong) return;
    const who = (list) => list.map((p) => tr("console_rights_who", { name: p.name, room: p.room || tr("console_lobby") })).join(", ");
    const lines = [];
    if (rights.non_hosts.length) lines.push(tr(rights.cause === "everyone" ? "console_rights_everyone" : "console_rights_first", { names: who(rights.non_hosts) }));
    if (rights.hosts_lacking.length) lines.push(tr("console_rights_lacking", { names: who(rights.hosts_lacking) }));
    setText(view.rights.text, lines.join(" "));
    const fix = rights.mode === "tokens" && rights.cause === "everyone" ? "tokens_everyone" : rights.mode;
    setText(view.rights.fix, tr(`console_rights_fix_${fix}`));
    view.rights.box.dataset.cause = rights.cause || "hosts";
  }

  function roomItem(room) {
    const capacity = typeof room.capacity === "number" ? room.capacity : null;
    const over = capacity !== null && room.count > capacity;
    const hits = query ? room.present.filter(matches).length : room.count;
    const unfolded = query ? hits > 0 : open.has(room.id);
    const details = el("details", { class: "room__people" },
      el("summary", {}, query ? tr("console_names_hits", { n: hits }) : tr("console_names", { n: room.count })),
      room.present.length ? peopleList(room) : el("p", { class: "muted" }, tr("console_room_empty")));
    details.open = unfolded && room.present.length > 0;
    details.addEventListener("toggle", () => {
      if (query) return;
      if (details.open) open.add(room.id);
      else open.delete(room.id);
    });
    const pct = capacity ? Math.min(100, Math.round((room.count / capacity) * 100)) : 0;
    return el("li", { class: `room${over ? " is-over" : ""}${query && !hits ? " is-dim" : ""}`, dataset: { room: room.id } },
      el("div", { class: "room__head" },
        el("h3", { class: "room__title" }, roomTitle(room),
          room.kind === "brainstorm" ? el("span", { class: "tag tag--brainstorm" }, tr("session_kind_brainstorm")) : null),
        el("p", { class: "room__hosts" }, room.session
          ? (room.hosts.length ? tr("console_hosts", { names: room.hosts.map((h) => h.name).join(", ") }) : tr("console_no_host"))
          : null)),
      el("dl", { class: "room__facts" },
        el("div", { class: "room__fact room__fact--main" },
          el("dt", {}, tr("console_present")),
          el("dd", { class: "room__count", dataset: { count: room.count } },
            capacity !== null ? tr("console_of", { n: room.count, max: capacity }) : String(room.count))),
        room.seated !== null && room.seated !== undefined
          ? el("div", { class: "room__fact" }, el("dt", {}, tr("console_seated")), el("dd", {}, String(room.seated)))
          : null,
        video(room)),
      capacity ? el("div", { class: "meter", "aria-hidden": "true" }, el("span", { class: "meter__bar", style: `width: ${pct}%` })) : null,
      over ? el("p", { class: "room__warn" }, tr("console_over", { n: room.count - capacity })) : null,
      jitsiModerators(room),
      details);
  }

  function renderRooms() {
    const focusPid = document.activeElement && view.rooms.contains(document.activeElement) ? document.activeElement.dataset.pid : null;
    view.rooms.replaceChildren(...data.rooms.map(roomItem));
    if (focusPid) {
      const again = view.rooms.querySelector(`[data-pid="${CSS.escape(focusPid)}"]`);
      if (again) again.focus();
    }
  }

  function renderAbsent() {
    const people = data.not_connected.filter(matches);
    setText(view.absentCount, query ? tr("console_names_hits", { n: people.length }) : String(data.totals.not_connected));
    view.absentList.replaceChildren(...people.map((person) => el("li", { class: "person" },
      el("button", { type: "button", class: "person__name", dataset: { pid: person.id, absent: "true" } }, person.name),
      el("span", { class: "person__since" }, tr("console_joined_at", { time: time(person.joined_at) })))));
    if (query && people.length) view.absent.open = true;
  }

  function renderTotals() {
    setText(view.totals.participants, data.totals.participants);
    setText(view.totals.connected, data.totals.connected);
    setText(view.totals.notConnected, data.totals.not_connected);
    const s = data.state;
    const round = s && s.status === "running" && s.phase && s.phase.kind === "round";
    setText(view.roundLine, round ? tr("console_round_now", { title: s.phase.title }) : tr("console_no_round"));
  }

  function renderFilterStatus() {
    if (!query) {
      setText(view.filterStatus, "");
      return;
    }
    const inRooms = data.rooms.reduce((n, room) => n + room.present.filter(matches).length, 0);
    const absent = data.not_connected.filter(matches).length;
    setText(view.filterStatus, tr("console_filter_hits", { n: inRooms, absent }));
  }

  /** The hits of the filter, across every room and the absent, with where each one is. */
  function renderFinds() {
    const hits = [];
    if (query) {
      for (const room of data.rooms) {
        for (const person of room.present.filter(matches)) hits.push({ person, where: tr("console_find_in", { room: roomTitle(room) }) });
      }
      for (const person of data.not_connected.filter(matches)) hits.push({ person, where: tr("console_find_absent") });
    }
    const shown = hits.slice(0, FINDS_SHOWN);
    const focusPid = document.activeElement && view.finds.contains(document.activeElement) ? document.activeElement.dataset.pid : null;
    view.finds.replaceChildren(...shown.map(({ person, where }) => el("li", { class: "find" },
      el("button", { type: "button", class: "person__name", dataset: { pid: person.id } }, person.name),
      el("span", { class: "find__where" }, where))));
    show(view.finds, shown.length > 0);
    const again = focusPid && view.finds.querySelector(`[data-pid="${CSS.escape(focusPid)}"]`);
    if (again) again.focus();
  }

  function render() {
    if (!data) return;
    renderTotals();
    renderRights();
    renderRooms();
    renderAbsent();
    renderFilterStatus();
    renderFinds();
  }

  // -- a person: move, host ------------------------------------------------------------------------------

  function find(pid) {
    for (const room of data.rooms) {
      const person = room.present.find((p) => p.id === pid);
      if (person) return { person, room, hosting: room.hosts.some((h) => h.id === pid) };
    }
    const person = data.not_connected.find((p) => p.id === pid);
    return person ? { person, room: null, hosting: false } : null;
  }

  async function openPerson(pid) {
    const found = data && find(pid);
    const focusBack = () => document.querySelector(`button[data-pid="${CSS.escape(pid)}"]`);
    if (!found) return;
    const { person, room } = found;
    const targets = sessionRooms().filter((r) => !room || r.session !== room.session);
    const where = room
      ? tr("console_person_in", { room: roomTitle(room), time: person.since ? time(person.since) : "–" })
      : tr("console_person_absent");
    if (!targets.length) {
      const extra = [hostToggle(found), removeButton(person, focusBack)].filter(Boolean);
      await askDialog({ title: person.name, text: `${where} ${tr("console_move_none")}`, body: extra,
        confirm: tr("dialog_close"), focusBack });
      return;
    }
    const select = el("select", { class: "input", id: "move-target" }, targets.map((r) => {
      const full = typeof r.capacity === "number" && r.seated >= r.capacity;
      return el("option", { value: r.session },
        tr(full ? "console_move_option_full" : "console_move_option", { title: r.title, n: r.seated, max: r.capacity }));
    }));
    const body = [
      el("label", { class: "field__label", for: "move-target" }, tr("console_move_label")),
      select,
    ];
    const hostBody = hostToggle(found);
    if (hostBody) body.push(hostBody);
    body.push(removeButton(person, focusBack));
    const yes = await askDialog({ title: person.name, text: where, body, confirm: tr("console_move_button"), cancel: tr("dialog_cancel"), focusBack });
    if (yes) move(person, select.value);
  }

  /** "Maak host van <room>" (or take it back) inside the person dialog: a button that acts at once. */
  function hostToggle({ person, room, hosting }) {
    if (!room || !room.session) return null;
    const button = el("button", { type: "button", class: "button button--small dialog__side" },
      tr(hosting ? "console_unhost" : "console_make_host", { title: room.title }));
    button.addEventListener("click", async () => {
      button.disabled = true;
      const ok = await setHost(person, room, !hosting);
      button.closest("dialog")?.close("cancel");
      if (!ok) button.disabled = false;
    });
    return el("div", { class: "dialog__extra" }, button);
  }

  /** "Verwijderen uit de avond" inside the person dialog: asks once more, then takes them out. */
  function removeButton(person, focusBack) {
    const button = el("button", { type: "button", class: "button button--small button--danger dialog__side", dataset: { remove: person.id } },
      tr("console_remove"));
    button.addEventListener("click", async () => {
      button.closest("dialog")?.close("cancel");
      const yes = await askDialog({ title: tr("console_remove_title", { name: person.name }), text: tr("console_remove_text"),
        confirm: tr("console_remove_confirm"), cancel: tr("dialog_cancel"), danger: true, focusBack });
      if (yes) remove(person);
    });
    return el("div", { class: "dialog__extra" }, button);
  }

  async function remove(person) {
    ctx.feedback.clear();
    try {
      const result = await call(`/participants/${encodeURIComponent(person.id)}/remove`, {});
      if (result.ok) ctx.feedback.ok(tr("console_removed", { name: person.name }));
      else ctx.feedback.error(refusal(result));
    } catch (error) {
      ctx.feedback.error(tr("mod_network_error"));
    }
  }

  async function move(person, session) {
    ctx.feedback.clear();
    try {
      const result = await call(`/participants/${encodeURIComponent(person.id)}/move`, { session });
      if (!result.ok) {
        ctx.feedback.error(refusal(result));
        return;
      }
      const to = sessionRooms().find((r) => r.session === result.data.to);
      const title = to ? to.title : result.data.to;
      if (result.data.over_capacity) {
        ctx.feedback.error(tr("console_moved_over", { name: person.name, title, n: result.data.taken, max: result.data.capacity }));
      } else {
        ctx.feedback.ok(tr("console_moved", { name: person.name, title }));
      }
    } catch (error) {
      ctx.feedback.error(tr("mod_network_error"));
    }
  }

  async function setHost(person, room, host) {
    ctx.feedback.clear();
    try {
      const result = await call(`/participants/${encodeURIComponent(person.id)}/host`, { session: room.session, host });
      if (!result.ok) {
        ctx.feedback.error(refusal(result));
        return false;
      }
      ctx.feedback.ok(tr(host ? "console_host_made" : "console_host_taken", { name: person.name, title: room.title }));
      return true;
    } catch (error) {
      ctx.feedback.error(tr("mod_network_error"));
      return false;
    }
  }

  // -- wiring --------------------------------------------------------------------------------------------

  const onPick = (event) => {
    const button = event.target.closest("button[data-pid]");
    if (button) openPerson(button.dataset.pid);
  };
  view.rooms.addEventListener("click", onPick);
  view.absentList.addEventListener("click", onPick);
  view.finds.addEventListener("click", onPick);
  view.filter.addEventListener("input", () => {
    query = view.filter.value.trim().toLocaleLowerCase();
    render();
  });
  attr(view.rooms, "aria-busy", "true");

  return {
    update(overview) {
      if (!overview || !Array.isArray(overview.rooms)) return;
      data = overview;
      attr(view.rooms, "aria-busy", null);
      show(view.absent, true);
      render();
    },
    /** The running round's rooms (for the broadcast target). */
    sessionRooms,
  };
}
