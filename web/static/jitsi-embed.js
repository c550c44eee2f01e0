// The video room in the live page: Jitsi's IFrame API in one element. Loads the deployment's
// external_api.js, opens a room, leaves it cleanly (`hangup` before `dispose`, so Jitsi drops the old
// occupant at once), and reports the Jitsi role this page got in each room (`participantRoleChanged`,
// `videoConferenceJoined`). The role is a claim for the moderator console's warnings, never a right.

const HANGUP_GRACE_MS = 1000; // how long a left frame may take to hang up before it is disposed anyway
const ROLE_WAIT_MS = 5000; // joined without a role event this long: report "participant"

/**
 * jitsiEmbed({parent, scriptUrl, lang, displayName, report, onHangUp, frameTitle}):
 * - report({room, role}): this page's role in a Plein room, "moderator" | "participant" | "none" (left);
 * - onHangUp(room): Jitsi's own hang-up button closed the room (not a move by Plein);
 * - frameTitle(room): the iframe's title, which names the frame for screen readers (Jitsi sets none).
 */
export function jitsiEmbed({ parent, scriptUrl, lang, displayName, report, onHangUp, frameTitle = (r) => r.title }) {
  let loading = null; // Promise while external_api.js loads
  let api = null;
  let room = null; // the Plein room in the frame now
  let myId = null; // this page's participant id in Jitsi, from videoConferenceJoined
  let roles = new Map(); // participant id -> role; participantRoleChanged may come before videoConferenceJoined
  let reported = ""; // the last report sent, so a repeated event sends nothing
  let roleTimer = null;

  /** Load the IFrame API of the configured deployment (once; again after a failure). */
  function load() {
    if (window.JitsiMeetExternalAPI) return Promise.resolve();
    if (!loading) {
      const script = document.createElement("script");
      loading = new Promise((resolve, reject) => {
        script.src = scriptUrl;
        script.async = true;
        script.onload = () => (window.JitsiMeetExternalAPI ? resolve() : reject(new Error("no JitsiMeetExternalAPI")));
        script.onerror = () => reject(new Error(`could not load ${scriptUrl}`));
        document.head.append(script);
      }).catch((error) => {
        script.remove();
        loading = null;
        throw error;
      });
    }
    return loading;
  }

  function send(name, role, force = false) {
    const key = `${name}\n${role}`;
    if (key === reported && !force) return;
    reported = key;
    report({ room: name, role });
  }

  function myRole() {
    return roles.get(myId) === "moderator" ? "moderator" : "participant";
  }

  /** Joined and this page's role known: report it (Jitsi sends the own role just after joining, or before). */
  function reportRole(force = false) {
    if (!room || myId === null || !roles.has(myId)) return;
    clearTimeout(roleTimer);
    send(room.name, myRole(), force);
  }

  /** Forget the frame (without disposing it); say "none" for the room it showed. */
  function detach() {
    const left = { api, room };
    clearTimeout(roleTimer);
    if (room && myId !== null && reported.startsWith(`${room.name}\n`)) send(room.name, "none");
    api = null;
    room = null;
    myId = null;
    roles = new Map();
    return left;
  }

  /** Leave the room in the frame: hang up, hide the frame at once, dispose it once Jitsi is done (or after a moment). */
  function leave() {
    const { api: old } = detach();
    if (!old) return;
    let timer = null;
    const dispose = () => {
      clearTimeout(timer);
      try {
        old.dispose();
      } catch (error) {
        console.warn("Jitsi dispose failed", error);
      }
    };
    try {
      const frame = old.getIFrame();
      if (frame) frame.style.display = "none"; // the new room takes the space at once
      old.addListener("readyToClose", dispose);
      old.executeCommand("hangup");
      timer = setTimeout(dispose, HANGUP_GRACE_MS);
    } catch (error) {
      dispose();
    }
  }

  /** Open `target` (a wire room: domain, name, jitsi_room, title, jwt); leaves the room shown before. */
  function open(target) {
    leave();
    const options = {
      roomName: target.jitsi_room || target.name, // JaaS: "<AppID>/<room>"
      parentNode: parent,
      width: "100%",
      height: "100%",
      lang,
      userInfo: { displayName },
      // disableDeepLinking: phones stay in the browser instead of being sent to the app store.
      configOverwrite: { prejoinConfig: { enabled: false }, subject: target.title, disableDeepLinking: true },
      interfaceConfigOverwrite: {},
    };
    if (target.jwt) options.jwt = target.jwt;
    const created = new window.JitsiMeetExternalAPI(target.domain, options); // throws: the caller shows it
    api = created;
    room = target;
    created.getIFrame().title = frameTitle(target);
    const mine = (listener) => (data) => { if (api === created) listener(data || {}); };
    created.addListener("videoConferenceJoined", mine((data) => {
      myId = data.id;
      // `subject` in the config only shows once someone is a moderator; the local subject always does.
      created.executeCommand("localSubject", (room && room.title) || target.title);
      reportRole();
      if (!roles.has(myId)) roleTimer = setTimeout(() => { roles.set(myId, "participant"); reportRole(); }, ROLE_WAIT_MS);
    }));
    created.addListener("participantRoleChanged", mine((data) => {
      roles.set(data.id, data.role);
      if (data.id === myId) reportRole();
    }));
    created.addListener("readyToClose", mine(() => {
      // Jitsi's own hang-up button (a move by Plein has detached this frame already).
      const { room: closed } = detach();
      try {
        created.dispose();
      } catch (error) {
        console.warn("Jitsi dispose failed", error);
      }
      onHangUp(closed);
    }));
  }

  return {
    load,
    open,
    leave,
    /** The Plein room in the frame, or null. */
    get room() { return room; },
    /** The room in the frame goes by another name now (the foyer becomes the plenary it belongs to). */
    retitle(title) {
      if (!api || !room || room.title === title) return;
      room = { ...room, title };
      if (myId !== null) api.executeCommand("localSubject", title); // before joining: the join handler sets it
    },
    /** Report the role in the current room again (after a reconnect: the server may have lost it). */
    reportAgain() {
      reportRole(true);
    },
  };
}
