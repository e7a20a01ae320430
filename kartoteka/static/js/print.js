// The printable card: its "Print" button opens the browser's print dialog (no inline script
// under the Content-Security-Policy).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      window.print();
    }
  });
})();
