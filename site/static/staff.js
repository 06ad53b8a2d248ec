// Staff pages: send the CSRF token with htmx requests, and narrow the design form's fonts
// and named fields to the chosen product (the server checks both anyway).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:configRequest", function (event) {
    if (meta) event.detail.headers["X-CSRFToken"] = meta.content;
  });

  function setUpDesign(fieldset) {
    var products;
    try { products = JSON.parse(fieldset.getAttribute("data-products")); } catch (e) { return; }
    var productSelect = fieldset.querySelector('[data-role="product"]');
    var fontSelect = fieldset.querySelector('[data-role="font"]');
    function apply() {
      var spec = products[productSelect.value];
      if (!spec) return;
      Array.prototype.forEach.call(fontSelect.options, function (opt) {
        var allowed = spec.fonts.indexOf(opt.value) !== -1;
        opt.hidden = !allowed;
        opt.disabled = !allowed;
      });
      if (fontSelect.selectedOptions.length && fontSelect.selectedOptions[0].disabled) {
        var first = spec.fonts.length ? spec.fonts[0] : "";
        fontSelect.value = first;
      }
      fieldset.querySelectorAll("[data-field-of]").forEach(function (label) {
        var mine = label.getAttribute("data-field-of") === productSelect.value;
        label.hidden = !mine;
        label.querySelectorAll("input, select").forEach(function (input) { input.disabled = !mine; });
      });
    }
    productSelect.addEventListener("change", apply);
    apply();
  }
  document.querySelectorAll("fieldset.design[data-products]").forEach(setUpDesign);

  // The long sections of a record (revisions, timeline, email log) are open in the HTML so
  // that nothing is hidden without JavaScript; on a phone they start folded, unless the
  // address points into one of them.
  if (window.matchMedia && window.matchMedia("(max-width: 900px)").matches) {
    var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    document.querySelectorAll("details[data-fold-narrow]").forEach(function (details) {
      if (!target || !details.contains(target)) details.open = false;
    });
  }
})();
