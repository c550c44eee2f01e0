// The Jitsi Meet *page* of the tests' loopback Jitsi (tests/fake_jitsi.py), loaded in the iframe that Jitsi's
// real IFrame API opens. It talks to the embedder through js-utils' real postis transport, with the scope and
// event names of jitsi-meet's modules/API/API.js, and tells the test server what it saw and did.
(function () {
  "use strict";
  const { Transport, PostMessageTransportBackend } = window.JitsiTransport;

  /** The IFrame API's hash: `key=<URI-encoded JSON>&...`. */
  function parseHash(hash) {
    const out = {};
    for (const part of hash.replace(/^#/, "").split("&")) {
      if (!part) continue;
      const at = part.indexOf("=");
      const key = at < 0 ? part : part.slice(0, at);
      const text = at < 0 ? "" : decodeURIComponent(part.slice(at + 1));
      try { out[key] = JSON.parse(text); } catch (error) { out[key] = text; }
    }
    return out;
  }

  function record(body) {
    return fetch("/__fake/record", { method: "POST", body: JSON.stringify(body), keepalive: true })
      .then((resp) => resp.json());
  }

  const params = parseHash(location.hash);
  const apiId = params.jitsi_meet_external_api_id;
  // modules/transport/index.js: the scope only when the page was opened by the IFrame API.
  const postisOptions = typeof apiId === "number" ? { scope: `jitsi_meet_external_api_${apiId}` } : {};
  const transport = new Transport({ backend: new PostMessageTransportBackend({ postisOptions }) });
  const show = (id, text) => { document.getElementById(id).textContent = text; };
  let me = null;
  // Names this page to the server before its join is answered, so leaving early still counts.
  const key = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  let left = false;
  let role = "none";

  function sendRole(value) {
    role = value;
    show("role", `rol: ${value}`);
    transport.sendEvent({ name: "participant-role-changed", id: me.id, role: value });
  }

  function sendJoined() {
    transport.sendEvent({
      name: "video-conference-joined", roomName: me.room, id: me.id, displayName: me.displayName,
      formattedDisplayName: me.displayName, avatarURL: "", breakoutRoom: false, visitor: false,
    });
  }

  /** Like APP.conference.hangup: leave, then tell the embedder it may close the frame. */
  async function hangup(source) {
    if (left || !me) return;
    left = true;
    show("role", "opgehangen");
    await record({ type: "hangup", id: me.id, source });
    transport.sendEvent({ name: "video-conference-left", roomName: me.room });
    transport.sendEvent({ name: "video-ready-to-close" });
  }

  /** Role changes the server decides later (e.g. "first": the next occupant after the moderator left). */
  async function followRole() {
    while (!left) {
      let answer;
      try {
        answer = await fetch(`/__fake/role?id=${me.id}&known=${encodeURIComponent(role)}`).then((r) => r.json());
      } catch (error) {
        return; // the frame is going away
      }
      if (left || answer.role === "none") return;
      if (answer.role !== role) sendRole(answer.role);
    }
  }

  const early = []; // commands that came before the join was recorded

  function command(name, data) {
    record({ type: "command", id: me.id, name, args: data || [] });
    if (name === "video-hangup") hangup("command");
    if (name === "local-subject" || name === "subject") show("subject", String((data || [])[0] || ""));
  }

  transport.on("event", ({ name, data }) => {
    if (!name) return false;
    if (me) command(name, data);
    else early.push([name, data]);
    return true;
  });

  document.getElementById("hangup").addEventListener("click", () => hangup("button"));
  window.addEventListener("pagehide", () => {
    if (!left) navigator.sendBeacon("/__fake/record", JSON.stringify({ type: "leave", key }));
  });

  show("subject", params["config.subject"] || "");
  show("name", params["userInfo.displayName"] || "");
  transport.sendEvent({ name: "ready" });
  record({ type: "join", href: location.href, key }).then((answer) => {
    me = answer;
    show("room", me.room);
    if (me.roleFirst) {
      sendRole(me.role);
      sendJoined();
    } else {
      sendJoined();
      sendRole(me.role);
    }
    early.splice(0).forEach(([name, data]) => command(name, data));
    followRole();
  });
})();
