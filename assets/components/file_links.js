// The revealed files of a file push, set like a field's value by `rx.set_value(id, json)`:
// names and download links (which carry the grant) reach the page as an event result and
// never sit in state. The value is a JSON list of {name, size, href}; only same-site
// download paths (/d/...) are accepted.
import { createElement as h, forwardRef, useImperativeHandle, useState } from "react";

const SAFE_HREF = /^\/d\/[A-Za-z0-9_-]+\/\d+$/;

function parse(text) {
  try {
    const items = JSON.parse(text);
    if (!Array.isArray(items)) return [];
    return items.filter(
      (f) => f && typeof f.name === "string" && typeof f.size === "string" && typeof f.href === "string" && SAFE_HREF.test(f.href),
    );
  } catch (e) {
    return [];
  }
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
  const files = parse(text);
  const { id, label, className } = props;
  return h(
    "ul",
    { id, "aria-label": label, className: ["file-links", className].filter(Boolean).join(" ") },
    files.map((file, index) =>
      h(
        "li",
        { key: file.href },
        h("span", { className: "file-links-name" }, file.name),
        h("span", { className: "file-links-size" }, file.size),
        h(
          "a",
          {
            href: file.href,
            download: file.name,
            className: "file-links-download rt-reset rt-BaseButton rt-r-size-2 rt-variant-solid rt-Button",
            "aria-label": `Download ${file.name}`,
            "data-index": index,
          },
          "Download",
        ),
      ),
    ),
  );
});
