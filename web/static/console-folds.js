// The moderator console's folds: each card but the clock, the controls, help and messages is a <details class="fold">
// whose summary is the card's heading. On a laptop they start open (everything in view); on a phone they start
// closed, so the controls and help come first and the rest is one tap (or Enter) away.

import { qsa } from "./helpers.js";

export const PHONE_QUERY = "(max-width: 600px)";

/** Close every fold on a narrow screen (once, at load: what the moderator opens stays open). */
export function foldForPhones() {
  if (!window.matchMedia(PHONE_QUERY).matches) return;
  for (const fold of qsa("details.fold")) fold.open = false;
}
