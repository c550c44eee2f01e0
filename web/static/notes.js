// Brainstorm notes on the live page: a shared notepad (Yjs + CodeMirror from vendor/notes-editor.min.js, which
// defines window.PleinNotes) carried over the page's Socket.IO connection with the y-protocols messages, the idea
// cards with votes, and the evening's yield ("Opbrengst van de avond") in the closing plenary.
// The wire contract is docs/protocol.md, "Brainstorm notes and idea cards". The server decides everything:
// who may see or write a note, and whether an update is stored.

import { askDialog, attr, el, qs, setText, show } from "./helpers.js";
import { getJson } from "./seats.js";
import { timeFormatter } from "./clock.js";
import { noteHistory } from "./notes-history.js";

const REMOTE = "plein-remote"; // origin of changes that came from the server: never sent back, never undone
const MSG_SYNC = 0;
const MSG_AWARENESS = 1;
const MSG_QUERY_AWARENESS = 3;
const STEP2 = 1; // y-protocols messageYjsSyncStep2
const DEFAULT_LIMITS = {
  max_update_bytes: 32768, max_note_bytes: 1048576, updates_per_second: 60, card_max_chars: 280, resync_seconds: 15,
};
// Colours for the people in a note (cursor and name); each has at least 4.5:1 contrast on white.
const COLOURS = ["#0b6e99", "#b3261e", "#2e7d32", "#8e24aa", "#c25e00", "#00796b", "#5d4037", "#3949ab", "#ad1457", "#546e7a"];

