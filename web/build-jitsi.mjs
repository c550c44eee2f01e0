// Build Jitsi's real IFrame API for the browser tests, from the pinned @jitsi/react-native-sdk (which ships
// jitsi-meet's own modules/API/external/ source) and @jitsi/js-utils. Not committed, not used by Plein itself:
// in production the page loads external_api.js from the configured Jitsi deployment.
//   external_api.js   the embedder's side: window.JitsiMeetExternalAPI, exactly what a deployment serves
//   transport.js      the Jitsi page's side: window.JitsiTransport = { Transport, PostMessageTransportBackend },
//                     the postis transport jitsi-meet's modules/API/API.js talks through
// Usage: cd web && npm ci && node build-jitsi.mjs [out-folder]   (default: tests/jitsi_fake/build/)
import { build } from "esbuild";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] || join(here, "..", "tests", "jitsi_fake", "build"));
const sdk = join(here, "node_modules", "@jitsi", "react-native-sdk");
const common = {
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  // jitsi-meet's web build picks `.web.ts` / `.web.js` over the React Native files beside them.
  resolveExtensions: [".web.ts", ".web.js", ".ts", ".tsx", ".js", ".json"],
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
  metafile: true,
};

const started = Date.now();
const results = await Promise.all([
  build({
    ...common,
    entryPoints: [join(sdk, "modules", "API", "external", "index.js")],
    globalName: "JitsiMeetExternalAPI",
    // index.js is `module.exports = require('./external_api').default`: the global is the class itself.
    outfile: join(out, "external_api.js"),
  }),
  build({
    ...common,
    stdin: {
      contents: 'export { PostMessageTransportBackend, Transport } from "@jitsi/js-utils/transport";',
      resolveDir: here,
    },
    globalName: "JitsiTransport",
    outfile: join(out, "transport.js"),
  }),
]);
for (const result of results) {
  for (const [file, info] of Object.entries(result.metafile.outputs)) {
    console.log(`wrote ${file} (${(info.bytes / 1024).toFixed(1)} KiB)`);
  }
}
console.log(`in ${Date.now() - started} ms`);
