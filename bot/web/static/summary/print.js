// The appointment summary's "Print or save as PDF" button: shown only when this script runs (without it the
// browser's own Print menu still works, and the print layout is the same).
(function () {
  "use strict";
  var actions = document.getElementById("actions");
  var button = document.getElementById("print-button");
  if (!actions || !button) return;
  button.addEventListener("click", function () {
    window.print();
  });
  actions.hidden = false;
})();
