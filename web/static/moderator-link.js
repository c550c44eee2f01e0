// A moderator link carries its key after '#' (`/moderator#key=…`): a browser never sends that part, so
// the key reaches no server or proxy log. The page takes it out of the address bar and signs in with it
// by a POST from this page, as the older `?key=` link did by GET. A link pasted into a tab already on
// this page only changes the fragment (no reload): `hashchange` catches that.
function signInFromFragment() {
  const match = /^#key=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  const form = document.createElement("form");
  form.method = "post";
  form.action = window.location.pathname;
  form.hidden = true;
  const key = document.createElement("input");
  key.type = "hidden";
  key.name = "key";
  key.value = decodeURIComponent(match[1]);
  form.append(key);
  document.body.append(form);
  form.submit();
}

signInFromFragment();
window.addEventListener("hashchange", signInFromFragment);
