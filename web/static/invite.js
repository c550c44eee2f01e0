// The printable invitation: its one button prints the page (the browser's own print works as well).
document.querySelector("#invite-print").addEventListener("click", () => window.print());
