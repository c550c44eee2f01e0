// A stand-in for Jitsi's external_api.js, served on loopback by the tests (no Jitsi can run here).
// It implements the part of the IFrame API that Plein uses and records every call in
// window.__jitsiCalls, so a test can check which room the page asked for, as whom, and when it left.
(function () {
  "use strict";
  const calls = (window.__jitsiCalls = window.__jitsiCalls || []);
  class JitsiMeetExternalAPI {
    constructor(domain, options) {
      const opts = options || {};
      this._listeners = {};
      this._disposed = false;
      this.roomName = opts.roomName;
      calls.push({
        call: "new", domain: domain, roomName: opts.roomName,
        displayName: opts.userInfo ? opts.userInfo.displayName : undefined,
        jwt: opts.jwt, subject: opts.configOverwrite ? opts.configOverwrite.subject : undefined,
        at: Date.now(),
      });
      const frame = document.createElement("div");
      frame.className = "jitsi-standin";
      frame.dataset.room = opts.roomName || "";
      frame.textContent = "Jitsi (stand-in): " + opts.roomName;
      frame.style.cssText = "width:100%;height:100%;display:flex;align-items:center;justify-content:center;" +
        "background:#1d2b36;color:#fff;font:16px sans-serif;text-align:center;padding:1em;box-sizing:border-box";
      this._frame = frame;
      (opts.parentNode || document.body).appendChild(frame);
      setTimeout(() => this._emit("videoConferenceJoined", { roomName: opts.roomName }), 0);
    }
    dispose() {
      calls.push({ call: "dispose", roomName: this.roomName, at: Date.now() });
      this._disposed = true;
      this._frame.remove();
    }
    addListener(event, fn) { (this._listeners[event] = this._listeners[event] || []).push(fn); }
    on(event, fn) { this.addListener(event, fn); }
    removeListener(event, fn) {
      this._listeners[event] = (this._listeners[event] || []).filter((f) => f !== fn);
    }
    executeCommand(name, ...args) { calls.push({ call: "command", name: name, args: args, at: Date.now() }); }
    _emit(event, data) {
      if (this._disposed) return;
      (this._listeners[event] || []).forEach((fn) => fn(data));
    }
  }
  window.JitsiMeetExternalAPI = JitsiMeetExternalAPI;
})();
