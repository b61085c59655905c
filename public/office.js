// The office pages are complete without script; this only adds comforts.
// A chosen file is named beside the button (the browser's own file input
// speaks the browser's language, not always Chinese), and a form cannot
// be sent twice by a double tap. (A refused form comes back as typed from
// the server itself: server/form_refill.rs.)
document.addEventListener("change", (e) => {
  const input = e.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
  const name = input.closest(".file-pick")?.querySelector(".file-name");
  if (!name) return;
  name.textContent = input.files && input.files.length ? input.files[0].name : name.dataset.none;
  name.hidden = false;
});
document.addEventListener("submit", (e) => {
  const form = e.target;
  if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
  if (form.dataset.sent) {
    e.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  // A page restored from the back/forward cache may be sent again.
  window.addEventListener("pageshow", () => delete form.dataset.sent, { once: true });
});

// A print button (the village notice) opens the browser's print dialog.
document.addEventListener("click", (e) => {
  if (e.target instanceof Element && e.target.closest("[data-print]")) window.print();
});
