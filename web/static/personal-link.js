// A personal link carries its token after '#' (`/e/<slug>/p#<token>`): a browser never sends that part,
// so the token reaches no server or proxy log. Move it into the form, clear the address bar, send it.
const token = decodeURIComponent(window.location.hash.slice(1));
const form = document.getElementById("link-form");
window.history.replaceState(null, "", window.location.pathname + window.location.search);
if (token && form) {
  form.elements.token.value = token;
  form.submit();
} else {
  if (form) form.hidden = true;
  document.getElementById("link-missing").hidden = false;
  document.getElementById("link-intro").hidden = true;
}
