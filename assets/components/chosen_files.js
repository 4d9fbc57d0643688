// The files chosen for a file push, before they are sent: each with its size and a button
// to take it off the list, the total, and a word when the total is over the limit. It reads
// and changes the upload zone's own list (Reflex's UploadFilesContext), so what is listed
// is exactly what the upload button sends. Nothing here leaves the browser.
import { createElement as h, useContext } from "react";
import { UploadFilesContext } from "$/utils/context";

export function describeBytes(n, lang = document.documentElement.lang) {
  // Whole MiB exactly (the limit), others rounded up: 4 MiB + 2 KiB is never "4 MiB".
  if (lang && lang !== "en") {
    const [scaled, unit] = n >= 1048576 ? [n % 1048576 === 0 ? n / 1048576 : Math.ceil(n / 10485.76) / 100, "megabyte"]
      : n >= 1024 ? [Math.ceil(n / 1024), "kilobyte"] : [n, "byte"];
    try {
      return new Intl.NumberFormat(lang, { style: "unit", unit, unitDisplay: unit === "byte" ? "long" : "short",
        maximumFractionDigits: 2 }).format(scaled);
    } catch (error) { /* an unknown language: English below */ }
  }
  if (n >= 1048576) return (n % 1048576 === 0 ? n / 1048576 : (Math.ceil(n / 10485.76) / 100).toFixed(2)) + " MiB";
  if (n >= 1024) return Math.ceil(n / 1024) + " KiB";
  return n + (n === 1 ? " byte" : " bytes");
}

// `words`: the page's own texts in the visitor's language ({remove, removeNamed, total, tooBig},
// with {name} and {size} in them); English without.
const ENGLISH = {
  remove: "Remove",
  removeNamed: "Remove {name}",
  total: "Total: {size}",
  tooBig: "These files add up to more than {size}: choose fewer or smaller files.",
};

export function ChosenFiles({ uploadId, limit, words }) {
  const say = (key, values = {}) =>
    Object.entries(values).reduce((text, [name, value]) => text.replaceAll("{" + name + "}", value), (words && words[key]) || ENGLISH[key]);
  const [filesById, setFilesById] = useContext(UploadFilesContext);
  const files = filesById[uploadId] ?? [];
  if (files.length === 0) return null;
  const total = files.reduce((sum, file) => sum + file.size, 0);
  const remove = (index) =>
    setFilesById((current) => ({ ...current, [uploadId]: (current[uploadId] ?? []).filter((_, i) => i !== index) }));
  return h(
    "div",
    { className: "chosen-files", style: { display: "flex", flexDirection: "column", gap: "0.25rem", width: "100%" } },
    h(
      "ul",
      { id: "chosen-files", style: { margin: 0, padding: 0, listStyle: "none", display: "flex", flexDirection: "column", gap: "0.25rem" } },
      files.map((file, index) =>
        h(
          "li",
          {
            key: `${index}:${file.name}:${file.size}`,
            style: { display: "flex", alignItems: "center", gap: "0.5rem", overflowWrap: "anywhere", fontSize: "var(--font-size-2)" },
          },
          h("span", { style: { flex: "1 1 auto", minWidth: 0 } }, file.name),
          h("span", { className: "chosen-size", style: { color: "var(--gray-11)", fontSize: "var(--font-size-1)", whiteSpace: "nowrap" } },
            describeBytes(file.size)),
          h(
            "button",
            {
              type: "button",
              className: "rt-reset rt-BaseButton rt-r-size-1 rt-variant-ghost rt-Button chosen-remove",
              "data-accent-color": "gray",
              "aria-label": say("removeNamed", { name: file.name }),
              title: say("remove"),
              onClick: () => remove(index),
            },
            say("remove"),
          ),
        ),
      ),
    ),
    h("span", { id: "chosen-total", style: { color: "var(--gray-11)", fontSize: "var(--font-size-1)" } }, say("total", { size: describeBytes(total) })),
    total > limit
      ? h(
          "span",
          { id: "files-too-big", role: "alert", style: { color: "var(--red-11)", fontSize: "var(--font-size-2)" } },
          say("tooBig", { size: describeBytes(limit) }),
        )
      : null,
  );
}
