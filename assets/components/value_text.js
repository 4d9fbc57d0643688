// A <p> whose text is set like a field's value, by `rx.set_value(id, text)`: a server event
// can put a secret link on the page (to read or print) without it ever sitting in state.
// Text only: it is never parsed as HTML.
import { createElement, forwardRef, useImperativeHandle, useRef } from "react";

export const ValueText = forwardRef(function ValueText(props, ref) {
  const element = useRef(null);
  useImperativeHandle(
    ref,
    () => ({
      get value() {
        return element.current ? element.current.textContent || "" : "";
      },
      set value(text) {
        if (element.current) element.current.textContent = typeof text === "string" ? text : "";
      },
    }),
    [],
  );
  return createElement("p", { ...props, ref: element });
});
