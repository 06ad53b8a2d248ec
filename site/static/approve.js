// Approval page: tap the proof to zoom in (2.5x) around the tapped spot, tap again to zoom
// out; one submit per decision form (the server is idempotent anyway, this only spares a
// confusing second wait).
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-zoom]")) {
    const img = box.querySelector("img");
    if (!img) continue;
    img.addEventListener("click", (event) => {
      const before = img.getBoundingClientRect();
      const fx = (event.clientX - before.left) / before.width;
      const fy = (event.clientY - before.top) / before.height;
      const zoomed = box.classList.toggle("zoomed");
      if (!zoomed) return;
      // Reading the size forces layout, so the scroll below uses the zoomed size.
      const width = img.offsetWidth;
      const height = img.offsetHeight;
      box.scrollLeft = Math.max(0, fx * width - box.clientWidth / 2);
      box.scrollTop = Math.max(0, fy * height - box.clientHeight / 2);
    });
  }
  for (const form of document.querySelectorAll("form[data-once]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button[type=submit]")) {
        setTimeout(() => { button.disabled = true; }, 0);
      }
    });
  }
});
