// Approval page: tap the proof to see it at full size; one submit per decision form
// (the server is idempotent anyway, this only spares a confusing second spinner).
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-zoom]")) {
    const img = box.querySelector("img");
    if (!img) continue;
    img.addEventListener("click", (event) => {
      const zoomed = box.classList.toggle("zoomed");
      if (zoomed) {
        // Keep the tapped spot under the finger.
        const rect = img.getBoundingClientRect();
        const fx = (event.clientX - rect.left) / rect.width;
        const fy = (event.clientY - rect.top) / rect.height;
        requestAnimationFrame(() => {
          box.scrollLeft = fx * img.scrollWidth - box.clientWidth / 2;
          box.scrollTop = fy * img.scrollHeight - box.clientHeight / 2;
        });
      }
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
