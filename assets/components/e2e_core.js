// End-to-end pushes' shared primitives (issue 20; the formats are pwpush_app/core/e2e.py's and
// core/e2e_files.py's, docs/api.md): base64url, the link's key, the AES key (with the
// passphrase), the text envelope, and the passphrase asked for once for a push's message and
// files.  The page's CSP allows no eval, so these are modules of the bundle.
//
// On a link's page (/p/...), as this module loads (e2e.js wraps the app, E2ELinkKey, so it
// loads with the app's first script, before React mounts and the websocket connects), the
// key after '#' is read into memory and removed from the address bar: Reflex sends the page's
// URL, hash included, with every event (router_data; the first one rides in the socket's
// CONNECT packet), so the key must be gone before the first one.
export const AD = new TextEncoder().encode("pwpush-e2e-v1");
export const ITERATIONS = 600000;

export const toB64u = (bytes) => {
  let text = "";
  const view = new Uint8Array(bytes);
  for (let i = 0; i < view.length; i += 0x8000) text += String.fromCharCode(...view.subarray(i, i + 0x8000));
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};
export const fromB64u = (text) => {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const raw = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
};

// The key of the link this page was opened with: in memory only, never in the address bar.
let linkKey = "";
const keyListeners = new Set();
function takeKey() {
  if (!/^\/p\/[^/]+/.test(window.location.pathname)) return;
  const hash = window.location.hash.replace(/^#/, "");
  if (hash) linkKey = hash;
  if (window.location.hash || window.location.href.endsWith("#")) {
    window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search);
  }
  if (hash) keyListeners.forEach((listener) => listener());
}
if (typeof window !== "undefined") {
  takeKey();
  // The whole link pasted into a tab already on it (a link cut at '#' first) changes only the
  // hash: no new page, so take the key then too, before the next event carries the URL.
  window.addEventListener("hashchange", takeKey);
}
export const getLinkKey = () => linkKey;
export function onLinkKey(listener) {
  keyListeners.add(listener);
  return () => keyListeners.delete(listener);
}

// PBKDF2 runs once per salt, iterations and passphrase (a push's message and files share them).
const derived = new Map();

// `params`: {kdf, salt (base64url), iter} of an envelope or a file's header; no kdf: the key itself.
export async function aesKey(rawKey, params, passphrase) {
  if (!params.kdf) return crypto.subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt", "decrypt"]);
  const slot = `${toB64u(rawKey)}|${params.salt}|${params.iter}|${passphrase.trim()}`;
  if (!derived.has(slot)) derived.set(slot, derive(rawKey, params, passphrase));
  return derived.get(slot);
}

async function derive(rawKey, params, passphrase) {
  const salt = fromB64u(params.salt);
  const typed = await crypto.subtle.importKey("raw", new TextEncoder().encode(passphrase.trim()), "PBKDF2", false, ["deriveBits"]);
  const stretched = new Uint8Array(
    await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: params.iter }, typed, 256),
  );
  const material = new Uint8Array(64);
  material.set(rawKey, 0);
  material.set(stretched, 32);
  const hkdf = await crypto.subtle.importKey("raw", material, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt, info: AD }, hkdf, { name: "AES-GCM", length: 256 },
    false, ["encrypt", "decrypt"]);
}

// A new push's key: the fragment's 32 bytes, and with a passphrase the salt and iterations.
export async function newPushKey(passphrase) {
  const rawKey = crypto.getRandomValues(new Uint8Array(32));
  const params = passphrase.trim()
    ? { kdf: "PBKDF2-SHA256", iter: ITERATIONS, salt: toB64u(crypto.getRandomValues(new Uint8Array(16))) }
    : {};
  return { rawKey, params, key: await aesKey(rawKey, params, passphrase), fragment: toB64u(rawKey) };
}

export async function sealText(pushKey, text) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const envelope = { v: 1, alg: "A256GCM", ...pushKey.params };
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: AD }, pushKey.key, new TextEncoder().encode(text));
  Object.assign(envelope, { iv: toB64u(iv), ct: toB64u(ct) });
  return JSON.stringify(envelope);
}

export async function seal(text, passphrase) {
  const pushKey = await newPushKey(passphrase);
  return { envelope: await sealText(pushKey, text), key: pushKey.fragment };
}

export async function open(envelopeText, keyText, passphrase) {
  const envelope = JSON.parse(envelopeText);
  const rawKey = fromB64u(keyText);
  if (rawKey.length !== 32) throw new Error("bad key");
  const key = await aesKey(rawKey, envelope, passphrase || "");
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromB64u(envelope.iv), additionalData: AD }, key, fromB64u(envelope.ct));
  return new TextDecoder("utf-8", { fatal: true }).decode(plain);
}

// --- the passphrase, asked for once on the reveal page ------------------------------------------
// The files (e2e_files.js) ask for it here; the page's one passphrase form (E2EOpener) shows
// while anything waits, and gives what the recipient typed to everything waiting.  A file that
// does not open with it asks again (`wrong`), and the form says so.
const gate = { known: null, waiting: [], wrong: false, listeners: new Set() };
const tell = () => gate.listeners.forEach((listener) => listener());

export function askPassphrase(wrong) {
  if (wrong) gate.known = null;
  if (gate.known !== null) return Promise.resolve(gate.known);
  return new Promise((resolve) => {
    gate.waiting.push(resolve);
    gate.wrong = gate.wrong || Boolean(wrong);
    tell();
  });
}

export function givePassphrase(passphrase) {
  const waiting = gate.waiting;
  Object.assign(gate, { known: passphrase, waiting: [], wrong: false });
  waiting.forEach((resolve) => resolve(passphrase));
  tell();
}

export const passphraseWanted = () => ({ asking: gate.waiting.length > 0, wrong: gate.wrong });

export function onPassphraseWanted(listener) {
  gate.listeners.add(listener);
  return () => gate.listeners.delete(listener);
}
