// End-to-end file pushes in the browser (issue 20; the format is pwpush_app/core/e2e_files.py's,
// docs/api.md "End-to-end files"): each file, its name and type included, is encrypted here in
// 1 MiB records before the upload, and decrypted here as its download streams in.
//
// - sealFile(file, position, pushKey): the encrypted File the upload sends, named encrypted-<n>.
// - E2EFiles (the reveal page): `rx.set_value(id, {files: [{href}]})` after the usual reveal; it
//   downloads each file (same-site /d/... links only), decrypts it as it streams (asking the page's
//   passphrase form when the sender set one) and offers it under its real name from a Blob URL.
//   The Blob's type is always application/octet-stream: a blob: URL has this site's origin, so
//   the sender's claimed type (text/html...) must never make it render here.
import { createElement as h, forwardRef, useEffect, useImperativeHandle, useRef, useState } from "react";
import { aesKey, askPassphrase, fromB64u, getLinkKey, toB64u } from "$/public/components/e2e_core.js";

const MAGIC = [0x50, 0x57, 0x45, 0x32, 0x45, 0x46, 0x00, 0x01]; // "PWE2EF" 00 01
const FILE_AD = new TextEncoder().encode("pwpush-e2e-file-v1");
const CHUNK = 1024 * 1024;
const META = 1024;
const TAG = 16;
const SAFE_HREF = /^\/d\/[A-Za-z0-9_-]+\/\d+$/;

const join = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};
const uint32 = (n) => new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const ad = (header, index, last) => join(FILE_AD, header, uint32(index), new Uint8Array([last ? 1 : 0]));
const iv = (header, index) => join(header.subarray(header.length - 8), uint32(index));

function metadata(name, type) {
  const encoder = new TextEncoder();
  let chars = Array.from(name);
  for (;;) {
    const text = encoder.encode(JSON.stringify({ name: chars.join(""), type }));
    if (text.length <= META) return join(text, new Uint8Array(META - text.length).fill(0x20));
    chars = chars.slice(0, Math.max(0, chars.length - Math.max(1, Math.floor((text.length - META) / 4))));
  }
}

export async function sealFile(file, position, pushKey) {
  const flags = pushKey.params.kdf
    ? join(new Uint8Array([1]), uint32(pushKey.params.iter), fromB64u(pushKey.params.salt))
    : new Uint8Array([0]);
  const header = join(new Uint8Array(MAGIC), flags, crypto.getRandomValues(new Uint8Array(8)));
  const seal = async (index, plain, last) =>
    new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: iv(header, index), additionalData: ad(header, index, last) },
      pushKey.key, plain));
  const parts = [header, await seal(0, metadata(file.name, file.type || "application/octet-stream"), file.size === 0)];
  for (let offset = 0, index = 1; offset < file.size; offset += CHUNK, index += 1) {
    const plain = new Uint8Array(await file.slice(offset, offset + CHUNK).arrayBuffer());
    parts.push(await seal(index, plain, offset + CHUNK >= file.size));
  }
  return new File(parts, `encrypted-${position + 1}`, { type: "application/octet-stream" });
}

// A download's bytes, taken in exact amounts as they arrive.
function byteReader(body) {
  const reader = body.getReader();
  const pieces = [];
  let have = 0;
  let ended = false;
  return {
    async has(size) {
      while (have < size && !ended) {
        const { value, done } = await reader.read();
        if (done) ended = true;
        else if (value.length) {
          pieces.push(value);
          have += value.length;
        }
      }
      return have >= size;
    },
    take(size) {
      const out = new Uint8Array(Math.min(size, have));
      let at = 0;
      while (at < out.length) {
        const piece = pieces[0];
        const need = out.length - at;
        if (piece.length <= need) {
          out.set(piece, at);
          pieces.shift();
          at += piece.length;
        } else {
          out.set(piece.subarray(0, need), at);
          pieces[0] = piece.subarray(need);
          at += need;
        }
      }
      have -= out.length;
      return out;
    },
  };
}

