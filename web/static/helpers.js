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

/** A page string from config.strings with {placeholders} filled in (missing key: the key itself). */
export function translator(strings) {
  return (key, params = {}) => {
    const template = strings && Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  };
}

/** The JSON the server put in <script type="application/json" id="plein-config">. */
export function readConfig(id = "plein-config") {
  const node = document.getElementById(id);
  return JSON.parse(node ? node.textContent : "{}");
}
