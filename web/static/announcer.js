// Says each move once to a screen reader (markup: templates/live.html #announcer, a polite live region): the phase
// and the room the page is in now. Filled only when the phase, the room or the evening's status changes, never on a
// tick, a reconnect or a repeated `state`, so a screen reader does not say the same place twice.

import { setText } from "./helpers.js";

/** node: the live region; tr, time: the page's translator and time formatter. */
export function moveAnnouncer(node, { tr, time }) {
  let said = null; // what the last announcement was about: status, phase and room

  function text(state, room) {
    if (state.status === "waiting") return tr("announce_waiting");
    if (state.status === "ended") return tr("announce_ended");
    if (state.status === "before") return state.next ? tr("announce_before", { time: time(state.next.starts_at) }) : "";
    if (!state.phase) return "";
    const now = tr("announce_now", { title: state.phase.title });
    if (!room) return `${now} ${tr("announce_no_room")}`;
    if (room.foyer) return `${now} ${tr("announce_foyer")}`;
    return room.title === state.phase.title ? now : `${now} ${tr("announce_room", { title: room.title })}`;
  }

  return {
    /** The page's accepted `state`, and the room as the page names it ({title, foyer}) or null. */
    state(state, room) {
      const key = `${state.status}|${state.phase ? state.phase.id : ""}|${state.room ? state.room.name : ""}`;
      if (key === said) return;
      said = key;
      setText(node, text(state, room));
    },
  };
}
