// End-to-end pushes' browser part (issue 20; the format is pwpush_app/core/e2e.py's and
// docs/api.md's).  The page's CSP allows no eval, so this is a module of the bundle:
//
// - On a link's page (/p/...), as this module loads (it wraps the app, E2ELinkKey, so it
//   loads with the app's first script, before React mounts and the websocket connects), the
//   key after '#' is read into memory and removed from the address bar: Reflex sends the
//   page's URL, hash included, with every event (router_data; the first one rides in the
//   socket's CONNECT packet), so the key must be gone before the first one.
// - E2EOpener (the reveal page): `rx.set_value(id, envelope)` after the usual reveal; it
//   decrypts here (asking for the passphrase when the envelope has one) and puts the text
//   into the page's secret field.  The server never sees the key or the passphrase.
// - E2ESealer (the create page): while its switch is on, it holds the form's submit, encrypts
//   the secret into the hidden #e2e-envelope, then runs the form's send (onSealed): the upload takes the
//   envelope, never the text (ui/create_text_upload.py).  When the push is made,
//   `rx.set_value(id, {fields, links})` gives the links; it adds '#<key>' to them and draws the
//   QR code of the whole link here.
import { createElement as h, forwardRef, useEffect, useImperativeHandle, useRef, useState } from "react";
import QRCode from "qrcode";
import { refs } from "$/utils/state";

const AD = new TextEncoder().encode("pwpush-e2e-v1");
const ITERATIONS = 600000;

const toB64u = (bytes) => {
  let text = "";
  const view = new Uint8Array(bytes);
  for (let i = 0; i < view.length; i += 0x8000) text += String.fromCharCode(...view.subarray(i, i + 0x8000));
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};
const fromB64u = (text) => {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const raw = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
};

// The key of the link this page was opened with: in memory only, never in the address bar.
let linkKey = "";
if (typeof window !== "undefined" && /^\/p\/[^/]+/.test(window.location.pathname)) {
  linkKey = window.location.hash.replace(/^#/, "");
  if (window.location.hash || window.location.href.endsWith("#")) {
    window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search);
  }
}

async function aesKey(rawKey, envelope, passphrase) {
  if (!envelope.kdf) return crypto.subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt", "decrypt"]);
  const salt = fromB64u(envelope.salt);
  const typed = await crypto.subtle.importKey("raw", new TextEncoder().encode(passphrase.trim()), "PBKDF2", false, ["deriveBits"]);
  const stretched = new Uint8Array(
    await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: envelope.iter }, typed, 256),
  );
  const material = new Uint8Array(64);
  material.set(rawKey, 0);
  material.set(stretched, 32);
  const hkdf = await crypto.subtle.importKey("raw", material, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt, info: AD }, hkdf, { name: "AES-GCM", length: 256 },
    false, ["encrypt", "decrypt"]);
}

export async function seal(text, passphrase) {
  const rawKey = crypto.getRandomValues(new Uint8Array(32));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const envelope = { v: 1, alg: "A256GCM" };
  if (passphrase.trim()) Object.assign(envelope, { kdf: "PBKDF2-SHA256", iter: ITERATIONS, salt: toB64u(crypto.getRandomValues(new Uint8Array(16))) });
  const key = await aesKey(rawKey, envelope, passphrase);
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: AD }, key, new TextEncoder().encode(text));
  Object.assign(envelope, { iv: toB64u(iv), ct: toB64u(ct) });
  return { envelope: JSON.stringify(envelope), key: toB64u(rawKey) };
}

export async function open(envelopeText, keyText, passphrase) {
  const envelope = JSON.parse(envelopeText);
  const rawKey = fromB64u(keyText);
  if (rawKey.length !== 32) throw new Error("bad key");
  const key = await aesKey(rawKey, envelope, passphrase || "");
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromB64u(envelope.iv), additionalData: AD }, key, fromB64u(envelope.ct));
  return new TextDecoder("utf-8", { fatal: true }).decode(plain);
}

// Wraps the whole app (pwpush_app.py), so this module, and the lines above that take the key
// out of the address bar, run with the app's first script, before the websocket's first event.
export function E2ELinkKey({ children }) {
  return children ?? null;
}

const svgUri = (svg) => "data:image/svg+xml;base64," + btoa(unescape(encodeURIComponent(svg)));

// --- the reveal page --------------------------------------------------------------------------

