/* Names the search box Select2 draws inside each autocomplete field after the field's label, which
   Select2 leaves unnamed for screen readers (WCAG 4.1.2). No inline script: loaded as a static file. */
(function () {
  "use strict";
  function name(root) {
    root.querySelectorAll(".select2-search__field:not([aria-label])").forEach(function (box) {
      var container = box.closest(".select2-container");
      var select = container && container.previousElementSibling;
      var label = select && select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
      box.setAttribute("aria-label", "Search " + (label ? label.textContent.replace(/:$/, "").trim() : "options"));
    });
  }
  function start() {
    name(document);
    new MutationObserver(function () { name(document); }).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
