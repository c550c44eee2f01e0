// A moderator link carries its key after '#' (`/moderator#key=…`): a browser never sends that part, so
// the key reaches no server or proxy log. On the sign-in form the key is moved into the form and sent
// (a POST from this page); on the console, already signed in, it only leaves the address bar.
const match = /^#key=([^&]+)/.exec(window.location.hash);
if (match) {
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  const form = document.querySelector("form.login-form");
  if (form && form.elements.key) {
    form.elements.key.value = decodeURIComponent(match[1]);
    form.submit();
  }
}