export const E2EOpener = forwardRef(function E2EOpener({ target, ...props }, ref) {
  // idle | missing (no key in the link) | passphrase (asking) | wrong | failed | open
  const [status, setStatus] = useState("idle");
  const [working, setWorking] = useState(false);
  const envelope = useRef("");
  const field = useRef(null);

  const show = (text) => {
    const box = document.getElementById(target);
    if (box) box.value = text;
  };
  const attempt = async (passphrase) => {
    setWorking(true);
    try {
      show(await open(envelope.current, linkKey, passphrase));
      setStatus("open");
    } catch (e) {
      setStatus(passphrase ? "wrong" : "failed");
    } finally {
      setWorking(false);
    }
  };
  useImperativeHandle(ref, () => ({
    get value() {
      return "";
    },
    set value(text) {
      envelope.current = typeof text === "string" ? text : "";
      show("");
      if (!envelope.current) return setStatus("idle");
      if (!linkKey) return setStatus("missing");
      let parsed = null;
      try {
        parsed = JSON.parse(envelope.current);
      } catch (e) {
        return setStatus("failed");
      }
      if (parsed && parsed.kdf) return setStatus("passphrase");
      attempt("");
    },
  }), []);
  useEffect(() => {
    if ((status === "passphrase" || status === "wrong") && field.current) field.current.focus();
  }, [status]);

  const say = {
    missing: "This link is missing its key (the part after #), so the secret cannot be decrypted. Ask the sender for the whole link.",
    failed: "The secret could not be decrypted: the link's key is wrong or incomplete. Ask the sender for the whole link.",
    wrong: "Wrong passphrase: it did not decrypt. Try again (it is checked here, in your browser; this view is already counted).",
  }[status];
  const asking = status === "passphrase" || status === "wrong";
  return h("div", { ...props, "data-status": status, style: { display: status === "idle" || status === "open" ? "none" : "flex",
    flexDirection: "column", gap: "0.5rem", width: "100%" } },
    asking && h("form", {
      onSubmit: (event) => { event.preventDefault(); attempt(field.current ? field.current.value : ""); },
      style: { display: "flex", flexDirection: "column", gap: "0.5rem" },
    },
      h("label", { htmlFor: "e2e-passphrase", style: { fontWeight: 500, fontSize: "var(--font-size-2)" } }, "Passphrase"),
      h("span", { id: "e2e-passphrase-help", style: { fontSize: "var(--font-size-2)", color: "var(--gray-11)" } },
        "The sender encrypted this secret with a passphrase as well. It is not in the link: if you don't have it, ask the sender for it."),
      h("input", { ref: field, id: "e2e-passphrase", type: "password", autoComplete: "off", "aria-describedby": "e2e-passphrase-help e2e-message",
        style: { padding: "0.5rem", fontSize: "var(--font-size-3)", border: "1px solid var(--gray-a7)", borderRadius: "var(--radius-2)",
          background: "var(--color-surface)", color: "var(--gray-12)" } }),
      h("button", { type: "submit", id: "e2e-decrypt", disabled: working, style: { alignSelf: "flex-start", padding: "0.5rem 1rem",
        borderRadius: "var(--radius-2)", border: "none", background: "var(--accent-9)", color: "var(--accent-contrast)",
        fontSize: "var(--font-size-2)", fontWeight: 500, cursor: "pointer" } }, working ? "Decrypting…" : "Decrypt"),
    ),
    say && h("p", { id: "e2e-message", role: "alert", style: { color: "var(--red-11)", fontSize: "var(--font-size-2)", margin: 0 } }, say),
  );
});

// --- the create page --------------------------------------------------------------------------

export const E2ESealer = forwardRef(function E2ESealer({ form, payload, passphrase, envelopeId, on, onSealed, ...props }, ref) {
  const key = useRef("");
  const busy = useRef(false);
  const sealing = useRef(on);
  sealing.current = on;
  // The form's own send (the upload), called once the envelope is ready; it reads the
  // envelope, never the text, while the switch is on (ui/create_text_upload.py).
  const sendRef = useRef(onSealed);
  sendRef.current = onSealed;
  const [error, setError] = useState("");
  useEffect(() => {
    // On the document, in the capture phase: before the form (whichever element React has
    // for it now) and before React's own listener, which sends the form.
    const hold = (event) => {
      const element = event.target;
      if (!sealing.current || !element || element.id !== form) return;
      event.preventDefault();
      event.stopPropagation();
      if (busy.current) return; // a second click while encrypting: one push, one key
      const out = document.getElementById(envelopeId);
      const text = document.getElementById(payload)?.value ?? "";
      if (out) out.value = "";
      const send = () => sendRef.current && sendRef.current();
      if (!text.trim()) return send(); // the server says "Enter the secret to share."
      setError("");
      busy.current = true;
      seal(text, document.getElementById(passphrase)?.value ?? "").then(
        (made) => {
          busy.current = false;
          key.current = made.key;
          if (out) out.value = made.envelope;
          send();
        },
        () => {
          busy.current = false;
          setError("Your browser could not encrypt the secret (it needs https or localhost, and a current browser). Turn off \u201cEncrypt in my browser\u201d or try another browser.");
        },
      );
    };
    document.addEventListener("submit", hold, true);
    return () => document.removeEventListener("submit", hold, true);
  }, [form, payload, passphrase, envelopeId]);
  useImperativeHandle(ref, () => ({
    get value() {
      return "";
    },
    set value(text) {
      let made;
      try {
        made = JSON.parse(text);
      } catch (e) {
        return;
      }
      const out = document.getElementById(envelopeId);
      if (out) out.value = "";
      if (!made || !key.current) return;
      const whole = (value) => (made.links || []).reduce((t, link) => t.split(link).join(link + "#" + key.current), value);
      for (const [id, value] of Object.entries(made.fields || {})) {
        const element = document.getElementById(id);
        if (element) element.value = whole(value);
      }
      if (made.qr && made.fields && made.fields[made.qr.from]) {
        QRCode.toString(whole(made.fields[made.qr.from]), { type: "svg", errorCorrectionLevel: "M", margin: 1 }).then((svg) => {
          const image = refs["ref_" + made.qr.to.replace(/[^a-zA-Z0-9_]/g, "_")];
          if (image && image.current) image.current.value = svgUri(svg);
        });
      }
      key.current = "";
    },
  }), [envelopeId]);
  return h("p", { ...props, role: "alert", hidden: !error, style: { color: "var(--red-11)", fontSize: "var(--font-size-2)", margin: 0 } }, error);
});
