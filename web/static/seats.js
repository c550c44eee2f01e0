// Seats: places left in a session, whether a round still takes choices, and the participant's choices over
// the JSON API. Shared by choose.js and live.js.

/** "nog 12 plaatsen", "nog 1 plaats", "vol". */
export function placesText(tr, n) {
  if (!(n > 0)) return tr("places_full");
  return tr("places_left", { n });
}

/** The event's API base: /api/events/<slug>. */
export function eventApi(slug) {
  return `/api/events/${encodeURIComponent(slug)}`;
}

/** May the participant (still) choose in this round (a phase of GET /api/events/<slug>)? */
export function roundEditable(round) {
  if (!round || round.kind !== "round" || round.locked) return false;
  return round.status === "upcoming" || (round.status === "running" && Boolean(round.switching));
}

/** GET some JSON of ours; null when the server says no (the caller keeps what it has). */
export async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) return null;
  return response.json();
}

/**
 * PUT {"<round id>": "<session id>" | null} as this participant's choices (all or nothing).
 * Resolves to {ok, status, data}: data is {id, name, choices, placements} or {error: {code, message, ...}}.
 * Rejects only when the server could not be reached.
 */
export async function putChoices(slug, body) {
  const response = await fetch(`${eventApi(slug)}/participants/me/choices`, {
    method: "PUT",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  return { ok: response.ok && Boolean(data), status: response.status, data };
}

/** The human message of a refused request (already in the page's language), or a fallback. */
export function errorMessage(result, fallback) {
  const error = result && result.data && result.data.error;
  return (error && error.message) || fallback || `HTTP ${result ? result.status : "?"}`;
}
