// Tiny DOM helpers shared by the page scripts. User-provided text only ever goes in via textContent.

/** The first element matching `selector` in `scope`. */
export const qs = (selector, scope = document) => scope.querySelector(selector);

/** Every element matching `selector` in `scope`, as an array. */
export const qsa = (selector, scope = document) => [...scope.querySelectorAll(selector)];

/**
 * Build an element: el("li", {class: "x", dataset: {phase: "p1"}, "aria-current": "step"}, "text", child).
 * Strings become text nodes (never HTML); null/false children and attributes are skipped.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Set textContent only when it changes (the countdown renders four times a second). */
export function setText(node, text) {
  const value = text === null || text === undefined ? "" : String(text);
  if (node && node.textContent !== value) node.textContent = value;
}

/** Show or hide with the `hidden` attribute. */
export function show(node, visible = true) {
  if (node && node.hidden === visible) node.hidden = !visible;
}

/** Set or remove an attribute, touching the DOM only on change. */
export function attr(node, name, value) {
  if (!node) return;
  if (value === null || value === undefined || value === false) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== String(value)) {
    node.setAttribute(name, String(value));
  }
}

/** A catalogue's language code (pt_BR) as the browser's Intl names it (pt-BR). */
export function bcp47(lang) {
  return String(lang || "nl").replace(/_/g, "-");
}

/**
 * A page string from config.strings with {placeholders} filled in (missing key: the key itself). A plural message
 * is an object of CLDR categories ({one, other, ...}); params.n picks the form through Intl.PluralRules in the
 * page's language (`lang`, else the document's).
 */
export function translator(strings, lang = document.documentElement.lang || "nl") {
  const rules = new Intl.PluralRules(bcp47(lang));
  return (key, params = {}) => {
    let template = strings && Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    if (template && typeof template === "object") {
      template = template[rules.select(Number(params.n))] ?? template.other ?? key;
    }
    return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  };
}

/** The JSON the server put in <script type="application/json" id="plein-config">. */
export function readConfig(id = "plein-config") {
  const node = document.getElementById(id);
  return JSON.parse(node ? node.textContent : "{}");
}

/**
 * Send JSON (POST by default) with the page's cookie. Resolves to {ok, status, data}: data is the answer's JSON
 * or null. Rejects only when the server could not be reached.
 */
export async function sendJson(url, body = {}, method = "POST") {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  return { ok: response.ok && Boolean(data), status: response.status, data };
}

/** The server's message of a refused request ({error: {message}}), or "HTTP <status>". */
export function refusal(result) {
  const error = result && result.data && result.data.error;
  return (error && error.message) || `HTTP ${result ? result.status : "?"}`;
}

/** Keep "<n>/<max>" beside a textarea up to date; the counter turns to a warning near the limit. */
export function charCounter(input, output, tr) {
  const max = Number(input.getAttribute("maxlength")) || 500;
  const update = () => {
    const n = input.value.length;
    setText(output, tr("chars_count", { n, max }));
    attr(output, "data-near", n > max * 0.9 ? "true" : null);
  };
  input.addEventListener("input", update);
  update();
  return update;
}

/**
 * A modal question in a <dialog>: title, text, optional extra nodes (e.g. a select), a confirm and a cancel
 * button (none without `cancel`). Resolves to true (confirmed) or false. Focus returns to where it was, or to
 * focusBack() when that node was re-rendered meanwhile.
 */
export function askDialog({ title, text = "", body = [], confirm, cancel, danger = false, focusBack = null }) {
  return new Promise((resolve) => {
    const before = document.activeElement;
    const titleId = `dialog-title-${Math.random().toString(36).slice(2, 8)}`;
    const ok = el("button", { type: "submit", value: "ok", class: `button ${danger ? "button--danger" : "button--primary"}` }, confirm);
    const no = cancel ? el("button", { type: "submit", value: "cancel", class: "button", formnovalidate: true }, cancel) : null;
    const dialog = el("dialog", { class: "dialog", "aria-labelledby": titleId },
      el("form", { method: "dialog", class: "dialog__form" },
        el("h2", { class: "dialog__title", id: titleId }, title),
        text ? el("p", { class: "dialog__text" }, text) : null,
        body,
        el("div", { class: "dialog__buttons" }, no, ok)));
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      dialog.remove();
      const back = before && document.contains(before) ? before : focusBack && focusBack();
      if (back && typeof back.focus === "function") back.focus();
    });
    document.body.append(dialog);
    dialog.showModal();
    (body.length ? dialog.querySelector("select, input, textarea, button") : no || ok).focus();
  });
}

/** A card's feedback pair: a success line (role=status) and an error line (role=alert); one shows at a time. */
export function feedback(okNode, errorNode) {
  return {
    ok(text) { setText(errorNode, ""); setText(okNode, text); },
    error(text) { setText(okNode, ""); setText(errorNode, text); },
    clear() { setText(okNode, ""); setText(errorNode, ""); },
  };
}

/**
 * A form with a textarea that sends a message (a broadcast, an answer): an empty one is refused with `empty`;
 * the button is off while sending; on success the text is cleared and `sent(data)` is said (or done, when it
 * returns nothing). send(text) resolves to {ok, status, data} (helpers.sendJson). Returns the counter's update.
 */
export function messageForm({ form, text, counter, button, say, tr, empty, send, sent, network }) {
  const recount = counter ? charCounter(text, counter, tr) : () => {};
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!text.value.trim()) {
      say.error(empty);
      text.focus();
      return;
    }
    button.disabled = true;
    say.clear();
    try {
      const result = await send(text.value);
      if (result.ok) {
        text.value = "";
        recount();
        const line = sent(result.data);
        if (line) say.ok(line);
      } else {
        say.error(refusal(result));
      }
    } catch (error) {
      say.error(network);
    } finally {
      button.disabled = false;
    }
  });
  return recount;
}
