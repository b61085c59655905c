// The office pages are complete without script; this only adds comforts.
// A chosen file is named beside the button (the browser's own file input
// speaks the browser's language, not always Chinese), and a form cannot
// be sent twice by a double tap.
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

// A refused form comes back as typed: what was typed is kept in this tab
// when a form is sent, and put back if the page that comes back shows a
// refusal at that form. Passwords and files are never kept.
const KEPT = "daohu-form";
document.addEventListener("submit", (e) => {
  const form = e.target;
  if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
  const fields = {};
  for (const el of form.elements) {
    if (!el.name || el.type === "password" || el.type === "file" || el.type === "hidden") continue;
    if ((el.type === "checkbox" || el.type === "radio") && !el.checked) continue;
    fields[el.name] = el.value;
  }
  try {
    sessionStorage.setItem(KEPT, JSON.stringify({ action: form.getAttribute("action"), id: form.id, fields }));
  } catch (_) {}
});
window.addEventListener("DOMContentLoaded", () => {
  let kept;
  try {
    kept = JSON.parse(sessionStorage.getItem(KEPT) || "null");
    sessionStorage.removeItem(KEPT);
  } catch (_) {}
  if (!kept) return;
  const form = [...document.querySelectorAll("form")].find(
    (f) => f.getAttribute("action") === kept.action && (!kept.id || f.id === kept.id),
  );
  // Only a refusal brings the typed values back; after a success the form
  // shows what is stored now.
  if (!form) return;
  const scope = form.closest("section, .card") || form;
  if (!scope.querySelector('[role="alert"]')) return;
  for (const [name, value] of Object.entries(kept.fields)) {
    const el = form.elements.namedItem(name);
    if (!el || el instanceof RadioNodeList || changed(el)) continue;
    if (el.type === "checkbox") el.checked = true;
    else el.value = value;
  }
});

// Whether the user already changed a field of the page that came back
// (a fast hand can, before the page has finished loading): that is kept.
function changed(el) {
  if (el.type === "checkbox") return el.checked !== el.defaultChecked;
  if (el instanceof HTMLSelectElement) {
    const initial = [...el.options].find((o) => o.defaultSelected) || el.options[0];
    return !!initial && el.value !== initial.value;
  }
  return el.value !== el.defaultValue;
}

// A print button (the village notice) opens the browser's print dialog.
document.addEventListener("click", (e) => {
  if (e.target instanceof Element && e.target.closest("[data-print]")) window.print();
});
