/* The personalizer's small enhancements on top of htmx (the page works without them):
 * Enter moves to the next line, suggested fonts switch the font picker, the old preview
 * stays visible until the new one has loaded, and inside a shop's iframe the page reports
 * its height and the confirmed design to the parent, and to no other origin. */
(function () {
  "use strict";
  var doc = document;
  doc.documentElement.classList.add("js");

  function closest(el, selector) {
    return el && el.closest ? el.closest(selector) : null;
  }

  // --- typing -----------------------------------------------------------------------------

  doc.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !input.matches || !input.matches("[data-pz-text]")) return;
    event.preventDefault();
    var inputs = Array.prototype.slice.call(input.form.querySelectorAll("[data-pz-text]"));
    var next = inputs[inputs.indexOf(input) + 1];
    if (next) next.focus();
    else if (window.htmx) window.htmx.trigger(input.form, "change");
  });

  // Typing is already sent on "input"; the "change" a text box fires when it loses focus
  // would only send the same form again (and race a click on a suggestion that caused it).
  doc.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("[data-pz-text]")) event.stopPropagation();
  }, true);

  // Enter in a radio (a font, the alignment) submits the form implicitly, which would reload
  // the whole page and drop the keyboard user's place; with htmx, update the preview instead.
  // Only the hidden default button's submit is taken over: "Check and confirm" still goes.
  doc.addEventListener("submit", function (event) {
    var form = event.target;
    if (!window.htmx || form.id !== "pz-form") return;
    var submitter = event.submitter;
    if (submitter && !submitter.hasAttribute("data-pz-default")) return;
    event.preventDefault();
    window.htmx.trigger(form, "change");
  });

  // A suggested font: select it in the picker and let the form's change trigger update.
  doc.addEventListener("click", function (event) {
    var button = closest(event.target, "[data-use-font]");
    if (!button || !window.htmx) return;
    var form = button.form || doc.getElementById("pz-form");
    if (!form) return;
    var radios = form.querySelectorAll('input[name="font"]');
    for (var i = 0; i < radios.length; i++) {
      if (radios[i].value === button.getAttribute("data-use-font")) {
        event.preventDefault();
        radios[i].checked = true;
        radios[i].focus({ preventScroll: true });
        radios[i].dispatchEvent(new Event("change", { bubbles: true }));
        return;
      }
    }
  });

  // --- the preview image ------------------------------------------------------------------
  // htmx swaps in a new <img>; until its picture has arrived, show the previous one behind
  // it instead of an empty frame, and keep the "Updating preview" badge up.

  doc.addEventListener("htmx:beforeSwap", function (event) {
    var stage = doc.getElementById("pz-stage");
    var old = stage && stage.querySelector(".pz-img");
    if (old && old.complete && old.naturalWidth) {
      stage.style.backgroundImage = 'url("' + old.currentSrc.replace(/"/g, "%22") + '")';
    }
  });

  doc.addEventListener("htmx:afterSwap", function () {
    var stage = doc.getElementById("pz-stage");
    var img = stage && stage.querySelector(".pz-img");
    syncInvalid();
    if (!img) return;
    if (img.complete) {
      stage.classList.remove("is-loading");
      return;
    }
    stage.classList.add("is-loading");
    var done = function () {
      // Only the image that is still on the stage may end the loading state.
      if (stage.querySelector(".pz-img") === img) {
        stage.classList.remove("is-loading");
        if (img.naturalWidth) stage.style.backgroundImage = "";
      }
    };
    img.addEventListener("load", done);
    img.addEventListener("error", done);
  });

  // Out-of-band slots (issues, counters, font status, continue button) come back with every
  // update. Leave a slot alone when nothing in it changed: replacing an issue with the same
  // words would make screen readers announce it again at every pause in typing (the slots
  // are aria-live), and would take the keyboard focus away from a suggestion button.
  // When a slot holding the focus does change, the focus goes to the same suggestion if it
  // is still offered, else back to the text box the slot belongs to.
  doc.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail;
    var target = detail.target;
    // For an innerHTML swap the fragment is the out-of-band element; its children go in.
    if (!detail.fragment || detail.fragment.nodeType !== 1) return;
    if (detail.fragment.innerHTML.trim() === target.innerHTML.trim()) {
      detail.shouldSwap = false;
      return;
    }
    var active = doc.activeElement;
    if (!active || active === doc.body || !target.contains(active)) return;
    var font = active.getAttribute("data-use-font");
    var owner = target.getAttribute("data-issues-for");
    setTimeout(function () {
      var again = font ? target.querySelector('[data-use-font="' + font + '"]') : null;
      var fallback = owner ? doc.getElementById(owner) : null;
      if (again) again.focus();
      else if (fallback) fallback.focus();
    }, 0);
  });

  // Inputs with an error in their issue slot are marked invalid for assistive technology.
  function syncInvalid() {
    var slots = doc.querySelectorAll("[data-issues-for]");
    for (var i = 0; i < slots.length; i++) {
      var input = doc.getElementById(slots[i].getAttribute("data-issues-for"));
      if (!input) continue;
      if (slots[i].querySelector(".issue-error")) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  // --- inside a shop's iframe ---------------------------------------------------------------

  // A shop that is not on the list sees why, in the frame and (through the loader) in its
  // console. Only this fixed message goes to a parent that was not checked.
  var refused = doc.querySelector("[data-refused-origin]");
  if (refused && window.parent !== window) {
    window.parent.postMessage(
      { source: "proofmark", type: "proofmark:refused", message: refused.getAttribute("data-refused-message") },
      "*"
    );
  }

  var meta = doc.querySelector('meta[name="proofmark-embed-origin"]');
  var parentOrigin = meta ? meta.getAttribute("content") : "";
  if (!parentOrigin || window.parent === window) return;

  function post(message) {
    message.source = "proofmark";
    // targetOrigin: the browser delivers this only if the parent really is that shop.
    window.parent.postMessage(message, parentOrigin);
  }

  var root = doc.querySelector("[data-embed-root]") || doc.body;
  var lastHeight = 0;
  function reportHeight(force) {
    var rect = doc.body.getBoundingClientRect();
    var height = Math.ceil(rect.height);
    if (force || Math.abs(height - lastHeight) > 1) {
      lastHeight = height;
      post({ type: "proofmark:resize", height: height });
    }
  }
  if (window.ResizeObserver) new ResizeObserver(function () { reportHeight(false); }).observe(doc.body);
  window.addEventListener("load", function () { reportHeight(true); });
  doc.addEventListener("htmx:afterSettle", function () { reportHeight(false); });
  reportHeight(true);

  window.addEventListener("message", function (event) {
    if (event.origin !== parentOrigin || event.source !== window.parent) return;
    var data = event.data;
    if (!data || data.source !== "proofmark-host") return;
    if (data.type === "proofmark:hello") reportHeight(true);
    else if (data.type === "proofmark:theme") applyTheme(data.theme || {});
    else if (data.type === "proofmark:viewport") followViewport(Number(data.hidden) || 0);
  });

  // The shop's look for this embed (the loader's data-* attributes or --proofmark-* custom
  // properties): only plain colours, a font-family list, a length and an image on the shop's
  // own origin are taken; anything else is ignored.
  var COLOUR = /^(#[0-9a-fA-F]{3,8}|rgba?\([0-9., %]+\)|hsla?\([0-9., %deg]+\)|[a-zA-Z]{3,20})$/;
  var FONT = /^[a-zA-Z0-9 ,"'-]{1,120}$/;
  var LENGTH = /^[0-9]{1,3}(\.[0-9]+)?(px|rem|em)$/;
  function applyTheme(theme) {
    var style = doc.documentElement.style;
    if (COLOUR.test(theme.accent || "")) style.setProperty("--accent", theme.accent);
    if (COLOUR.test(theme.ink || "")) style.setProperty("--ink", theme.ink);
    if (COLOUR.test(theme.background || "")) {
      style.setProperty("--bg", theme.background);
      doc.body.style.background = theme.background;
    }
    if (FONT.test(theme.font || "")) style.setProperty("--chrome-font", theme.font);
    if (LENGTH.test(theme["button-radius"] || "")) style.setProperty("--button-radius", theme["button-radius"]);
    var logo = theme.logo || "";
    var slot = doc.querySelector("[data-embed-logo]");
    if (logo && slot) {
      try {
        if (new URL(logo).origin !== parentOrigin) return;
      } catch (error) {
        return;
      }
      var img = slot.querySelector("img") || doc.createElement("img");
      img.src = logo;
      img.alt = "";
      img.className = "embed-logo";
      slot.appendChild(img);
      slot.hidden = false;
    }
  }

  // On a phone the iframe is as tall as its content, so the shop's page scrolls: the loader
  // says how much of the iframe is above the screen and the preview follows (like the demo
  // shop's sticky preview), within the personalizer.
  var column = doc.querySelector(".pz-preview-col");
  var narrow = window.matchMedia("(max-width: 760px)");
  var hiddenAbove = 0;
  function followViewport(hidden) {
    hiddenAbove = hidden;
    if (!column) return;
    if (!narrow.matches) {
      column.style.transform = "";
      column.classList.remove("is-following");
      return;
    }
    column.style.transform = "";
    var top = column.getBoundingClientRect().top + window.scrollY;
    var form = doc.getElementById("pz-form");
    var end = form ? form.getBoundingClientRect().bottom + window.scrollY : top;
    var shift = Math.max(0, Math.min(hidden - top, end - top - column.offsetHeight));
    column.style.transform = shift ? "translateY(" + Math.round(shift) + "px)" : "";
    column.classList.toggle("is-following", shift > 0);
  }

  doc.addEventListener("focusin", function (event) {
    var input = event.target;
    if (!column || !narrow.matches || !input.matches || !input.matches("[data-pz-text]")) return;
    var rect = input.getBoundingClientRect();
    var line = closest(input, ".pz-line") || input;
    var box = line.getBoundingClientRect();
    var stage = doc.getElementById("pz-stage");
    post({
      type: "proofmark:reveal",
      top: Math.round(box.top + window.scrollY),
      bottom: Math.round(rect.bottom + window.scrollY),
      preview: Math.round((stage || column).getBoundingClientRect().height)
    });
    followViewport(hiddenAbove);
  });

  var confirmed = root.getAttribute("data-confirmed-token") ? root : doc.querySelector("[data-confirmed-token]");
  if (confirmed) {
    post({
      type: "proofmark:confirmed",
      token: confirmed.getAttribute("data-confirmed-token"),
      preview_url: confirmed.getAttribute("data-preview-url"),
      thumbnail_url: confirmed.getAttribute("data-thumbnail-url"),
      summary: confirmed.getAttribute("data-summary"),
      product: confirmed.getAttribute("data-product")
    });
  } else {
    post({ type: "proofmark:ready" });
    // Once the shopper edits again, a design confirmed earlier no longer matches the screen.
    // Told at every edit, not once: after confirming, the browser's Back button can bring
    // this page back from its cache with its script state, and a suggested font switches the
    // picker with a "change" event only; the loader's clearing is idempotent.
    var editing = function () { post({ type: "proofmark:editing" }); };
    doc.addEventListener("input", editing);
    doc.addEventListener("change", editing);
  }
})();
