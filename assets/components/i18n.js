// The page's language at run time (ui/i18n.py): one build serves every visitor, so the
// document's lang/dir and every date are set here, in the visitor's browser.
import { useEffect } from "react";

// Sets <html lang dir> to the visitor's language: screen readers pick their voice from it,
// and dir="rtl" lays Arabic and Urdu out right to left (flex rows, text alignment, inputs).
export function DocumentLanguage({ lang, dir }) {
  useEffect(() => {
    const root = document.documentElement;
    root.lang = lang || "en";
    root.dir = dir || "ltr";
  }, [lang, dir]);
  return null;
}

// A moment (ISO 8601 with its offset) in the viewer's time zone and their language's format:
// "2 Dec 2026, 12:30 CET", "2026年12月2日 20:30 JST".
export function localTime(iso, lang) {
  if (!iso) return "";
  try {
    return new Intl.DateTimeFormat(lang || "en", {
      day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    }).format(new Date(iso));
  } catch (error) {
    return iso;
  }
}

// How far off a moment is, in words of the viewer's language: "in 3 days", "dans 5 heures".
export function timeFromNow(iso, lang) {
  if (!iso) return "";
  const seconds = (new Date(iso).getTime() - Date.now()) / 1000;
  const steps = [[86400, "day"], [3600, "hour"], [60, "minute"]];
  try {
    const words = new Intl.RelativeTimeFormat(lang || "en", { numeric: "auto" });
    for (const [size, unit] of steps) {
      if (Math.abs(seconds) >= size) return words.format(Math.round(seconds / size), unit);
    }
    return words.format(Math.round(seconds / 60), "minute");
  } catch (error) {
    return "";
  }
}

// A refusal the server sent as sentences ({text: English template, values}), in the visitor's
// language: "{count}" as a number, "{pause_minutes}" or "{wait_seconds}" as a duration ("10 minutes", "10 Minuten"),
// "{longest_span}" (minutes) in its largest whole unit ("90 days", "90 Tage"), "{limit_count}" grouped ("1,024"),
// "{time}" (an ISO moment) in the viewer's zone and format.
export function sentences(strings, parts, lang) {
  return (parts || []).map(({ text, values }) => {
    let shown = strings && Object.hasOwn(strings, text) ? strings[text] : text;
    for (const [name, value] of Object.entries(values || {})) {
      let unit = name.endsWith("_minutes") ? "minute" : name.endsWith("_seconds") ? "second" : null;
      let amount = value;
      if (name.endsWith("_span")) {  // minutes in their largest whole unit: "7 days", "7 jours"
        const [size, largest] = [[1440, "day"], [60, "hour"], [1, "minute"]].find(([size]) => value && value % size === 0) || [1, "minute"];
        [amount, unit] = [value / size, largest];
      }
      const word = unit
        ? new Intl.NumberFormat(lang || "en", { style: "unit", unit, unitDisplay: "long" }).format(amount)
        : name.endsWith("_count") ? new Intl.NumberFormat(lang || "en").format(value)
        : name === "time" ? localTime(value, lang)
        : name.endsWith("_said") && strings && Object.hasOwn(strings, value) ? strings[value]  // a catalogue entry
        : String(value);
      shown = shown.replaceAll("{" + name + "}", word);
    }
    return shown;
  }).join(" ");
}
