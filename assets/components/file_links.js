// The revealed files of a file push, set like a field's value by `rx.set_value(id, json)`:
// names and download links (which carry the grant) reach the page as an event result and
// never sit in state. The value is JSON: {files: [{name, size, href}], all: href-or-""}
// (a bare list is read as files without "all"); only same-site download paths (/d/...) are
// accepted.
//
// A download first asks the server (HEAD, which never uses up a once-only download) whether
// the file is still there: if not, the server's own message is shown beside the file (it
// comes in the X-Error header); if so, the browser downloads it and the file is marked
// "Download started", so a second click is a choice, not a surprise.
import { createElement as h, forwardRef, useImperativeHandle, useState } from "react";

// The texts in the visitor's language (the `words` prop, {name}/{count}/{status} in them); English without.
const ENGLISH = {
  checking: "Checking…",
  unreachable: "The server could not be reached. Check your connection and try again.",
  failed: "The download failed (error {status}). Try again in a moment.",
  started: "Download started",
  again: "Download again",
  download: "Download",
  downloadNamed: "Download {name}",
  allFiles: "All {count} files",
  oneZip: "one zip",
  downloadAll: "Download all (zip)",
};

function sayer(words) {
  return (key, values = {}) =>
    Object.entries(values).reduce((text, [name, value]) => text.replaceAll("{" + name + "}", String(value)),
      (words && words[key]) || ENGLISH[key]);
}

const SAFE_HREF = /^\/d\/[A-Za-z0-9_-]+\/\d+$/;
const SAFE_ALL = /^\/d\/[A-Za-z0-9_-]+\/all\.zip$/;

function parse(text) {
  try {
    const value = JSON.parse(text);
    const items = Array.isArray(value) ? value : value && Array.isArray(value.files) ? value.files : [];
    const all = value && !Array.isArray(value) && typeof value.all === "string" && SAFE_ALL.test(value.all) ? value.all : "";
    const files = items.filter(
      (f) => f && typeof f.name === "string" && typeof f.size === "string" && typeof f.href === "string" && SAFE_HREF.test(f.href),
    );
    return { files, all };
  } catch (e) {
    return { files: [], all: "" };
  }
}

async function download(href, name, setState, say) {
  setState({ kind: "busy", text: say("checking") });
  let answer;
  try {
    answer = await fetch(href, { method: "HEAD", cache: "no-store", credentials: "same-origin" });
  } catch (e) {
    setState({ kind: "error", text: say("unreachable") });
    return;
  }
  if (!answer.ok) {
    const said = answer.headers.get("X-Error");
    setState({ kind: "error", text: said || say("failed", { status: answer.status }) });
    return;
  }
  const link = document.createElement("a");
  link.href = href;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setState({ kind: "done", text: say("started") });
}

const BUTTON = "rt-reset rt-BaseButton rt-r-size-2 rt-Button";

function Row({ file, index, say }) {
  const [state, setState] = useState({ kind: "", text: "" });
  return h(
    "li",
    { "data-state": state.kind || "ready" },
    h("span", { className: "file-links-name" }, file.name),
    h("span", { className: "file-links-size" }, file.size),
    h(
      "a",
      {
        href: file.href,
        download: file.name,
        className: `file-links-download ${BUTTON} ${state.kind === "done" ? "rt-variant-soft" : "rt-variant-solid"}`,
        "aria-label": say("downloadNamed", { name: file.name }),
        "aria-describedby": `file-state-${index}`,
        "data-index": index,
        onClick: (event) => {
          event.preventDefault();
          if (state.kind !== "busy") download(file.href, file.name, setState, say);
        },
      },
      state.kind === "done" ? say("again") : say("download"),
    ),
    h(
      "span",
      { id: `file-state-${index}`, className: "file-links-state", role: state.kind === "error" ? "alert" : "status" },
      state.text,
    ),
  );
}

function All({ href, count, say }) {
  const [state, setState] = useState({ kind: "", text: "" });
  return h(
    "div",
    { className: "file-links-all", "data-state": state.kind || "ready" },
    h("span", { className: "file-links-name" }, say("allFiles", { count })),
    h("span", { className: "file-links-size" }, say("oneZip")),
    h(
      "a",
      {
        href,
        download: "files.zip",
        className: `file-links-download ${BUTTON} rt-variant-soft`,
        "aria-describedby": "file-state-all",
        onClick: (event) => {
          event.preventDefault();
          if (state.kind !== "busy") download(href, "files.zip", setState, say);
        },
      },
      say("downloadAll"),
    ),
    h("span", { id: "file-state-all", className: "file-links-state", role: state.kind === "error" ? "alert" : "status" }, state.text),
  );
}

export const FileLinks = forwardRef(function FileLinks(props, ref) {
  const [text, setText] = useState("");
  useImperativeHandle(
    ref,
    () => ({
      get value() {
        return text;
      },
      set value(next) {
        setText(typeof next === "string" ? next : "");
      },
    }),
    [text],
  );
  const { files, all } = parse(text);
  const { id, label, className, words } = props;
  const say = sayer(words);
  return h(
    "div",
    { id, className: ["file-links", className].filter(Boolean).join(" ") },
    h(
      "ul",
      { "aria-label": label },
      // A new value (another reveal) starts every row afresh.
      files.map((file, index) => h(Row, { key: `${text.length}:${file.href}`, file, index, say })),
    ),
    all && files.length > 1 ? h(All, { key: `${text.length}:all`, href: all, count: files.length, say }) : null,
  );
});
