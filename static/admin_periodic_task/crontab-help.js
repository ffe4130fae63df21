// The periodic task form's crontab translation (django-celery-beat), without inline script.
"use strict";
(function () {
  function start() {
    var $ = window.django && window.django.jQuery;
    var crontabs = document.getElementById("readable-crontabs");
    var help = document.getElementById("crontab-help-text");
    if (!$ || !crontabs || !help) {
      return;
    }
    var readable = JSON.parse(crontabs.textContent);
    var original = JSON.parse(help.textContent);
    $(".field-crontab_translation").hide();
    $(".field-crontab").change(function () {
      var node = document.querySelector(".field-crontab .help");
      if (!node) {
        return;
      }
      var translation = readable[$("#id_crontab").val()] || "";
      node.textContent = "";
      node.appendChild(document.createTextNode(original));
      node.appendChild(document.createElement("br"));
      node.appendChild(document.createTextNode("Translation: " + translation));
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
