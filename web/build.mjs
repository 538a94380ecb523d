// Build the public page's assets into bot/web/static/ (not committed).
//
//   cd web && npm ci && npm run build
//
// Each file is written under a name carrying a hash of its content (chat.1a2b3c4d.js), so the
// server can let browsers cache it for a year; manifest.json maps the plain names to the hashed
// ones for the page. No bundler: the widget is one plain script and socket.io-client ships its
// own browser build. Nothing is fetched: the only input is this folder and node_modules.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "..", "bot", "web", "static");

function socketIoClient() {
  const file = join(here, "node_modules", "socket.io-client", "dist", "socket.io.min.js");
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    console.error("socket.io-client is not installed: run `npm ci` in web/ first");
    process.exit(1);
  }
  // The source map is not shipped: drop the comment that would make dev tools ask for it.
  return text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");
}

const sources = {
  "socket.io.js": socketIoClient(),
  "chat.js": readFileSync(join(here, "src", "chat.js"), "utf8"),
  "site.css": readFileSync(join(here, "src", "site.css"), "utf8"),
  "favicon.svg": readFileSync(join(here, "src", "favicon.svg"), "utf8"),
};

mkdirSync(out, { recursive: true });
for (const name of readdirSync(out)) rmSync(join(out, name), { recursive: true, force: true });

const manifest = {};
for (const [name, text] of Object.entries(sources)) {
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 12);
  const dot = name.lastIndexOf(".");
  const hashed = `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
  writeFileSync(join(out, hashed), text);
  manifest[name] = hashed;
}
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
// Built files are never committed.
writeFileSync(join(out, ".gitignore"), "*\n");
console.log(`web assets built in ${out}:`);
for (const [name, hashed] of Object.entries(manifest)) console.log(`  ${name} -> ${hashed}`);
