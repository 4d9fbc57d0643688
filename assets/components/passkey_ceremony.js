// Passkeys' browser part, started like a field is filled: `rx.set_value(id, json)` with
// {mode: "create" | "get", options: <the server's WebAuthn options>, action: <form URL>}.
// (The page's CSP allows no eval, so rx.call_script cannot carry it.)  It runs
// navigator.credentials.create() or .get() and calls onResult with
// - create: {credential: <the credential's JSON>, name: <the name typed in #passkey-name>};
// - get: {posted: true}, after posting {credential, remember} as a plain form to `action`
//   (only an HTTP answer can set the HttpOnly session cookie);
// - or {error: "unsupported" | "cancelled" | "exists" | "insecure" | "failed", detail}.
// Binary fields travel as base64url, as the server's JSON has them.
import { createElement, forwardRef, useImperativeHandle, useRef } from "react";

const fromB64u = (s) =>
  Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));
const toB64u = (b) =>
  btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const withIds = (list) => (list || []).map((c) => ({ ...c, id: fromB64u(c.id) }));

function errorName(e) {
  const name = (e && e.name) || "";
  if (name === "NotAllowedError" || name === "AbortError") return "cancelled";
  if (name === "InvalidStateError") return "exists";
  if (name === "SecurityError") return "insecure";
  if (name === "NotSupportedError") return "unsupported";
  return "failed";
}

function post(action, fields) {
  const form = document.createElement("form");
  form.method = "post";
  form.action = action;
  form.hidden = true;
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}

async function ceremony({ mode, options, action }) {
  if (!window.PublicKeyCredential || !navigator.credentials) return { error: "unsupported" };
  try {
    let cred;
    if (mode === "create") {
      cred = await navigator.credentials.create({
        publicKey: { ...options, challenge: fromB64u(options.challenge), user: { ...options.user, id: fromB64u(options.user.id) },
          excludeCredentials: withIds(options.excludeCredentials) },
      });
    } else {
      cred = await navigator.credentials.get({
        publicKey: { ...options, challenge: fromB64u(options.challenge), allowCredentials: withIds(options.allowCredentials) },
      });
    }
    const r = cred.response;
    const json = { id: cred.id, rawId: toB64u(cred.rawId), type: cred.type, clientExtensionResults: {},
      response: { clientDataJSON: toB64u(r.clientDataJSON) } };
    if (cred.authenticatorAttachment) json.authenticatorAttachment = cred.authenticatorAttachment;
    if (mode === "create") {
      json.response.attestationObject = toB64u(r.attestationObject);
      json.response.transports = r.getTransports ? r.getTransports() : [];
      const named = document.getElementById("passkey-name");
      return { credential: JSON.stringify(json), name: named ? named.value : "" };
    }
    json.response.authenticatorData = toB64u(r.authenticatorData);
    json.response.signature = toB64u(r.signature);
    if (r.userHandle) json.response.userHandle = toB64u(r.userHandle);
    const remember = document.getElementById("remember");
    post(action, { credential: JSON.stringify(json), remember: remember && remember.checked ? "1" : "" });
    return { posted: true };
  } catch (e) {
    return { error: errorName(e), detail: String((e && e.name) || e) };
  }
}

export const PasskeyCeremony = forwardRef(function PasskeyCeremony({ onResult, ...props }, ref) {
  const span = useRef(null);
  useImperativeHandle(
    ref,
    () => ({
      get value() {
        return "";
      },
      set value(text) {
        let request;
        try {
          request = JSON.parse(text);
        } catch (e) {
          return;
        }
        if (!request || !request.options) return;
        ceremony(request).then((result) => onResult && onResult(result));
      },
    }),
    [onResult],
  );
  return createElement("span", { ...props, ref: span, hidden: true });
});
