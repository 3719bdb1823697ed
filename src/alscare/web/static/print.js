// Shows the "Print" buttons (hidden without JavaScript, where the browser's own print still works) and wires
// them to window.print(). Loaded from our own origin: the Content-Security-Policy allows no inline script.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
