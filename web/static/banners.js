// The connection banner and the clock-warning banner (markup: templates/_banners.html), shared by the
// live page and the moderator page.

import { attr, qs, setText, show } from "./helpers.js";

/** The banner that says the connection is lost (and comes back) or was refused (with a way out). */
export function connectionBanner() {
  const box = qs("#conn-banner");
  const text = qs("#conn-text");
  const link = qs("#conn-link");
  return {
    link,
    /** A message, or null to hide; withLink when the page cannot recover by itself. */
    show(message, withLink = false) {
      show(box, Boolean(message));
      setText(text, message || "");
      show(link, withLink);
      attr(box, "data-kind", withLink ? "refused" : message ? "lost" : null);
    },
  };
}

/** The banner for `clock:warning` ({minutes, phase, ends_at}); it stays until dismissed or no longer true. */
export function warningBanner(tr) {
  const content = qs("#warning-content");
  const text = qs("#warning-text");
  const banner = {
    data: null,
    show(data) {
      banner.data = data;
      const key = data.minutes === 5 ? "warning_5" : data.minutes === 1 ? "warning_1" : "warning_n";
      content.dataset.phase = data.phase || "";
      show(content, true);
      setText(text, tr(key, { minutes: data.minutes }));
    },
    hide() {
      banner.data = null;
      show(content, false);
      setText(text, "");
    },
  };
  qs("#warning-close").addEventListener("click", () => banner.hide());
  return banner;
}
