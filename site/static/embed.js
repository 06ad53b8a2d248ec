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
 * With data-required, the form cannot be submitted before a design is confirmed; a short
 * note next to the form's submit button says why, in the host page's language (<html lang>).
 * data-lang="de" (en, de, fr, es, nl) asks for the personalizer's language (the shop's
 * SHOP_LANGUAGE setting, when set, wins; without either, the shopper's browser decides).
 * The look: data-accent, data-ink, data-background, data-font, data-button-radius and
 * data-logo (an image on the shop's own origin), or the CSS custom properties
 * --proofmark-accent, --proofmark-ink, --proofmark-background, --proofmark-font and
 * --proofmark-button-radius on the script's parent element (the attributes win).
 * Events on the target form (and document): proofmark:confirmed, proofmark:cleared.
 * JavaScript API: Proofmark.on("confirmed" | "cleared" | "refused", function (detail) {...})
 * and Proofmark.reset() (back to an empty personalizer, the confirmed design taken out).
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
  var lang = script.getAttribute("data-lang") || "";
  var FIELDS = {
    token: "properties[_proof_design]",
    summary: "properties[Personalization]",
    preview_url: "properties[_proof_preview]"
  };

  var iframe = document.createElement("iframe");
  var src = new URL("/embed/" + encodeURIComponent(product), base);
  src.searchParams.set("origin", window.location.origin);
  if (lang) src.searchParams.set("lang", lang);
  var startUrl = src.href;
  iframe.src = startUrl;
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

  // Proofmark.on(...) listeners, per event name, for every loader on the page.
  var api = window.Proofmark = window.Proofmark || { _listeners: {}, _frames: [] };
  api._listeners = api._listeners || {};
  api._frames = api._frames || [];
  api.on = api.on || function (name, callback) {
    (api._listeners[name] = api._listeners[name] || []).push(callback);
    return api;
  };
  api.reset = api.reset || function () {
    api._frames.forEach(function (reset) { reset(); });
    return api;
  };

  function announce(name, detail) {
    var form = targetForm();
    var event = new CustomEvent(name, { bubbles: true, detail: detail });
    (form || iframe).dispatchEvent(event);
    (api._listeners[name.replace("proofmark:", "")] || []).forEach(function (callback) {
      try { callback(detail); } catch (error) { if (window.console) console.error(error); }
    });
  }

  function fill(message) {
    var form = targetForm();
    hideRequired();
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
    if (message.type === "proofmark:refused") {
      // The page that refuses this shop posts its reason to any parent: say it in the console.
      if (window.console) console.error("Proofmark: " + String(message.message || "this shop is not allowed"));
      announce("proofmark:refused", { message: String(message.message || "") });
      return;
    }
    if (message.type === "proofmark:resize") {
      var height = Number(message.height);
      if (height > 0 && height < 20000) iframe.style.height = Math.ceil(height) + "px";
    } else if (message.type === "proofmark:confirmed" && typeof message.token === "string") {
      fill(message);
    } else if (message.type === "proofmark:editing") {
      clear();
      hideRequired();
    } else if (message.type === "proofmark:reveal") {
      reveal(message);
    }
  });

  // --- the shop's look, per embed --------------------------------------------------------
  var THEME = ["accent", "ink", "background", "font", "button-radius", "logo"];
  function theme() {
    var values = {};
    var style = script.parentElement ? window.getComputedStyle(script.parentElement) : null;
    THEME.forEach(function (name) {
      var value = script.getAttribute("data-" + name);
      if (!value && style && name !== "logo") value = style.getPropertyValue("--proofmark-" + name).trim();
      if (value && name === "logo") value = new URL(value, window.location.href).href;
      if (value) values[name] = value;
    });
    return values;
  }

  // --- on a phone: the preview stays in view --------------------------------------------
  // The iframe is as tall as its content, so the host page scrolls, not the iframe: tell it
  // how much of it is scrolled out of sight, and it keeps its preview at the top of what shows.
  function sendViewport() {
    if (!iframe.contentWindow) return;
    var rect = iframe.getBoundingClientRect();
    var visible = window.visualViewport ? window.visualViewport.height : window.innerHeight;
    iframe.contentWindow.postMessage(
      { source: "proofmark-host", type: "proofmark:viewport", hidden: Math.max(0, -rect.top), height: visible },
      base
    );
  }
  var pending = false;
  function onScroll() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; sendViewport(); });
  }
  window.addEventListener("scroll", onScroll, { passive: true });
  // The on-screen keyboard opens after the focus (and shrinks the visual viewport): the box
  // that has the focus is brought back above it, below the preview.
  var lastReveal = null;
  function onResize() {
    if (lastReveal && document.activeElement === iframe) reveal(lastReveal);
    else onScroll();
  }
  window.addEventListener("resize", onResize);
  if (window.visualViewport) window.visualViewport.addEventListener("resize", onResize);

  // A text box got the focus: scroll the host page so that it sits below the preview (which
  // then stays at the top of the screen) rather than under it or below the screen's edge.
  function reveal(message) {
    lastReveal = message;
    var rect = iframe.getBoundingClientRect();
    var visible = window.visualViewport ? window.visualViewport.height : window.innerHeight;
    var top = rect.top + Number(message.top || 0);
    var bottom = rect.top + Number(message.bottom || 0);
    var cover = Number(message.preview || 0) + 8;
    var delta = 0;
    if (top < cover) delta = top - cover;
    else if (bottom > visible - 8) delta = Math.min(bottom - visible + 8, top - cover);
    if (Math.abs(delta) > 1) window.scrollBy(0, delta);
    sendViewport();
  }

  iframe.addEventListener("load", function () {
    iframe.contentWindow.postMessage({ source: "proofmark-host", type: "proofmark:hello" }, base);
    iframe.contentWindow.postMessage({ source: "proofmark-host", type: "proofmark:theme", theme: theme() }, base);
    sendViewport();
  });

  api._frames.push(function () {
    clear();
    hideRequired();
    iframe.src = startUrl;
  });

  // --- data-required: say why the form does not go ---------------------------------------
  var REQUIRED = {
    en: "Please personalise and confirm your design first.",
    de: "Bitte gestalten und bestätigen Sie zuerst Ihren Entwurf.",
    fr: "Veuillez d’abord personnaliser et confirmer votre création.",
    es: "Primero personalice y confirme su diseño.",
    nl: "Personaliseer en bevestig eerst uw ontwerp."
  };
  var note = null;
  function hostLanguage() {
    var code = (document.documentElement.lang || navigator.language || "en").toLowerCase().split("-")[0];
    return REQUIRED[code] ? code : "en";
  }
  function showRequired(form, button) {
    if (!note) {
      note = document.createElement("p");
      note.className = "proofmark-required";
      note.setAttribute("role", "alert");
      note.style.margin = ".4rem 0";
      note.style.fontWeight = "600";
      note.style.color = "#a3261b";
    }
    note.setAttribute("lang", hostLanguage());
    note.textContent = REQUIRED[hostLanguage()];
    var anchor = button || form.querySelector("[type=submit]") || form.lastChild;
    if (anchor && anchor.parentNode) anchor.parentNode.insertBefore(note, anchor.nextSibling);
    else form.appendChild(note);
  }
  function hideRequired() {
    if (note && note.parentNode) note.parentNode.removeChild(note);
  }

  if (script.hasAttribute("data-required")) {
    var form = targetForm();
    if (form) {
      form.addEventListener("submit", function (event) {
        var input = fieldIn(form, FIELDS.token);
        if (!input || !input.value) {
          event.preventDefault();
          showRequired(form, event.submitter);
          iframe.scrollIntoView({ behavior: "smooth", block: "start" });
          announce("proofmark:required", {});
        }
      });
    }
  }
})();
