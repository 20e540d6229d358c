/* Esattoria: the upload page of liste di carico (templates/carichi/carico_upload.html).
 *
 * A drop zone around the normal file input: dropping a file puts it in the input (the form then posts it
 * as usual), and the chosen file's name and size are announced. Works without this script too (the input
 * stays a plain file input). CSP: no inline code; this file is loaded with <script src>.
 */
(function () {
  "use strict";

  function describe(file) {
    var size = file.size >= 1048576 ? (file.size / 1048576).toFixed(1).replace(".", ",") + " MB"
      : Math.max(1, Math.round(file.size / 1024)) + " KB";
    return "File scelto: " + file.name + " (" + size + ")";
  }

  function setup(zone) {
    var input = zone.querySelector('input[type="file"]');
    var label = zone.querySelector("[data-dropzone-name]");
    if (!input) { return; }

    function show() {
      if (label) { label.textContent = input.files && input.files.length ? describe(input.files[0]) : ""; }
    }
    function highlight(on) {
      zone.classList.toggle("border-primary", on);
      zone.classList.toggle("border-3", on);
      zone.classList.toggle("bg-light", !on);
    }

    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (e) {
        e.preventDefault();
        if (e.dataTransfer) { e.dataTransfer.dropEffect = "copy"; }
        highlight(true);
      });
    });
    ["dragleave", "dragend"].forEach(function (name) {
      zone.addEventListener(name, function (e) {
        if (!zone.contains(e.relatedTarget)) { highlight(false); }
      });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      highlight(false);
      var files = e.dataTransfer ? e.dataTransfer.files : null;
      if (!files || !files.length) { return; }
      if (files.length > 1) {
        if (label) { label.textContent = "Trascina un solo file alla volta."; }
        return;
      }
      input.files = files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  document.querySelectorAll("[data-dropzone]").forEach(setup);
})();
