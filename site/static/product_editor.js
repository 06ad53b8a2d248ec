// Staff product editor: four corner handles over the product's photo. Drag them (mouse, pen or
// touch: Pointer Events), or focus one and nudge it with the arrow keys (Shift: 10 px); the
// coordinate fields follow, and typing into a field moves its handle. Each finished move
// fires `change` on the field, which the form's htmx trigger turns into a saved draft and a
// fresh preview. Coordinates are photo pixels (the SVG's viewBox is the photo's size). The
// texts it writes come from the template (data-valuetext), in the page's language. A handle is a
// slider for assistive technology: its value is x (aria-valuenow), spoken as "x …, y …".
(function () {
  "use strict";
  var svg = document.getElementById("area-editor");
  if (!svg) return;
  var outline = svg.querySelector(".area-outline");
  var order = ["tl", "tr", "br", "bl"];
  var width = parseFloat(svg.viewBox.baseVal.width);
  var height = parseFloat(svg.viewBox.baseVal.height);
  // The handle's spoken position, in the page's language ("x {x}, y {y}" in English).
  var valuetext = svg.getAttribute("data-valuetext") || "x {x}, y {y}";

  function handle(c) { return svg.querySelector('circle[data-corner="' + c + '"]'); }
  function field(c, axis) { return document.querySelector('input[data-corner="' + c + '"][data-axis="' + axis + '"]'); }

  function redraw() {
    outline.setAttribute("points", order.map(function (c) {
      var h = handle(c);
      return h.getAttribute("cx") + "," + h.getAttribute("cy");
    }).join(" "));
  }

  function place(c, x, y, done) {
    x = Math.max(0, Math.min(width, x));
    y = Math.max(0, Math.min(height, y));
    var h = handle(c);
    h.setAttribute("cx", x.toFixed(1));
    h.setAttribute("cy", y.toFixed(1));
    h.setAttribute("aria-valuenow", Math.round(x));
    h.setAttribute("aria-valuetext", valuetext.replace("{x}", Math.round(x)).replace("{y}", Math.round(y)));
    field(c, "x").value = x.toFixed(1);
    field(c, "y").value = y.toFixed(1);
    redraw();
    if (done) field(c, "x").dispatchEvent(new Event("change", { bubbles: true }));
  }

  function toPhoto(event) {
    var pt = svg.createSVGPoint();
    pt.x = event.clientX;
    pt.y = event.clientY;
    return pt.matrixTransform(svg.getScreenCTM().inverse());
  }

  var dragging = null;
  order.forEach(function (c) {
    var h = handle(c);
    h.addEventListener("pointerdown", function (event) {
      dragging = c;
      h.setPointerCapture(event.pointerId);
      h.focus();
      event.preventDefault();
    });
    h.addEventListener("pointermove", function (event) {
      if (dragging !== c) return;
      var p = toPhoto(event);
      place(c, p.x, p.y, false);
    });
    function end(event) {
      if (dragging !== c) return;
      dragging = null;
      var p = toPhoto(event);
      place(c, p.x, p.y, true);
    }
    h.addEventListener("pointerup", end);
    h.addEventListener("pointercancel", end);
    h.addEventListener("keydown", function (event) {
      var step = event.shiftKey ? 10 : 1;
      var dx = { ArrowLeft: -step, ArrowRight: step }[event.key] || 0;
      var dy = { ArrowUp: -step, ArrowDown: step }[event.key] || 0;
      if (!dx && !dy) return;
      event.preventDefault();
      place(c, parseFloat(h.getAttribute("cx")) + dx, parseFloat(h.getAttribute("cy")) + dy, true);
    });
    ["x", "y"].forEach(function (axis) {
      field(c, axis).addEventListener("input", function () {
        var x = parseFloat(field(c, "x").value), y = parseFloat(field(c, "y").value);
        if (isFinite(x) && isFinite(y)) {
          h.setAttribute("cx", x);
          h.setAttribute("cy", y);
          redraw();
        }
      });
    });
  });
  redraw();

  // A refused form (422) carries the problems, in the page's language, in the preview's
  // place: htmx leaves error responses unswapped unless told to swap this one.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.xhr.status === 422 && target && target.id === "product-preview") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
