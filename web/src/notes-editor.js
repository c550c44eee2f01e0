// Entry of the notes bundle (web/static/vendor/notes-editor.min.js): Yjs, the y-protocols messages, lib0's
// binary encoding and a CodeMirror 6 editor bound to a Y.Text, exposed as one global `window.PleinNotes`
// so that the plain ES modules of web/static/ can use them without a build step of their own.
// Rebuild: cd web && npm ci && node build.mjs (see the README, "Rebuilding the client libraries").

import * as Y from "yjs";
import * as syncProtocol from "y-protocols/sync";
import * as awarenessProtocol from "y-protocols/awareness";
import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView, keymap, placeholder as placeholderExt, drawSelection } from "@codemirror/view";
import { defaultKeymap } from "@codemirror/commands";
import { yCollab, ySyncAnnotation, yUndoManagerKeymap } from "y-codemirror.next";

/**
 * Refuse this user's own changes that `guard(insertedText)` rejects (too large to send, say), before they reach
 * the Y.Text; changes coming from Yjs (remote edits, undo) always pass.
 */
const guarded = (guard) => EditorState.transactionFilter.of((tr) => {
  if (!guard || !tr.docChanged || tr.annotation(ySyncAnnotation)) return tr;
  let inserted = "";
  tr.changes.iterChanges((fromA, toA, fromB, toB, text) => { inserted += text.toString(); });
  return guard(inserted) === false ? [] : tr;
});

/**
 * A CodeMirror editor on `ytext` with remote cursors from `awareness` and undo/redo of this user's own edits
 * (`undoManager`, a Y.UndoManager: remote changes are never undone). Tab is left to the browser (moves focus),
 * so the editor is no keyboard trap. Returns {view, setReadOnly(bool), focus(), destroy()}.
 */
function createEditor({ parent, ytext, awareness, undoManager, readOnly = false, label = "", placeholder = "",
  describedBy = null, guard = null }) {
  const editable = new Compartment();
  const lock = (ro) => [EditorState.readOnly.of(ro), EditorView.editable.of(!ro)];
  const attrs = { "aria-label": label, "aria-multiline": "true", role: "textbox" };
  if (describedBy) attrs["aria-describedby"] = describedBy;
  const state = EditorState.create({
    doc: ytext.toString(),
    extensions: [
      keymap.of([...yUndoManagerKeymap, ...defaultKeymap]),
      guarded(guard),
      drawSelection(),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of(attrs),
      placeholder ? placeholderExt(placeholder) : [],
      editable.of(lock(readOnly)),
      yCollab(ytext, awareness, { undoManager }),
    ],
  });
  const view = new EditorView({ state, parent });
  return {
    view,
    setReadOnly(ro) {
      view.dispatch({ effects: editable.reconfigure(lock(Boolean(ro))) });
      if (ro) view.contentDOM.setAttribute("aria-readonly", "true");
      else view.contentDOM.removeAttribute("aria-readonly");
      // Read-only, the content is no longer contenteditable: tabindex keeps it in the keyboard's reach, so a
      // note longer than the editor can still be scrolled without a mouse.
      if (ro) view.contentDOM.setAttribute("tabindex", "0");
      else view.contentDOM.removeAttribute("tabindex");
    },
    focus() { view.focus(); },
    destroy() { view.destroy(); },
  };
}

window.PleinNotes = { Y, syncProtocol, awarenessProtocol, encoding, decoding, createEditor, EditorView };
