// The card page: its sections are HTMX fragments that answer a form with the section again.
// A refused form (422 field errors, 409 a version conflict) is such an answer too, so it is
// swapped in like a success, where htmx would drop any 4xx by default.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 422 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
