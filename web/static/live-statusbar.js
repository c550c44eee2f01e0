// The live page's status bar for phones (markup: templates/live.html #statusbar): the phase, the room, the time
// left and a way to ask for help, at the top of the screen while the video, the notes and the program scroll by.
// On a wider screen the side panel shows all of it and the stylesheet hides the bar.

import { attr, qs, setText, show } from "./helpers.js";
import { formatCountdown } from "./clock.js";

/** openHelp: () => void, opens the help form (live-help.js `reveal`). Returns {now, time}. */
export function statusBar({ openHelp }) {
  const view = {
    bar: qs("#statusbar"),
    now: qs("#statusbar-now"),
    phase: qs("#statusbar-phase"),
    room: qs("#statusbar-room"),
    time: qs("#statusbar-time"),
    help: qs("#statusbar-help"),
  };
  view.help.addEventListener("click", openHelp);
  return {
    /** What is going on: the phase's (or the evening's) title, its kind (or null), the room if it says more. */
    now(title, kind, room) {
      setText(view.phase, title);
      setText(view.room, room || "");
      show(view.room, Boolean(room));
      attr(view.bar, "data-kind", kind || null);
      // In a round the own session matters most: it comes first (in a break the foyer comes after "Pauze").
      const first = kind === "round" && room ? view.room : view.phase;
      if (view.now.firstElementChild !== first) view.now.prepend(first);
    },
    /** The time left in ms (null: none to show), and whether the clock is paused. */
    time(ms, paused) {
      show(view.time, ms !== null);
      setText(view.time, ms === null ? "" : formatCountdown(ms));
      attr(view.time, "data-paused", paused ? "true" : null);
    },
  };
}
