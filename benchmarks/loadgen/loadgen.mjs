// The load generator of benchmarks/scale.py: N socket.io-client connections (websocket only, the
// client and back-off the pages use) in one Node process, steered by JSON lines on stdin; answers
// are JSON lines on stdout. Times are epoch milliseconds (performance.timeOrigin + now()), so the
// driver compares them with the moment it sent a request.
//
//   {"cmd": "connect", "url": U, "tokens": [..] | null, "count": N, "concurrency": C}
//       -> {"ok": "connect", "connected": n, "failed": k, "secs": s, "error": first error}
//   {"cmd": "collect", "version": V, "timeout": S}
//       -> {"ok": "collect", "times": [first arrival of a `state` with this version, per client], "missing": k}
//   {"cmd": "greeted", "timeout": S}          (every client has had a first `state`)
//       -> {"ok": "greeted", "missing": k}
//   {"cmd": "storm_arm"}                      (before the server is killed)
//   {"cmd": "storm_wait", "timeout": S}
//       -> {"ok": "storm_wait", "times": [first `state` after the client's reconnect], "missing": k}
//   {"cmd": "close"}
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const now = () => performance.timeOrigin + performance.now();
const clients = [];
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

function makeClient(url, token) {
  const c = { arrivals: new Map(), storm: null, socket: null };
  const socket = io(url, {
    transports: ["websocket"], auth: token ? { token, lang: "nl" } : { lang: "nl" },
    forceNew: true, reconnectionDelay: 1000, reconnectionDelayMax: 5000, randomizationFactor: 0.5,
  });
  socket.on("state", (data) => {
    const t = now();
    const v = data && data.version;
    if (!c.arrivals.has(v)) c.arrivals.set(v, t);
    if (c.storm && c.storm.down && c.storm.back === null && socket.connected) c.storm.back = t;
  });
  socket.on("disconnect", () => { if (c.storm) c.storm.down = true; });
  c.socket = socket;
  return c;
}

async function connectAll({ url, tokens, count, concurrency }) {
  const n = tokens ? tokens.length : count;
  const started = now();
  let failed = 0, error = null, next = 0;
  async function one(i) {
    const c = makeClient(url, tokens ? tokens[i] : null);
    await new Promise((resolve) => {
      const done = (err) => {
        if (err) { failed += 1; error = error || String(err.message || err); }
        c.socket.off("connect", ok); c.socket.off("connect_error", bad); resolve();
      };
      const ok = () => done(null);
      const bad = (err) => { c.socket.disconnect(); done(err); };
      c.socket.on("connect", ok);
      c.socket.on("connect_error", bad);
    });
    clients.push(c);
  }
  async function lane() { while (next < n) await one(next++); }
  await Promise.all(Array.from({ length: Math.min(concurrency || 200, n) }, lane));
  return { ok: "connect", connected: clients.filter((c) => c.socket.connected).length, failed, error,
           secs: (now() - started) / 1000 };
}

async function waitFor(predicate, timeoutSecs) {
  const deadline = now() + timeoutSecs * 1000;
  while (!predicate() && now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

async function collect({ version, timeout }) {
  await waitFor(() => clients.every((c) => c.arrivals.has(version)), timeout || 30);
  const times = clients.filter((c) => c.arrivals.has(version)).map((c) => c.arrivals.get(version));
  return { ok: "collect", times, missing: clients.length - times.length };
}

async function stormWait({ timeout }) {
  await waitFor(() => clients.every((c) => c.storm && c.storm.back !== null), timeout || 60);
  const times = clients.filter((c) => c.storm && c.storm.back !== null).map((c) => c.storm.back);
  return { ok: "storm_wait", times, missing: clients.length - times.length };
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const msg = JSON.parse(line);
  if (msg.cmd === "connect") say(await connectAll(msg));
  else if (msg.cmd === "collect") say(await collect(msg));
  else if (msg.cmd === "greeted") {
    await waitFor(() => clients.every((c) => c.arrivals.size > 0), msg.timeout || 30);
    say({ ok: "greeted", missing: clients.filter((c) => c.arrivals.size === 0).length });
  } else if (msg.cmd === "storm_arm") { clients.forEach((c) => { c.storm = { down: false, back: null }; }); say({ ok: "storm_arm" }); }
  else if (msg.cmd === "storm_wait") say(await stormWait(msg));
  else if (msg.cmd === "close") { clients.forEach((c) => c.socket.disconnect()); say({ ok: "close" }); break; }
  else say({ error: `unknown command ${msg.cmd}` });
}
process.exit(0);
