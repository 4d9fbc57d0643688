// End-to-end pushes' browser part (issue 20; the formats are pwpush_app/core/e2e.py's and
// core/e2e_files.py's, docs/api.md).  The page's CSP allows no eval, so this is a module of
// the bundle; its primitives are in e2e_core.js, the file format in e2e_files.js.
//
// - E2ELinkKey wraps the app, so e2e_core.js loads with the app's first script and takes the
//   key out of a link's address before the websocket's first event (which carries the URL).
// - E2EKeyGate (the reveal page): for an end-to-end push opened without its key (the link cut
//   at '#', or a reload, which no longer has it), Reveal is disabled, or the reveal on load held,
//   before any view is spent, and the page says what to do.
// - E2EOpener (the reveal page): `rx.set_value(id, envelope)` after the usual reveal; it
//   decrypts here (asking for the passphrase when the envelope or the files need one) and puts
//   the text into the page's secret field.  The server never sees the key or the passphrase.
// - E2ESealer (the create page): while its switch is on, it holds the form's submit (text) or
//   the files' button, encrypts the secret into the hidden #e2e-envelope (and each chosen file,
//   its name included, for sealedFiles()), then runs the form's send: the upload takes only
//   ciphertext (ui/create_text_upload.py, ui/create_files.py).  When the push is made,
//   `rx.set_value(id, {fields, links})` gives the links; it adds '#<key>' to them and draws the
//   QR code of the whole link here.
import { Children, createElement as h, forwardRef, useContext, useEffect, useImperativeHandle, useRef, useState } from "react";
import { refs } from "$/utils/state";
import { UploadFilesContext } from "$/utils/context";
import {
  getLinkKey, givePassphrase, newPushKey, onLinkKey, onPassphraseWanted, open, passphraseWanted, sealText,
} from "$/public/components/e2e_core.js";
import { sealFile } from "$/public/components/e2e_files.js";
import { describeBytes } from "$/public/components/chosen_files.js";

export { open, seal } from "$/public/components/e2e_core.js";

// Wraps the whole app (pwpush_app.py), so e2e_core.js, which takes the key out of the address
// bar, runs with the app's first script, before the websocket's first event.
export function E2ELinkKey({ children }) {
  return children ?? null;
}

const svgUri = (svg) => "data:image/svg+xml;base64," + btoa(unescape(encodeURIComponent(svg)));

// --- the reveal page --------------------------------------------------------------------------

// `children`: what needs the key (with `hold`, then what to show instead: the reveal on load
// never mounts); `message`: what to say (ui/components/e2e.py).
export function E2EKeyGate({ on, hold, message, children }) {
  const [key, setKey] = useState(getLinkKey());
  useEffect(() => onLinkKey(() => setKey(getLinkKey())), []);
  const [present, missing] = Children.toArray(children);
  if (!on || key) return present ?? null;
  if (hold) return missing ?? null;
  const say = h("p", { id: "e2e-missing-key", role: "alert", style: { color: "var(--red-11)", fontSize: "var(--font-size-2)",
    fontWeight: 500, margin: 0 } }, message);
  return h("div", { style: { display: "flex", flexDirection: "column", gap: "0.75rem", width: "100%" } }, say,
    h("fieldset", { disabled: true, "aria-disabled": "true", style: { border: 0, padding: 0, margin: 0, minWidth: 0,
      opacity: 0.5, filter: "grayscale(1)", cursor: "not-allowed" } }, present));
}

// The opener's texts; `words` (the page's own, in the visitor's language) replaces them.
const OPENER_ENGLISH = {
  wrong: "Wrong passphrase: it did not decrypt. Try again (it is checked here, in your browser; this view is already counted).",
  missing: "This link is missing its key (the part after #), so the secret cannot be decrypted. Ask the sender for the whole link.",
  failed: "The secret could not be decrypted: the link's key is wrong or incomplete. Ask the sender for the whole link.",
  passphrase: "Passphrase",
  help: "The sender encrypted this secret with a passphrase as well. It is not in the link: if you don't have it, ask the sender for it.",
  decrypt: "Decrypt",
  decrypting: "Decrypting…",
};