class Undecryptable extends Error {}

// Decrypt one file as it streams in: {name, blob}.  Throws Undecryptable (wrong key, altered or cut short).
export async function openFile(body, rawKey, onProgress) {
  const bytes = byteReader(body);
  await bytes.has(9);
  const start = bytes.take(9);
  if (start.length < 9 || MAGIC.some((b, i) => start[i] !== b) || start[8] > 1) throw new Undecryptable("not the format");
  const withPassphrase = start[8] === 1;
  await bytes.has(withPassphrase ? 28 : 8);
  const rest = bytes.take(withPassphrase ? 28 : 8);
  const header = join(start, rest);
  if (header.length !== (withPassphrase ? 37 : 17)) throw new Undecryptable("cut short");
  const params = withPassphrase
    ? { kdf: "PBKDF2-SHA256", iter: (rest[0] << 24 | rest[1] << 16 | rest[2] << 8 | rest[3]) >>> 0, salt: toB64u(rest.subarray(4, 20)) }
    : {};

  const record = async (index, full, key) => {
    const last = !(await bytes.has(full + 1));
    const sealed = bytes.take(full);
    if (sealed.length < TAG + (index === 0 ? 0 : 1) || (index === 0 && sealed.length !== full)) throw new Undecryptable("cut short");
    try {
      const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: iv(header, index), additionalData: ad(header, index, last) }, key, sealed);
      return { plain: new Uint8Array(plain), last };
    } catch (e) {
      throw new Undecryptable("does not decrypt");
    }
  };
  // The name first: with a passphrase, ask until it opens (the record is kept, not read again).
  const sealedMeta = { has: await bytes.has(META + TAG + 1) };
  const metaBytes = bytes.take(META + TAG);
  let key;
  let meta;
  for (let wrong = false; ; wrong = true) {
    key = await aesKey(rawKey, params, withPassphrase ? await askPassphrase(wrong) : "");
    try {
      if (metaBytes.length !== META + TAG) throw new Undecryptable("cut short");
      meta = new Uint8Array(await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: iv(header, 0), additionalData: ad(header, 0, !sealedMeta.has) }, key, metaBytes));
      break;
    } catch (e) {
      if (!withPassphrase || e instanceof Undecryptable) throw new Undecryptable("does not decrypt");
    }
  }
  let name = "file";
  try {
    const fields = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(meta));
    if (typeof fields.name === "string" && fields.name.trim()) name = fields.name;
  } catch (e) {
    throw new Undecryptable("unreadable name");
  }
  const plain = [];
  let done = !sealedMeta.has;
  let received = 0;
  for (let index = 1; !done; index += 1) {
    const opened = await record(index, CHUNK + TAG, key);
    plain.push(opened.plain);
    received += opened.plain.length;
    done = opened.last;
    onProgress(received);
  }
  return { name, size: received, blob: new Blob(plain, { type: "application/octet-stream" }) };
}

const describeBytes = (n) =>
  n >= 1048576 ? (Math.ceil(n / 10485.76) / 100).toFixed(2) + " MiB" : n >= 1024 ? Math.ceil(n / 1024) + " KiB" : n + (n === 1 ? " byte" : " bytes");

const BUTTON = "rt-reset rt-BaseButton rt-r-size-2 rt-Button rt-variant-solid";

// The list's texts; `words` (the page's own, in the visitor's language) replaces them.
const FILES_ENGLISH = {
  decryptingSize: "Decrypting… {size}",
  downloading: "Downloading and decrypting…",
  ready: "Decrypted in this browser",
  file: "File {number}",
  save: "Save",
  saveNamed: "Save {name}",
  again: "Try again",
  missing: "This link is missing its key (the part after #): ask the sender for the whole link.",
  failed: "The download failed (error {status}).",
  undecryptable: "This file could not be decrypted: the link's key or the passphrase is wrong, or the file was altered.",
  cut: "The download was cut off. Check your connection and try again.",
};

