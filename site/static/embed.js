/* Proofmark loader: paste into a product page, e.g.
 *   <form id="product-form" action="/cart/add" method="post">...</form>
 *   <script src="https://proofs.example.com/embed.js" data-product="pendant-round"
 *           data-target="#product-form"></script>
 * It inserts the personalizer in an iframe right after this script tag (or into the
 * element named by data-mount), sizes the iframe to its content, and when the shopper
 * confirms, writes the design into hidden inputs of the target form:
 *   properties[_proof_design]   the signed design token (verify with POST /design/verify)
 *   properties[Personalization] the text, as the shopper typed it
 *   properties[_proof_preview]  the URL of the preview image the shopper confirmed
 * With data-required, the form cannot be submitted before a design is confirmed.
 * Events on the target form (and document): proofmark:confirmed, proofmark:cleared.
 * Messages are accepted only from the Proofmark origin this script came from, and only
 * from this script's own iframe. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var base = new URL(script.src, window.location.href).origin;
  var product = script.getAttribute("data-product") || "";
  var targetSelector = script.getAttribute("data-target");
  var mountSelector = script.getAttribute("data-mount");
  var FIELDS = {
    token: "properties[_proof_design]",
    summary: "properties[Personalization]",
    preview_url: "properties[_proof_preview]"
  };

  var iframe = document.createElement("iframe");
  var src = new URL("/embed/" + encodeURIComponent(product), base);
  src.searchParams.set("origin", window.location.origin);
  iframe.src = src.href;
  iframe.title = script.getAttribute("data-title") || "Personalise this item";
  iframe.className = "proofmark-frame";
  iframe.setAttribute("data-proofmark-product", product);
  iframe.style.display = "block";
  iframe.style.width = "100%";
  iframe.style.border = "0";
  iframe.style.height = (parseInt(script.getAttribute("data-height"), 10) || 640) + "px";
  var mount = mountSelector ? document.querySelector(mountSelector) : null;
  if (mount) mount.appendChild(iframe);
  else script.parentNode.insertBefore(iframe, script.nextSibling);

  function targetForm() {
    return targetSelector ? document.querySelector(targetSelector) : null;
  }

  function fieldIn(form, name) {
    for (var i = 0; i < form.elements.length; i++) {
      if (form.elements[i].name === name) return form.elements[i];
    }
    return null;
  }

  function announce(name, detail) {
    var form = targetForm();
    var event = new CustomEvent(name, { bubbles: true, detail: detail });
    (form || iframe).dispatchEvent(event);
  }

  function fill(message) {
    var form = targetForm();
    if (form) {
      Object.keys(FIELDS).forEach(function (key) {
        var input = fieldIn(form, FIELDS[key]);
        if (!input) {
          input = document.createElement("input");
          input.type = "hidden";
          input.name = FIELDS[key];
          form.appendChild(input);
        }
        input.value = String(message[key] || "");
      });
    }
    announce("proofmark:confirmed", {
      token: message.token, summary: message.summary, preview_url: message.preview_url,
      thumbnail_url: message.thumbnail_url, product: message.product
    });
  }

  function clear() {
    var form = targetForm();
    if (!form) return;
    var had = false;
    Object.keys(FIELDS).forEach(function (key) {
      var input = fieldIn(form, FIELDS[key]);
      if (input && input.type === "hidden") {
        input.parentNode.removeChild(input);
        had = true;
      }
    });
    if (had) announce("proofmark:cleared", {});
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== base || event.source !== iframe.contentWindow) return;
    var message = event.data;
    if (!message || typeof message !== "object" || message.source !== "proofmark") return;
    if (message.type === "proofmark:resize") {
      var height = Number(message.height);
      if (height > 0 && height < 20000) iframe.style.height = Math.ceil(height) + "px";
    } else if (message.type === "proofmark:confirmed" && typeof message.token === "string") {
      fill(message);
    } else if (message.type === "proofmark:editing") {
      clear();
    }
  });

  iframe.addEventListener("load", function () {
    iframe.contentWindow.postMessage({ source: "proofmark-host", type: "proofmark:hello" }, base);
  });

  if (script.hasAttribute("data-required")) {
    var form = targetForm();
    if (form) {
      form.addEventListener("submit", function (event) {
        var input = fieldIn(form, FIELDS.token);
        if (!input || !input.value) {
          event.preventDefault();
          iframe.scrollIntoView({ behavior: "smooth", block: "start" });
          announce("proofmark:required", {});
        }
      });
    }
  }
})();
