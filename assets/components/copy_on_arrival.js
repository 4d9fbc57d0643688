// A link that arrives as an event result (`rx.set_value(id, link)`) and goes straight to the
// clipboard: the dashboard's "Copy link" fetches the secret link from the server and copies it
// in one click, so the link never sits in a state var and the clipboard never keeps an older
// item. When the browser refuses the clipboard (Safari wants the copy inside the click itself),
// the link is shown here, selected, for the person to copy by hand.
import { createElement as h, forwardRef, useEffect, useImperativeHandle, useRef, useState } from "react";
import { toast } from "sonner";
import { refs } from "$/utils/state";

async function writeClipboard(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain http on another host than localhost: no Clipboard API, the old way may still work.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  const done = document.execCommand("copy");
  area.remove();
  if (!done) throw new Error("copy refused");
}

// Reflex gives refs only to literal ids; one per row (an id built from a Var) registers itself
// under the name `rx.set_value(id, ...)` looks for.
function refName(id) {
  return "ref_" + String(id).replace(/[^a-zA-Z0-9_]/g, "_");
}

export const CopyOnArrival = forwardRef(function CopyOnArrival(props, ref) {
  // Only set when the clipboard refused: the link, shown for copying by hand.
  const [shown, setShown] = useState("");
  const field = useRef(null);
  const own = useRef(null);
  useEffect(() => {
    const name = refName(props.id);
    refs[name] = own;
    return () => {
      if (refs[name] === own) delete refs[name];
    };
  }, [props.id]);
  useImperativeHandle(
    own,
    () => ({
      get value() {
        return shown;
      },
      set value(text) {
        if (typeof text !== "string" || !text) {
          setShown("");
          return;
        }
        writeClipboard(text).then(
          () => {
            setShown("");
            toast(props.copied || "Copied to the clipboard", { duration: 2000 });
          },
          () => setShown(text),
        );
      },
    }),
    [shown],
  );
  useEffect(() => {
    if (shown && field.current) {
      field.current.focus();
      field.current.select();
    }
  }, [shown]);
  const { id, label, className, style } = props;
  if (!shown) return h("span", { id, hidden: true });
  return h(
    "label",
    { id, className, style: { display: "flex", flexDirection: "column", gap: "0.25rem", width: "100%", ...style } },
    h("span", { style: { fontSize: "var(--font-size-1)" } }, label),
    h("input", {
      ref: field,
      readOnly: true,
      value: shown,
      onFocus: (event) => event.target.select(),
      style: {
        width: "100%", minWidth: 0, padding: "0.4rem", fontFamily: "var(--code-font-family)",
        border: "1px solid var(--gray-a7)", borderRadius: "var(--radius-2)",
        background: "var(--color-surface)", color: "var(--gray-12)",
      },
    }),
  );
});