const sayWith = (words) => (key, values = {}) => Object.entries(values).reduce(
  (text, [name, value]) => text.replaceAll("{" + name + "}", String(value)), (words && words[key]) || FILES_ENGLISH[key]);

function Row({ item, index, retry, say }) {
  const said = {
    busy: item.received ? say("decryptingSize", { size: describeBytes(item.received) }) : say("downloading"),
    error: item.error,
    ready: say("ready"),
  }[item.state];
  return h("li", { "data-state": item.state },
    h("span", { className: "file-links-name" }, item.name || say("file", { number: index + 1 })),
    item.state === "ready" && h("span", { className: "file-links-size" }, describeBytes(item.size)),
    item.state === "ready" && h("a", {
      href: item.url, download: item.name, className: `file-links-download ${BUTTON}`, "aria-label": say("saveNamed", { name: item.name }),
      "data-index": index,
    }, say("save")),
    item.state === "error" && item.retry && h("button", {
      type: "button", className: `file-links-download ${BUTTON}`, onClick: () => retry(index),
    }, say("again")),
    h("span", { className: "file-links-state", role: item.state === "error" ? "alert" : "status" }, said),
  );
}

export const E2EFiles = forwardRef(function E2EFiles({ label, words, ...props }, ref) {
  const say = sayWith(words);
  const [items, setItems] = useState([]);
  const urls = useRef([]);
  const run = useRef(0);
  const links = useRef([]);
  const forget = () => {
    urls.current.forEach((url) => URL.revokeObjectURL(url));
    urls.current = [];
  };
  useEffect(() => forget, []);
  const update = (turn, index, change) => {
    if (run.current === turn) setItems((now) => now.map((item, i) => (i === index ? { ...item, ...change } : item)));
  };
  const linkKey = () => {
    try {
      return fromB64u(getLinkKey());
    } catch (e) {
      return new Uint8Array(0);
    }
  };
  const fetchOne = async (turn, index) => {
    const rawKey = linkKey();
    if (rawKey.length !== 32) {
      return update(turn, index, { state: "error", error: say("missing") });
    }
    update(turn, index, { state: "busy", received: 0, retry: false });
    try {
      const answer = await fetch(links.current[index], { cache: "no-store", credentials: "same-origin" });
      if (!answer.ok) {
        return update(turn, index, { state: "error", error: answer.headers.get("X-Error") || say("failed", { status: answer.status }) });
      }
      const opened = await openFile(answer.body, rawKey, (received) => update(turn, index, { received }));
      const url = URL.createObjectURL(opened.blob);
      urls.current.push(url);
      update(turn, index, { state: "ready", name: opened.name, size: opened.size, url });
    } catch (e) {
      // A download cut short gives a once-only file back (docs/files.md): it may be tried again.
      update(turn, index, e instanceof Undecryptable
        ? { state: "error", error: say("undecryptable") }
        : { state: "error", error: say("cut"), retry: true });
    }
  };
  const fetchAll = async (turn) => {
    for (let index = 0; index < links.current.length && run.current === turn; index += 1) await fetchOne(turn, index);
  };
  useImperativeHandle(ref, () => ({
    get value() {
      return "";
    },
    set value(text) {
      run.current += 1;
      forget();
      let files = [];
      try {
        const value = JSON.parse(text || "{}");
        files = (value.files || []).filter((f) => f && typeof f.href === "string" && SAFE_HREF.test(f.href));
      } catch (e) {
        files = [];
      }
      links.current = files.map((file) => file.href);
      setItems(files.map(() => ({ state: "busy", name: "", received: 0 })));
      if (files.length) fetchAll(run.current);
    },
  }), []);
  if (!items.length) return h("div", { ...props, hidden: true });
  return h("div", props,
    h("span", { style: { fontWeight: 500, fontSize: "var(--font-size-2)" } }, label),
    h("ul", { id: "e2e-file-list" }, items.map((item, index) => h(Row, { key: index, item, index, say, retry: (i) => fetchOne(run.current, i) }))),
  );
});