const utf8 = new TextEncoder();
const bytesOf = (text) => utf8.encode(text).length;
const sizeText = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${Math.round(n / 1024)} kB` : `${n} B`);

function colourFor(id) {
  let h = 0;
  for (const ch of String(id || "")) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return COLOURS[h % COLOURS.length];
}

/**
 * The notes panel of the live page. live.js calls state(state) at every `state`, and connected()/disconnected()
 * on the socket's events; openSession(id) shows the note of an earlier brainstorm (read-only by then).
 */
export function notesPanel({ tr, config, socket, base, layout, onChange = () => {} }) {
  const participant = config.participant || {};
  const phases = (config.event && config.event.phases) || [];
  const plenaries = phases.filter((p) => p.kind === "plenary");
  const closingId = plenaries.length ? plenaries[plenaries.length - 1].id : null;
  const me = { name: participant.name || "?", color: colourFor(participant.id), id: participant.id };

  const view = {
    root: qs("#notes"),
    session: qs("#notes-session"),
    close: qs("#notes-close"),
    status: qs("#notes-status"),
    people: qs("#notes-people"),
    undo: qs("#notes-undo"),
    redo: qs("#notes-redo"),
    download: qs("#notes-download"),
    editor: qs("#notes-editor"),
    history: qs("#notes-history"),
    errorBox: qs("#notes-error-box"),
    error: qs("#notes-error"),
    kept: qs("#notes-kept"),
    keptText: qs("#notes-kept-text"),
    keptDismiss: qs("#notes-kept-dismiss"),
    cardsCount: qs("#cards-count"),
    cardsForm: qs("#cards-form"),
    cardsText: qs("#cards-text"),
    cardsHint: qs("#cards-hint"),
    cardsCounter: qs("#cards-counter"),
    cardsAdd: qs("#cards-add"),
    cardsError: qs("#cards-error"),
    cardsOk: qs("#cards-ok"),
    cardsList: qs("#cards-list"),
    cardsEmpty: qs("#cards-empty"),
    yield: qs("#yield"),
    yieldStatus: qs("#yield-status"),
    yieldList: qs("#yield-list"),
    fold: qs("#notes-fold"),
    foldOpen: qs("#notes-fold-open"),
  };

  let note = null; // the open note (see openNote)
  let dismissed = null; // session id the participant closed (not re-opened until the next brainstorm)
  let autoSession = null; // the brainstorm the clock has put this participant in now
  let yieldWanted = false;
  const foldKey = `plein:${config.slug}:notes-folded`;
  let folded = remembered(); // {id, title}: the brainstorm whose round ended, its notes folded into a button
  let phaseKey; // the phase (or status) of the last state, to notice a transition
  let yieldLoadedFor = null;
  let hosting = []; // session ids this participant hosts (from their state)
  let historyFor = null; // the session whose history block is shown
  const cardNodes = new Map(); // card id -> {node, key, draft}: a card's element is rebuilt only when it changed
  const exposed = { note: null, yield: null };
  window.plein = Object.assign(window.plein || {}, { notes: exposed });

  // -- the note: Y.Doc, editor, y-protocols over the socket -------------------------------------------------

  function openNote(sessionId, title = "", explicit = false) {
    if (note && note.session === sessionId) {
      if (explicit) note.explicit = true;
      return;
    }
    closeNote();
    cardNodes.clear();
    const P = window.PleinNotes;
    if (!P) {
      console.warn("notes-editor.min.js is not loaded");
      return;
    }
    const doc = new P.Y.Doc();
    const ytext = doc.getText("notes");
    const awareness = new P.awarenessProtocol.Awareness(doc);
    awareness.setLocalStateField("user", { name: me.name, color: me.color, colorLight: `${me.color}33`, id: me.id });
    const undoManager = new P.Y.UndoManager(ytext, { trackedOrigins: new Set() }); // yCollab adds its own origin
    view.editor.replaceChildren();
    const n = {
      session: sessionId, title, doc, ytext, awareness, undoManager, editor: null,
      readonly: true, reason: null, joined: false, synced: false, refused: null,
      limits: { ...DEFAULT_LIMITS }, cards: new Map(), votes: new Map(), editing: null,
      pending: [], log: [], flushTimer: null, lastSent: 0, awarenessTimer: null, lastAwareness: 0,
      noteBytes: 0, sizeTimer: null, joinTimer: null, round: null,
      sent: 0, // changes of ours sent on this doc (a refusal for a doc we replaced is not about this one)
      compareWith: null, refusedReason: null, // after a refusal: our text then, kept if the server's differs
      explicit, // opened by the participant (an earlier brainstorm), not by the clock
    };
    note = n;
    n.editor = P.createEditor({
      parent: view.editor, ytext, awareness, undoManager, readOnly: true,
      label: tr("notes_label"), placeholder: tr("notes_placeholder"), describedBy: "notes-hint notes-status",
      guard: (text) => guard(n, text),
    });
    doc.on("update", (update, origin) => {
      if (origin !== REMOTE) queueUpdate(n, update);
      scheduleSize(n);
    });
    awareness.on("update", ({ added, updated, removed }, origin) => {
      if (origin === "local") queueAwareness(n);
      if (added.length || updated.length) fixColour(n);
      if (added.length || removed.length || updated.length) renderPeople();
    });
    undoManager.on("stack-item-added", renderUndo);
    undoManager.on("stack-item-popped", renderUndo);
    undoManager.on("stack-cleared", renderUndo);
    exposed.note = { session: sessionId, get text() { return ytext.toString(); }, get readonly() { return n.readonly; },
      get synced() { return n.synced; }, get joined() { return n.joined; }, editor: n.editor, doc, awareness,
      get shown() { return n.editor.view.state.doc.toString(); } };
    attr(view.download, "href", `${base}/sessions/${encodeURIComponent(sessionId)}/notes.md`);
    show(view.download, true);
    setText(view.session, title ? `· ${title}` : "");
    clearError();
    renderCards();
    renderPeople();
    renderUndo();
    join(n);
    render();
  }

  /** Drop the open note; `leave: false` when it is opened again at once (a leave could overtake the join). */
  function closeNote({ leave = true } = {}) {
    if (!note) return;
    const n = note;
    note = null;
    exposed.note = null;
    clearTimeout(n.flushTimer);
    clearTimeout(n.awarenessTimer);
    clearTimeout(n.sizeTimer);
    clearTimeout(n.joinTimer);
    clearInterval(n.resyncTimer);
    if (socket.connected && n.joined) {
      // Tell the others this cursor is gone, then leave the note's room.
      window.PleinNotes.awarenessProtocol.removeAwarenessStates(n.awareness, [n.doc.clientID], "local");
      sendAwarenessNow(n);
      if (leave) socket.emit("notes:leave", { session: n.session });
    }
    n.editor.destroy();
    n.awareness.destroy();
    n.doc.destroy();
    view.editor.replaceChildren();
  }

  /** Subscribe (again, after a reconnect): the server's step 1 and our step 1 exchange what each side lacks. */
  function join(n) {
    clearTimeout(n.joinTimer);
    n.joined = false;
    n.synced = false;
    if (!socket.connected) {
      renderStatus();
      return;
    }
    socket.timeout(10000).emit("notes:join", { session: n.session }, (err, ack) => {
      if (note !== n) return;
      if (err || !ack) {
        n.joinTimer = setTimeout(() => join(n), 3000); // no answer: try again
        return;
      }
      if (ack.error) {
        n.refused = ack.error;
        setReadOnly(n, true, ack.error.code);
        showError(ack.error.message);
        renderStatus();
        askAgainSoon(n, ack.error.code === "notes_forbidden");
        return;
      }
      n.refused = null;
      n.joined = true;
      n.round = ack.round || null;
      n.limits = { ...DEFAULT_LIMITS, ...(ack.limits || {}) };
      if (ack.title && !n.title) {
        n.title = ack.title;
        setText(view.session, `· ${ack.title}`);
      }
      setReadOnly(n, ack.readonly, ack.reason);
      askAgainSoon(n, ack.readonly && ack.reason === "notes_not_open");
      n.votes = new Map((ack.cards || []).map((c) => [c.id, Boolean(c.voted)]));
      n.cards = new Map((ack.cards || []).map((c) => [c.id, c]));
      // Changes queued while not joined: most went along in our step 2 (the answer to the server's step 1, which
      // may come before this answer); send them anyway, Yjs ignores what it already has.
      if (n.pending.length && !n.flushTimer) n.flushTimer = setTimeout(() => flush(n), 0);
      sendStep1(n);
      // Now and then send our state vector again (the server answers with what we lack): heals an update that
      // a dying worker stored but never relayed to us.
      clearInterval(n.resyncTimer);
      n.resyncTimer = setInterval(() => {
        if (note === n && n.joined && socket.connected) sendStep1(n);
      }, Math.max(1, n.limits.resync_seconds) * 1000);
      sendAwarenessNow(n, true);
      renderCards();
      renderStatus();
      onChange();
    });
  }

  /**
   * The clock put this participant in this brainstorm, yet the server said "not yet" or "not yours": the join
   * crossed the transition (or a seat being written). Ask again a few times.
   */
  function askAgainSoon(n, stale) {
    if (!stale || n.session !== autoSession || (n.retries || 0) >= 3) return;
    n.retries = (n.retries || 0) + 1;
    clearTimeout(n.joinTimer);
    n.joinTimer = setTimeout(() => { if (note === n) join(n); }, 1500 * n.retries);
  }

  function sendStep1(n) {
    const P = window.PleinNotes;
    const encoder = P.encoding.createEncoder();
    P.encoding.writeVarUint(encoder, MSG_SYNC);
    P.syncProtocol.writeSyncStep1(encoder, n.doc);
    send(n, P.encoding.toUint8Array(encoder));
  }

  function send(n, bytes) {
    if (socket.connected) socket.emit("notes:message", n.session, bytes);
  }

  function onMessage(sessionId, data) {
    const n = note;
    if (!n || sessionId !== n.session || !data) return;
    const P = window.PleinNotes;
    let bytes;
    try {
      bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
      const decoder = P.decoding.createDecoder(bytes);
      const type = P.decoding.readVarUint(decoder);
      if (type === MSG_SYNC && bytes[1] === 0) {
        // The server's step 1: answer with our step 2, everything the server lacks (offline edits included).
        // It is sent even when empty (the server accepts an empty step 2 also on a read-only note).
        P.decoding.readVarUint(decoder);
        answerStep1(n, P.decoding.readVarUint8Array(decoder));
      } else if (type === MSG_SYNC) {
        const encoder = P.encoding.createEncoder();
        P.encoding.writeVarUint(encoder, MSG_SYNC);
        const kind = P.syncProtocol.readSyncMessage(decoder, encoder, n.doc, REMOTE);
        if (kind === STEP2 && !n.synced) {
          n.synced = true;
          renderStatus();
          if (n.compareWith !== null) {
            if (n.ytext.toString() !== n.compareWith) {
              keep(n.compareWith, tr("notes_not_saved", { reason: n.refusedReason }));
            }
            n.compareWith = null;
          }
        }
      } else if (type === MSG_AWARENESS) {
        P.awarenessProtocol.applyAwarenessUpdate(n.awareness, P.decoding.readVarUint8Array(decoder), REMOTE);
      } else if (type === MSG_QUERY_AWARENESS) {
        sendAwarenessNow(n, true);
      }
    } catch (error) {
      console.warn("notes: a message could not be read", error);
    }
  }

  /**
   * Our step 2 for the server's state vector. When it would be over the size limit (much typed while offline
   * or refused for the rate), send instead our own updates that the server lacks, as ordinary paced updates.
   */
  function answerStep1(n, stateVector) {
    const P = window.PleinNotes;
    const diff = P.Y.encodeStateAsUpdate(n.doc, stateVector);
    const known = P.Y.decodeStateVector(stateVector);
    const lacking = (update) => {
      for (const [client, clock] of P.Y.parseUpdateMeta(update).to) if (clock > (known.get(client) || 0)) return true;
      return false;
    };
    n.log = n.log.filter(lacking); // what the server has need not be kept for this any more
    if (diff.length + 8 <= n.limits.max_update_bytes) {
      const encoder = P.encoding.createEncoder();
      P.encoding.writeVarUint(encoder, MSG_SYNC);
      P.syncProtocol.writeSyncStep2(encoder, n.doc, stateVector);
      if (diff.length > 2) n.sent += 1; // carries changes (an empty update is 2 bytes)
      send(n, P.encoding.toUint8Array(encoder));
      n.pending = []; // all of it was in this step 2
      return;
    }
    for (const update of n.log) if (!n.pending.includes(update)) n.pending.push(update);
    scheduleFlush(n);
  }

  /** Send a sync message unless it is over the server's limit (the user is told; the text stays here). */
  function sendChecked(n, bytes, isStep2 = false) {
    if (bytes.length > n.limits.max_update_bytes) {
      showError(tr("notes_too_large_paste", { size: sizeText(bytes.length), max: sizeText(n.limits.max_update_bytes) }));
      if (isStep2) console.warn("notes: the unsent changes are larger than one message may be");
      return false;
    }
    send(n, bytes);
    return true;
  }

  // Local updates go out merged, at most half the server's rate, so a fast typist is never refused.
  function queueUpdate(n, update) {
    n.pending.push(update);
    n.log.push(update);
    scheduleFlush(n);
  }

  function scheduleFlush(n) {
    if (n.flushTimer || !n.pending.length) return;
    const gap = Math.max(16, 2000 / Math.max(1, n.limits.updates_per_second));
    const wait = Math.max(0, n.lastSent + gap - Date.now());
    n.flushTimer = setTimeout(() => flush(n), wait);
    renderStatus();
  }

  function flush(n) {
    n.flushTimer = null;
    if (note !== n || !n.pending.length) return;
    if (!socket.connected || !n.joined) return; // kept: they go along in the step 2 after the re-join
    const P = window.PleinNotes;
    // One message per tick: as many queued updates, merged, as fit in the size limit (a merge is never larger
    // than its parts together); the rest waits for the next tick.
    const room = n.limits.max_update_bytes - 16;
    let take = 0;
    let size = 0;
    while (take < n.pending.length && (take === 0 || size + n.pending[take].length <= room)) {
      size += n.pending[take].length;
      take += 1;
    }
    const batch = n.pending.splice(0, take);
    const update = batch.length > 1 ? P.Y.mergeUpdates(batch) : batch[0];
    const encoder = P.encoding.createEncoder();
    P.encoding.writeVarUint(encoder, MSG_SYNC);
    P.syncProtocol.writeUpdate(encoder, update);
    sendChecked(n, P.encoding.toUint8Array(encoder));
    n.sent += 1;
    n.lastSent = Date.now();
    scheduleFlush(n);
    renderStatus();
  }

  function queueAwareness(n) {
    if (n.awarenessTimer) return;
    // Cursor moves: at most one message per 100 ms, and never more than half what the server allows.
    const gap = Math.max(100, 1000 / Math.max(1, n.limits.updates_per_second));
    const wait = Math.max(0, n.lastAwareness + gap - Date.now());
    n.awarenessTimer = setTimeout(() => {
      n.awarenessTimer = null;
      if (note === n) sendAwarenessNow(n);
    }, wait);
  }

  /** Our awareness (everyone's we know of with all=true, the answer to a query) as one message. */
  function sendAwarenessNow(n, all = false) {
    if (!n.joined || !socket.connected) return;
    const P = window.PleinNotes;
    const ids = all ? [...n.awareness.getStates().keys()] : [n.doc.clientID];
    if (!ids.length) return;
    const encoder = P.encoding.createEncoder();
    P.encoding.writeVarUint(encoder, MSG_AWARENESS);
    P.encoding.writeVarUint8Array(encoder, P.awarenessProtocol.encodeAwarenessUpdate(n.awareness, ids));
    send(n, P.encoding.toUint8Array(encoder));
    n.lastAwareness = Date.now();
  }

  /** The editor asks before a change of this user's reaches the note: refuse what the server would refuse. */
  function guard(n, text) {
    if (n.readonly) return false;
    const size = bytesOf(text);
    if (size + 64 > n.limits.max_update_bytes) {
      keep(text, tr("notes_too_large_paste", { size: sizeText(size), max: sizeText(n.limits.max_update_bytes) }));
      return false;
    }
    if (size && n.noteBytes + size + 64 > n.limits.max_note_bytes) {
      keep(text, tr("notes_note_full", { max: sizeText(n.limits.max_note_bytes) }));
      return false;
    }
    return true;
  }

  function scheduleSize(n) {
    if (n.sizeTimer) return;
    n.sizeTimer = setTimeout(() => {
      n.sizeTimer = null;
      if (note === n) n.noteBytes = window.PleinNotes.Y.encodeStateAsUpdate(n.doc).length;
    }, 300);
  }

  function setReadOnly(n, readonly, reason) {
    n.readonly = Boolean(readonly);
    n.reason = readonly ? reason || null : null;
    n.editor.setReadOnly(n.readonly);
    renderUndo();
    renderCardsForm();
    renderStatus();
    renderCards();
  }

  function onNotesState(data) {
    const n = note;
    if (!n || !data || data.session !== n.session) return;
    setReadOnly(n, data.readonly, data.reason);
    if (!data.readonly) clearError();
    onChange();
  }

  function onNotesError(data) {
    const n = note;
    if (!n || !data || data.session !== n.session) return;
    const code = data.code;
    if (code === "notes_not_open") {
      setReadOnly(n, true, code); // stored when the round starts: the server then asks (step 1) for it
    } else if (code === "notes_closed") {
      setReadOnly(n, true, code);
      if (n.sent) reloadAfterRefusal(n, readonlyText(code));
    } else if (code === "notes_rate_limited" || code === "redis_down" || code === "note_update_early") {
      // Not stored; the server sends its step 1 within a second and our answer brings what it lacks.
      showError(code === "redis_down" ? (data.message || code) : tr("notes_rate_limited"), true);
    } else if (code === "notes_person_minute") {
      // Not stored yet: at the next minute the server asks (step 1) for what it lacks.
      showError(data.message || code, true);
    } else if (code === "note_update_too_large" || code === "note_too_large" || code === "notes_person_full") {
      // Only when the server counts more than this page could (its limits are in the join's answer).
      if (n.sent) reloadAfterRefusal(n, data.message || code);
    } else if (code === "notes_not_joined") {
      join(n);
    } else if (code === "notes_forbidden") {
      setReadOnly(n, true, code);
      showError(data.message || tr("notes_forbidden_now"));
    } else {
      showError(tr("notes_error_generic", { message: data.message || code }));
    }
  }

  /**
   * The server refused a change of ours (the note is read-only now). Yjs cannot take it back, so load the note
   * afresh from the server; the text as this participant had it is kept on the page if it differs.
   */
  function reloadAfterRefusal(n, reason) {
    const mine = n.ytext.toString();
    const { session, title, explicit } = n;
    closeNote({ leave: false });
    openNote(session, title, explicit);
    if (note) {
      note.compareWith = mine;
      note.refusedReason = reason;
    }
    render();
  }

  // -- what the panel says ---------------------------------------------------------------------------------

  function readonlyText(reason) {
    if (reason === "notes_closed") return tr("notes_readonly_closed");
    if (reason === "notes_not_open") return tr("notes_readonly_not_open");
    if (reason === "notes_forbidden") return tr("notes_forbidden_now");
    return tr("notes_readonly");
  }

  function renderStatus() {
    const n = note;
    if (!n) return;
    let kind;
    let text;
    if (!socket.connected) {
      kind = "offline";
      text = tr("notes_offline");
    } else if (n.refused) {
      kind = "readonly";
      text = n.refused.message;
    } else if (!n.joined || !n.synced) {
      kind = "connecting";
      text = tr("notes_connecting");
    } else if (n.readonly) {
      kind = "readonly";
      text = readonlyText(n.reason);
    } else {
      kind = "live";
      text = tr("notes_live");
    }
    attr(view.status, "data-kind", kind);
    attr(view.root, "data-readonly", n.readonly ? "true" : null);
    setText(view.status, text);
  }

  function showError(text, transient = false) {
    setText(view.error, text);
    show(view.errorBox, true);
    if (transient) setTimeout(() => { if (view.error.textContent === text) clearError(); }, 6000);
  }

  function clearError() {
    setText(view.error, "");
    show(view.errorBox, !view.kept.hidden);
  }

  /** Text the editor refused (too large): shown so it can be copied, never silently dropped. */
  function keep(text, message) {
    view.keptText.value = view.keptText.value ? `${view.keptText.value}\n${text}` : text;
    show(view.kept, true);
    showError(message);
  }

  function renderUndo() {
    const n = note;
    view.undo.disabled = !n || n.readonly || n.undoManager.undoStack.length === 0;
    view.redo.disabled = !n || n.readonly || n.undoManager.redoStack.length === 0;
  }

  /** Two people with one colour: the one with the larger id takes the next colour nobody here has. */
  function fixColour(n) {
    const mine = n.awareness.getLocalState() && n.awareness.getLocalState().user;
    if (!mine) return;
    const others = [...n.awareness.getStates()].filter(([id, st]) => id !== n.doc.clientID && st && st.user
      && st.user.id !== me.id).map(([, st]) => st.user);
    if (!others.some((u) => u.color === mine.color && String(u.id) < String(me.id))) return;
    const taken = new Set(others.map((u) => u.color));
    const start = COLOURS.indexOf(mine.color);
    for (let i = 1; i < COLOURS.length; i += 1) {
      const colour = COLOURS[(start + i) % COLOURS.length];
      if (!taken.has(colour)) {
        n.awareness.setLocalStateField("user", { ...mine, color: colour, colorLight: `${colour}33` });
        return;
      }
    }
  }

  function renderPeople() {
    const n = note;
    if (!n) return;
    const seen = new Map();
    for (const [clientId, state] of n.awareness.getStates()) {
      const user = state && state.user;
      if (!user || typeof user.name !== "string") continue;
      const key = user.id || `c${clientId}`;
      if (!seen.has(key)) seen.set(key, { name: user.name.slice(0, 60), color: user.color, self: clientId === n.doc.clientID || key === me.id });
    }
    const people = [...seen.values()].sort((a, b) => (b.self - a.self) || a.name.localeCompare(b.name));
    view.people.replaceChildren(...people.map((p) => el("li", { class: "notes__person" },
      el("span", { class: "notes__dot", "aria-hidden": "true", style: `background:${/^#[0-9a-f]{6}$/i.test(p.color || "") ? p.color : "#546e7a"}` }),
      p.self ? tr("notes_you", { name: p.name }) : p.name)));
    exposed.people = people.map((p) => p.name);
  }

  // -- idea cards ------------------------------------------------------------------------------------------

  function cardsCall(event, payload) {
    return new Promise((resolve) => {
      if (!socket.connected) {
        resolve({ error: { code: "offline", message: tr("cards_network") } });
        return;
      }
      socket.timeout(8000).emit(event, payload, (err, ack) => {
        resolve(err || !ack ? { error: { code: "offline", message: tr("cards_network") } } : ack);
      });
    });
  }

  /** The session's host takes a card out (after asking): gone for everyone, kept in the audit log. */
  function hideButton(n, card) {
    const button = el("button", { class: "button button--quiet button--small", type: "button", "data-do": "hide" },
      tr("cards_hide"));
    button.addEventListener("click", async () => {
      const sure = await askDialog({ title: tr("cards_hide_title"), text: tr("cards_hide_ask"), confirm: tr("cards_hide"),
        cancel: tr("cards_cancel"), danger: true, focusBack: () => view.cardsText });
      if (!sure) return;
      const ack = await cardsCall("mod:cards:hide", { session: n.session, card: card.id, hidden: true });
      if (ack.error) {
        setText(view.cardsError, ack.error.message);
        return;
      }
      n.cards.delete(card.id);
      renderCards();
      setText(view.cardsOk, tr("cards_hidden"));
    });
    return button;
  }

  const order = (a, b) => (b.votes - a.votes) || String(a.created_at).localeCompare(String(b.created_at))
    || String(a.id).localeCompare(String(b.id));

  function upsertCard(n, card) {
    if (!card || typeof card.id !== "string") return;
    if ("voted" in card) n.votes.set(card.id, Boolean(card.voted));
    n.cards.set(card.id, card);
  }

  function renderCardsForm() {
    const n = note;
    const max = n ? n.limits.card_max_chars : DEFAULT_LIMITS.card_max_chars;
    attr(view.cardsText, "maxlength", max);
    setText(view.cardsHint, tr("cards_hint", { max }));
    const ro = !n || n.readonly || Boolean(n.refused);
    show(view.cardsForm, !ro);
    countCard();
  }

  function countCard() {
    const max = Number(view.cardsText.getAttribute("maxlength")) || DEFAULT_LIMITS.card_max_chars;
    const count = [...view.cardsText.value].length;
    setText(view.cardsCounter, tr("chars_count", { n: count, max }));
    attr(view.cardsCounter, "data-near", count > max * 0.9 ? "true" : null);
  }

  function renderCards() {
    const n = note;
    if (!n) return;
    const cards = [...n.cards.values()].sort(order);
    const nodes = cards.map((card) => cardNode(n, card));
    // Keep focus where it is: only touch the list when the order or the contents changed.
    const active = document.activeElement;
    const same = nodes.length === view.cardsList.children.length
      && nodes.every((node, i) => view.cardsList.children[i] === node);
    if (!same) view.cardsList.replaceChildren(...nodes);
    if (active && !document.contains(active)) {
      const id = active.closest && active.closest("[data-card]") && active.closest("[data-card]").dataset.card;
      const again = id && view.cardsList.querySelector(`[data-card="${CSS.escape(id)}"] [data-do="${active.dataset.do}"]`);
      if (again) again.focus();
    }
    setText(view.cardsCount, cards.length ? `(${cards.length})` : "");
    show(view.cardsEmpty, cards.length === 0);
    exposed.cards = cards.map((c) => ({ id: c.id, text: c.text, votes: c.votes, voted: Boolean(n.votes.get(c.id)) }));
  }

  function cardNode(n, card) {
    const own = card.author && card.author.id === me.id;
    const voted = Boolean(n.votes.get(card.id));
    const editing = n.editing === card.id;
    const ro = n.readonly || Boolean(n.refused);
    const key = JSON.stringify([card.text, card.votes, voted, own, editing, ro, card.author && card.author.name]);
    const known = cardNodes.get(card.id);
    if (known && known.key === key) return known.node;
    const votesText = tr("cards_votes", { n: card.votes });
    let body;
    if (editing) {
      const inputId = `card-edit-${card.id}`;
      const input = el("textarea", { class: "input textarea", id: inputId, rows: 2, maxlength: n.limits.card_max_chars, "data-do": "edit-text" });
      input.value = known && known.draft !== undefined ? known.draft : card.text;
      const error = el("p", { class: "alert", role: "alert" });
      const form = el("form", { class: "card-item__edit", novalidate: true },
        el("label", { class: "visually-hidden", for: inputId }, tr("cards_edit")),
        input,
        el("div", { class: "card-item__buttons" },
          el("button", { class: "button button--primary button--small", type: "submit", "data-do": "save" }, tr("cards_save")),
          el("button", { class: "button button--quiet button--small", type: "button", "data-do": "cancel" }, tr("cards_cancel"))),
        error);
      input.addEventListener("input", () => { const k = cardNodes.get(card.id); if (k) k.draft = input.value; });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const ack = await cardsCall("cards:edit", { session: n.session, card: card.id, text: input.value });
        if (ack.error) {
          setText(error, ack.error.message); // the text stays in the box
          return;
        }
        n.editing = null;
        upsertCard(n, ack.card);
        renderCards();
        focusCard(card.id, "edit");
      });
      form.querySelector("[data-do=cancel]").addEventListener("click", () => {
        n.editing = null;
        renderCards();
        focusCard(card.id, "edit");
      });
      body = form;
    } else {
      body = el("p", { class: "card-item__text" }, card.text);
    }
    const vote = el("button", {
      class: `button button--small card-item__vote${voted ? " is-voted" : ""}`, type: "button", "data-do": "vote",
      "aria-pressed": voted ? "true" : "false", disabled: ro,
      "aria-label": `${voted ? tr("cards_unvote") : tr("cards_vote")}, ${votesText}`, // the shown count in the name
    }, el("span", { "aria-hidden": "true" }, voted ? "★" : "☆"), " ", el("span", { class: "card-item__votes" }, String(card.votes)));
    vote.addEventListener("click", async () => {
      vote.disabled = true;
      const ack = await cardsCall("cards:vote", { session: n.session, card: card.id });
      vote.disabled = false;
      if (ack.error) {
        setText(view.cardsError, ack.error.message);
        return;
      }
      n.votes.set(card.id, Boolean(ack.voted));
      const c = n.cards.get(card.id);
      if (c) n.cards.set(card.id, { ...c, votes: ack.votes });
      renderCards();
    });
    const actions = own && !ro && !editing ? el("span", { class: "card-item__own" },
      el("button", { class: "button button--quiet button--small", type: "button", "data-do": "edit" }, tr("cards_edit")),
      el("button", { class: "button button--quiet button--small", type: "button", "data-do": "withdraw" }, tr("cards_withdraw"))) : null;
    if (actions) {
      actions.querySelector("[data-do=edit]").addEventListener("click", () => {
        n.editing = card.id;
        renderCards();
        const box = view.cardsList.querySelector(`[data-card="${CSS.escape(card.id)}"] textarea`);
        if (box) box.focus();
      });
      actions.querySelector("[data-do=withdraw]").addEventListener("click", async () => {
        const sure = await askDialog({ title: tr("cards_withdraw"), text: tr("cards_withdraw_ask"), confirm: tr("cards_withdraw"),
          cancel: tr("cards_cancel"), danger: true, focusBack: () => view.cardsText });
        if (!sure) return;
        const ack = await cardsCall("cards:withdraw", { session: n.session, card: card.id });
        if (ack.error) {
          setText(view.cardsError, ack.error.message);
          return;
        }
        n.cards.delete(card.id);
        renderCards();
        setText(view.cardsOk, tr("cards_withdrawn"));
      });
    }
    const node = el("li", { class: `card-item${own ? " is-own" : ""}`, dataset: { card: card.id } },
      body,
      el("div", { class: "card-item__meta" },
        vote,
        el("span", { class: "card-item__by" }, tr("cards_by", { name: (card.author && card.author.name) || "?" })),
        actions,
        !own && hosting.includes(n.session) ? hideButton(n, card) : null));
    cardNodes.set(card.id, { node, key, draft: editing && known ? known.draft : undefined });
    return node;
  }

  function focusCard(id, what) {
    const target = view.cardsList.querySelector(`[data-card="${CSS.escape(id)}"] [data-do="${what}"]`);
    if (target) target.focus();
  }

  async function addCard(event) {
    event.preventDefault();
    const n = note;
    if (!n) return;
    setText(view.cardsError, "");
    setText(view.cardsOk, "");
    const text = view.cardsText.value;
    if (!text.trim()) {
      view.cardsText.focus();
      return;
    }
    view.cardsAdd.disabled = true;
    const ack = await cardsCall("cards:add", { session: n.session, text });
    view.cardsAdd.disabled = false;
    if (note !== n) return;
    if (ack.error) {
      setText(view.cardsError, ack.error.message); // the text stays in the box
      return;
    }
    upsertCard(n, ack.card);
    view.cardsText.value = "";
    countCard();
    renderCards();
    setText(view.cardsOk, tr("cards_added"));
  }

  function onCardChanged(data) {
    const n = note;
    if (!n || !data || data.session !== n.session || !data.card) return;
    const card = { ...data.card };
    delete card.voted; // broadcasts carry no `voted`; ours comes from our own acks
    upsertCard(n, card);
    renderCards();
  }

  function onCardRemoved(data) {
    const n = note;
    if (!n || !data || data.session !== n.session) return;
    n.cards.delete(data.card);
    if (n.editing === data.card) n.editing = null;
    renderCards();
  }

  // -- yield of the evening --------------------------------------------------------------------------------

  async function loadYield() {
    setText(view.yieldStatus, tr("yield_loading"));
    let data = null;
    try {
      data = await getJson(`${base}/yield`);
    } catch (error) {
      data = null;
    }
    if (!data) {
      setText(view.yieldStatus, tr("yield_failed"));
      yieldLoadedFor = null;
      return;
    }
    const sessions = Array.isArray(data.sessions) ? data.sessions : [];
    exposed.yield = sessions;
    setText(view.yieldStatus, sessions.length ? "" : tr("yield_empty"));
    view.yieldList.replaceChildren(...sessions.map((s) => el("article", { class: "yield__session", dataset: { session: s.id } },
      el("h3", { class: "yield__title", id: `yield-title-${s.id}` }, s.title),
      s.text && s.text.trim() ? el("div", { class: "yield__text", tabindex: "0", role: "region",
        "aria-labelledby": `yield-title-${s.id}` }, s.text) : el("p", { class: "muted" }, tr("yield_no_text")),
      (s.cards || []).length ? el("h4", { class: "yield__top" }, tr("yield_top")) : null,
      (s.cards || []).length ? el("ol", { class: "yield__cards" }, s.cards.map((c) => el("li", {},
        el("span", { class: "yield__card-text" }, c.text), " ",
        el("span", { class: "yield__card-votes" }, `(${tr("cards_votes", { n: c.votes })})`)))) : null,
      el("p", { class: "yield__download" },
        el("a", { href: `${base}/sessions/${encodeURIComponent(s.id)}/notes.md`, download: true }, tr("notes_download"))))));
  }

  // -- following the clock ---------------------------------------------------------------------------------

  /** The session's host may bring the note back to an earlier version (the server keeps one a minute). */
  function renderHistory() {
    const session = note && hosting.includes(note.session) ? note.session : null;
    if (session === historyFor) return;
    historyFor = session;
    view.history.replaceChildren();
    show(view.history, Boolean(session));
    if (!session) return;
    const time = timeFormatter(config.lang, config.timezone, { seconds: true });
    view.history.append(noteHistory({ tr, time, base, session: { id: session, title: note.title } }).node);
  }

  /**
   * The round of the note the clock opened has ended: fold it into a button, so the next phase gets the width and
   * the list of writers goes. What was typed last goes to the server first (it accepts it for a grace period).
   * Text the server refused stays on screen to copy: then the note stays open, with its close button.
   */
  /** The folded notes survive a reload of the page (in this tab). */
  function remembered() {
    try {
      const value = JSON.parse(sessionStorage.getItem(foldKey) || "null");
      return value && typeof value.id === "string" ? { id: value.id, title: String(value.title || "") } : null;
    } catch (error) {
      return null;
    }
  }

  function setFolded(value) {
    folded = value;
    try {
      if (value) sessionStorage.setItem(foldKey, JSON.stringify(value));
      else sessionStorage.removeItem(foldKey);
    } catch (error) {
      // private mode: forgotten after a reload ("Mijn avond" still offers the notes)
    }
  }

  function foldNote() {
    const n = note;
    if (!view.kept.hidden) {
      n.explicit = true;
      return;
    }
    if (n.session === autoSession) return; // read again in its own round
    while (n.pending.length && socket.connected && n.joined) flush(n);
    setFolded({ id: n.session, title: n.title });
    closeNote();
  }

  function render() {
    renderHistory();
    // In the closing plenary the yield takes the notes' place, unless the participant opened a note to read.
    const yieldShown = yieldWanted && !(note && note.explicit);
    if (yieldShown && note) closeNote(); // the yield holds that text too; no need to stay subscribed
    const notesVisible = Boolean(note);
    show(view.root, notesVisible);
    show(view.yield, yieldShown);
    show(view.fold, Boolean(folded) && !yieldShown && !(note && note.session === folded.id));
    setText(view.foldOpen, folded ? tr("notes_fold_open", { title: folded.title || folded.id }) : "");
    show(view.close, Boolean(note) && note.session !== autoSession);
    layout(notesVisible || yieldShown);
  }

  function state(s) {
    if (!s) return;
    if (Array.isArray(s.hosting)) hosting = s.hosting; // personal states carry it; shared transition pushes not
    const session = s.status === "running" && s.room && s.room.session;
    const brainstorm = session && session.kind === "brainstorm" ? session : null;
    autoSession = brainstorm ? brainstorm.id : null;
    // Moved to another room while the note's round still runs: that note is not this participant's any more.
    if (note && note.round && s.status === "running" && s.phase && s.phase.id === note.round && note.session !== autoSession) {
      closeNote();
    }
    const key = s.phase ? s.phase.id : s.status;
    const transition = phaseKey !== undefined && key !== phaseKey;
    phaseKey = key;
    // The clock's note folds when its round ends; a note opened to read folds at the next transition.
    if (note && (note.explicit ? transition : note.session !== autoSession)) foldNote();
    if (brainstorm && dismissed !== brainstorm.id) {
      if (folded) setFolded(null); // its own round again, or a new brainstorm whose notes take the place
      openNote(brainstorm.id, brainstorm.title);
    }
    yieldWanted = Boolean(closingId && ((s.status === "running" && s.phase && s.phase.id === closingId) || s.status === "ended"));
    if (yieldWanted && yieldLoadedFor !== (s.phase ? s.phase.id : s.status)) {
      yieldLoadedFor = s.phase ? s.phase.id : s.status;
      loadYield();
    }
    render();
  }

  /** The participant asks to read a brainstorm's notes (from "Mijn avond"). */
  function openSession(id, title) {
    dismissed = null;
    openNote(id, title, true);
    render();
    view.root.focus();
  }

  function connected() {
    if (note) join(note);
    if (yieldWanted) loadYield();
  }

  function disconnected() {
    const n = note;
    if (!n) return;
    n.joined = false;
    n.synced = false;
    // The others' cursors are stale now; they come back with the re-join's awareness query.
    const P = window.PleinNotes;
    const others = [...n.awareness.getStates().keys()].filter((id) => id !== n.doc.clientID);
    if (others.length) P.awarenessProtocol.removeAwarenessStates(n.awareness, others, REMOTE);
    renderStatus();
  }

  // -- wiring ----------------------------------------------------------------------------------------------

  view.root.tabIndex = -1;
  view.undo.addEventListener("click", () => { if (note) { note.undoManager.undo(); note.editor.focus(); } });
  view.redo.addEventListener("click", () => { if (note) { note.undoManager.redo(); note.editor.focus(); } });
  view.close.addEventListener("click", () => {
    if (note) dismissed = note.session;
    closeNote();
    render();
  });
  view.foldOpen.addEventListener("click", () => { if (folded) openSession(folded.id, folded.title); });
  view.keptDismiss.addEventListener("click", () => {
    view.keptText.value = "";
    show(view.kept, false);
    clearError();
  });
  view.cardsForm.addEventListener("submit", addCard);
  view.cardsText.addEventListener("input", () => {
    countCard();
    setText(view.cardsError, ""); // an earlier refusal no longer speaks about this text
    setText(view.cardsOk, "");
  });
  view.cardsText.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) view.cardsForm.requestSubmit();
  });
  socket.on("notes:message", onMessage);
  socket.on("notes:state", onNotesState);
  socket.on("notes:error", onNotesError);
  socket.on("cards:changed", onCardChanged);
  socket.on("cards:removed", onCardRemoved);
  renderCardsForm();

  return { state, connected, disconnected, openSession, get session() { return note && note.session; } };
}
