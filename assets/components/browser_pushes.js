// The pushes this browser created (My pushes): kept in its localStorage only, as a JSON
// list of {manage_token, name, created, expires}, oldest first. Only this script reads and
// writes it; the server never holds the list in a state var (with several workers that
// state sits in Redis, and a manage token lets its holder read the audit log and expire
// the push). The create page hands a new entry over like a field's value
// (`rx.set_value("remember-push", json)` on RememberPush); the dashboard sends the tokens
// as an event argument when the user asks to move them into the account.
import { createElement as h, forwardRef, useImperativeHandle, useSyncExternalStore } from "react";

const KEY = "pwpush.my_pushes";
const MAX_REMEMBERED = 200;
const TOKEN = /^[A-Za-z0-9_-]{16,64}$/;
const FIELDS = ["manage_token", "name", "created", "expires", "kind"];
const NONE = [];

function clean(entry) {
  if (!entry || typeof entry !== "object" || typeof entry.manage_token !== "string" || !TOKEN.test(entry.manage_token)) {
    return null;
  }
  return Object.fromEntries(FIELDS.map((field) => [field, entry[field] == null ? "" : String(entry[field])]));
}

function stored() {
  let text = null;
  try {
    text = window.localStorage.getItem(KEY);
  } catch (e) {
    return [];
  }
  try {
    const entries = JSON.parse(text || "[]");
    return Array.isArray(entries) ? entries.map(clean).filter(Boolean) : [];
  } catch (e) {
    return []; // a damaged store reads as empty rather than breaking the page
  }
}

const listeners = new Set();

function store(entries) {
  try {
    window.localStorage.setItem(KEY, JSON.stringify(entries.slice(-MAX_REMEMBERED)));
  } catch (e) {
    // storage full or disabled: the list stays as it was
  }
  listeners.forEach((listener) => listener());
}

function subscribe(listener) {
  const fromOtherTab = (event) => {
    if (event.key === KEY || event.key === null) listener();
  };
  listeners.add(listener);
  window.addEventListener("storage", fromOtherTab);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("storage", fromOtherTab);
  };
}

// Each push's live status, by manage token, as the server last said (My pushes asks for it):
// in this page's memory only, beside the list.
let statuses = {};

// useSyncExternalStore wants the same object while nothing changed.
let lastText;
let lastStatuses = statuses;
let lastList = NONE;
function snapshot() {
  let text = null;
  try {
    text = window.localStorage.getItem(KEY);
  } catch (e) {
    text = null;
  }
  if (text !== lastText || statuses !== lastStatuses) {
    lastText = text;
    lastStatuses = statuses;
    lastList = stored()
      .reverse() // newest first
      .map((entry) => {
        const known = statuses[entry.manage_token];
        return { ...entry, status: known ? String(known.status || "") : "", detail: known ? String(known.detail || "") : "",
                 live: known ? String(known.live || "") : "",
                 // The same as facts, for the page to word in the visitor's language.
                 facts: known && known.facts && typeof known.facts === "object" ? known.facts : {} };
      });
  }
  return lastList;
}

/** The remembered pushes, newest first; follows changes from this and other tabs. */
export function useBrowserPushes() {
  return useSyncExternalStore(subscribe, snapshot, () => NONE);
}

export function forgetPush(manageToken) {
  store(stored().filter((entry) => entry.manage_token !== manageToken));
}

export function forgetAllPushes() {
  store([]);
}

/** The manage tokens this browser holds, for the dashboard's "move them into my account". */
export function manageTokensOfThisBrowser() {
  return stored().map((entry) => entry.manage_token);
}

function remember(text) {
  let entry = null;
  try {
    entry = clean(JSON.parse(text));
  } catch (e) {
    entry = null;
  }
  if (entry) store([...stored(), entry]);
}

/** Invisible; setting its value (JSON {manage token: {status, detail, live}}) shows each push's status. */
export const PushStatuses = forwardRef(function PushStatuses(props, ref) {
  useImperativeHandle(
    ref,
    () => ({
      get value() {
        return "";
      },
      set value(text) {
        try {
          const parsed = JSON.parse(text);
          statuses = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : {};
        } catch (e) {
          statuses = {};
        }
        listeners.forEach((listener) => listener());
      },
    }),
    [],
  );
  return h("span", { id: props.id, hidden: true });
});

/** Invisible; setting its value (a JSON entry) remembers a new push in this browser. */
export const RememberPush = forwardRef(function RememberPush(props, ref) {
  useImperativeHandle(
    ref,
    () => ({
      get value() {
        return "";
      },
      set value(text) {
        if (typeof text === "string" && text) remember(text);
      },
    }),
    [],
  );
  return h("span", { id: props.id, hidden: true });
});
