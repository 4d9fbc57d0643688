// An <img> whose picture is set like a field's value, by `rx.set_value(id, data_uri)`:
// a server event can show an image without putting it in state. Only SVG data URIs.
import { createElement, forwardRef, useImperativeHandle, useRef } from "react";

const ALLOWED = "data:image/svg+xml;base64,";

export const ValueImage = forwardRef(function ValueImage(props, ref) {
  const image = useRef(null);
  useImperativeHandle(
    ref,
    () => ({
      get value() {
        return image.current ? image.current.getAttribute("src") || "" : "";
      },
      set value(source) {
        if (!image.current) return;
        if (typeof source === "string" && source.startsWith(ALLOWED)) image.current.src = source;
        else image.current.removeAttribute("src");
      },
    }),
    [],
  );
  return createElement("img", { ...props, ref: image });
});