export const E2EOpener = forwardRef(function E2EOpener({ target, words, ...props }, ref) {
  const word = (key) => (words && words[key]) || OPENER_ENGLISH[key];
  // idle | missing (no key in the link) | passphrase (asking) | wrong | failed | open
  const [status, setStatus] = useState("idle");
  const [working, setWorking] = useState(false);
  // The files (e2e_files.js) may want the passphrase too, with or without a message.
  const [files, setFiles] = useState(passphraseWanted());
  useEffect(() => onPassphraseWanted(() => setFiles(passphraseWanted())), []);
  const envelope = useRef("");
  const field = useRef(null);

  const show = (text) => {
    const box = document.getElementById(target);
    if (box) box.value = text;
  };
  const attempt = async (passphrase) => {
    setWorking(true);
    try {
      show(await open(envelope.current, getLinkKey(), passphrase));
      setStatus("open");
      if (passphrase) givePassphrase(passphrase);
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
      if (!getLinkKey()) return setStatus("missing");
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
  const messageAsks = status === "passphrase" || status === "wrong";
  const asking = messageAsks || files.asking;
  useEffect(() => {
    if (asking && field.current) field.current.focus();
  }, [asking, status]);

  const say = status === "wrong" || (!messageAsks && files.asking && files.wrong)
    ? word("wrong")
    : { missing: word("missing"), failed: word("failed") }[status];
  const submit = (event) => {
    event.preventDefault();
    const typed = field.current ? field.current.value : "";
    if (messageAsks) attempt(typed);
    else givePassphrase(typed); // the files check it, and ask again if it is wrong
  };
  return h("div", { ...props, "data-status": status, style: { display: asking || say ? "flex" : "none",
    flexDirection: "column", gap: "0.5rem", width: "100%" } },
    asking && h("form", { onSubmit: submit, style: { display: "flex", flexDirection: "column", gap: "0.5rem" } },
      h("label", { htmlFor: "e2e-passphrase", style: { fontWeight: 500, fontSize: "var(--font-size-2)" } }, word("passphrase")),
      h("span", { id: "e2e-passphrase-help", style: { fontSize: "var(--font-size-2)", color: "var(--gray-11)" } },
        word("help")),
      h("input", { ref: field, id: "e2e-passphrase", type: "password", autoComplete: "off", "aria-describedby": "e2e-passphrase-help e2e-message",
        style: { padding: "0.5rem", fontSize: "var(--font-size-3)", border: "1px solid var(--gray-a7)", borderRadius: "var(--radius-2)",
          background: "var(--color-surface)", color: "var(--gray-12)" } }),
      h("button", { type: "submit", id: "e2e-decrypt", disabled: working, style: { alignSelf: "flex-start", padding: "0.5rem 1rem",
        borderRadius: "var(--radius-2)", border: "none", background: "var(--accent-9)", color: "var(--accent-contrast)",
        fontSize: "var(--font-size-2)", fontWeight: 500, cursor: "pointer" } }, working ? word("decrypting") : word("decrypt")),
    ),
    say && h("p", { id: "e2e-message", role: "alert", style: { color: "var(--red-11)", fontSize: "var(--font-size-2)", margin: 0 } }, say),
  );
});

// --- the create page --------------------------------------------------------------------------

// The chosen files, encrypted, for the files' upload (ui/create_files.py reads them at the send).
let sealed = [];
export const sealedFiles = () => sealed;

const CANNOT_ENCRYPT = "Your browser could not encrypt the secret (it needs https or localhost, and a current browser). "
  + "Turn off \u201cEncrypt in my browser\u201d or try another browser.";

// The sealer's texts; `words` (the page's own, in the visitor's language) replaces them.
const SEALER_ENGLISH = {
  cannotEncrypt: CANNOT_ENCRYPT,
  empty: "{name} is empty: choose a file with something in it.",
  encrypting: "Encrypting {name} ({position} of {count})…",
  tooBig: "Encrypted, these files come to {size}, over the {limit} limit (encryption adds about 1 KiB per file): "
    + "choose fewer or smaller files.",
};

export const E2ESealer = forwardRef(function E2ESealer({ form, payload, passphrase, envelopeId, on, onSealed, filesOn, uploadId,
  filesButton, filesLimit, onFilesSealed, words, ...props }, ref) {
  const say = (key, values = {}) => Object.entries(values).reduce(
    (text, [name, value]) => text.replaceAll("{" + name + "}", String(value)), (words && words[key]) || SEALER_ENGLISH[key]);
  const key = useRef("");
  const busy = useRef(false);
  const sealing = useRef(on);
  sealing.current = on;
  const sealingFiles = useRef(filesOn);
  sealingFiles.current = filesOn;
  // The form's own sends (the uploads), called once the envelope (and the files) are ready;
  // they read those, never the text or the files, while the switch is on.
  const sendRef = useRef(onSealed);
  sendRef.current = onSealed;
  const sendFilesRef = useRef(onFilesSealed);
  sendFilesRef.current = onFilesSealed;
  const limit = useRef(filesLimit);
  limit.current = filesLimit;
  const [filesById] = useContext(UploadFilesContext);
  const chosen = useRef([]);
  chosen.current = (filesById && filesById[uploadId]) || [];
  const [error, setError] = useState("");
  const [note, setNote] = useState("");
  useEffect(() => {
    const out = () => document.getElementById(envelopeId);
    // On the document, in the capture phase: before the form (whichever element React has
    // for it now) and before React's own listeners, which send it.
    const holdText = (event) => {
      const element = event.target;
      if (!sealing.current || !element || element.id !== form) return;
      event.preventDefault();
      event.stopPropagation();
      if (busy.current) return; // a second click while encrypting: one push, one key
      const text = document.getElementById(payload)?.value ?? "";
      if (out()) out().value = "";
      const send = () => sendRef.current && sendRef.current();
      if (!text.trim()) return send(); // the server says "Enter the secret to share."
      setError("");
      busy.current = true;
      newPushKey(document.getElementById(passphrase)?.value ?? "")
        .then(async (pushKey) => {
          const envelope = await sealText(pushKey, text);
          key.current = pushKey.fragment;
          if (out()) out().value = envelope;
          busy.current = false;
          send();
        })
        .catch(() => {
          busy.current = false;
          setError(say("cannotEncrypt"));
        });
    };
    const holdFiles = (event) => {
      const button = event.target && event.target.closest ? event.target.closest(`#${filesButton}`) : null;
      if (!sealingFiles.current || !button) return;
      event.preventDefault();
      event.stopPropagation();
      if (busy.current) return;
      const files = chosen.current;
      const send = () => sendFilesRef.current && sendFilesRef.current();
      sealed = [];
      if (out()) out().value = "";
      const empty = files.find((file) => file.size === 0);
      if (empty) return setError(say("empty", { name: empty.name }));
      if (!files.length) return send(); // the server says "Attach at least one file."
      setError("");
      busy.current = true;
      const message = document.getElementById(payload)?.value ?? "";
      newPushKey(document.getElementById(passphrase)?.value ?? "")
        .then(async (pushKey) => {
          const envelope = message ? await sealText(pushKey, message) : "";
          const made = [];
          for (const [position, file] of files.entries()) {
            setNote(say("encrypting", { name: file.name, position: position + 1, count: files.length }));
            made.push(await sealFile(file, position, pushKey));
          }
          busy.current = false;
          setNote("");
          const total = made.reduce((sum, file) => sum + file.size, 0);
          if (limit.current && total > limit.current) {
            // The limit counts what is stored: the encrypted files, a little larger (docs/api.md).
            return setError(say("tooBig", { size: describeBytes(total), limit: describeBytes(limit.current) }));
          }
          sealed = made;
          key.current = pushKey.fragment;
          if (out()) out().value = envelope;
          send();
        })
        .catch(() => {
          busy.current = false;
          setNote("");
          setError(say("cannotEncrypt"));
        });
    };
    document.addEventListener("submit", holdText, true);
    document.addEventListener("click", holdFiles, true);
    return () => {
      document.removeEventListener("submit", holdText, true);
      document.removeEventListener("click", holdFiles, true);
    };
  }, [form, payload, passphrase, envelopeId, filesButton]);
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
      sealed = [];
      if (!made || !key.current) return;
      const whole = (value) => (made.links || []).reduce((t, link) => t.split(link).join(link + "#" + key.current), value);
      for (const [id, value] of Object.entries(made.fields || {})) {
        const element = document.getElementById(id);
        if (element) element.value = whole(value);
      }
      if (made.qr && made.fields && made.fields[made.qr.from]) {
        // The whole link now: the key is cleared below, before the library has arrived.
        const link = whole(made.fields[made.qr.from]);
        // qrcode is fetched here, when a QR code is drawn: not with every page that loads this module.
        import("qrcode").then(({ default: QRCode }) =>
          QRCode.toString(link, { type: "svg", errorCorrectionLevel: "M", margin: 1 })
        ).then((svg) => {
          const image = refs["ref_" + made.qr.to.replace(/[^a-zA-Z0-9_]/g, "_")];
          if (image && image.current) image.current.value = svgUri(svg);
        });
      }
      key.current = "";
    },
  }), [envelopeId]);
  return h("p", { ...props, role: error ? "alert" : "status", hidden: !error && !note,
    style: { color: error ? "var(--red-11)" : "var(--gray-11)", fontSize: "var(--font-size-2)", margin: 0 } }, error || note);
});
