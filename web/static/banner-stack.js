// On a phone, two or more banners on the live page (the connection, moderators' messages, a move, help answers, the
// clock's warning, the public-Jitsi notice) fold into one line with their number and the most urgent one's text; a
// tap or a key opens them all (markup: templates/live.html #banner-toggle). The folded banners are only hidden
// from sight, not from screen readers, so their live regions still speak; focus reaching one opens the stack.

import { attr, qs, setText, show } from "./helpers.js";

const PHONE = "(max-width: 600px)";
// Every banner the stack can hold, most urgent first (the preview shows the first one on screen).
const KINDS = [".banner--conn", ".banner--warning .banner__content", ".message", ".banner--demo"];

export function bannerStack({ tr, root = qs("#banners"), query = PHONE }) {
  const toggle = qs("#banner-toggle");
  const count = qs("#banner-count");
  const preview = qs("#banner-preview");
  const phone = window.matchMedia(query);
  let open = false;

  /** The banners on screen now, most urgent first, newest message first. */
  function items() {
    const found = [];
    for (const selector of KINDS) {
      const nodes = [...root.querySelectorAll(selector)].filter((node) => !node.closest("[hidden]"));
      found.push(...(selector === ".message" ? nodes.reverse() : nodes));
    }
    return found;
  }

  function textOf(node) {
    const text = node.querySelector(".message__text, .banner__text, #conn-text");
    return (text || node).textContent.trim().replace(/\s+/g, " ");
  }

  function update() {
    const list = items();
    const fold = phone.matches && list.length > 1;
    if (!fold) open = false;
    show(toggle, fold);
    root.classList.toggle("is-folded", fold && !open);
    root.classList.toggle("is-stacked", fold);
    attr(toggle, "aria-expanded", String(open));
    if (!fold) return;
    setText(count, tr("banners_count", { n: list.length }));
    setText(preview, textOf(list[0]));
    attr(toggle, "title", tr("banners_count_hint"));
  }

  toggle.addEventListener("click", () => {
    open = !open;
    update();
  });
  // Tabbing (or a screen reader's cursor) into a folded banner: open the stack, so focus is never on something unseen.
  root.addEventListener("focusin", (event) => {
    if (!root.classList.contains("is-folded") || toggle.contains(event.target)) return;
    open = true;
    update();
  });
  // Banners come and go by their own modules (banners.js, live.js); follow them. Changes inside the toggle are ours.
  new MutationObserver((records) => {
    if (records.every((record) => toggle.contains(record.target))) return;
    update();
  }).observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ["hidden"], characterData: true });
  phone.addEventListener("change", update);
  update();
  return { update };
}
