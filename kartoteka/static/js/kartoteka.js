// Small enhancements of server-rendered pages. Every page also works without this file.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var target = event.target;
    // Language select in the top bar submits itself.
    if (target.matches("select[data-autosubmit]")) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
    // "Remove" on a contact row hides the row; the ticked DELETE box removes it on save.
    if (target.matches("[data-contact-row] input[name$='-DELETE']")) {
      target.closest("[data-contact-row]").classList.toggle("contact-row-removed", target.checked);
    }
    // Named events for hx-trigger, in place of htmx's `change[...]` filters, which htmx
    // evaluates as code and the Content-Security-Policy (no eval) forbids.
    var form = target.form;
    if (form && form.hasAttribute("data-change-event")) {
      var ignored = (form.getAttribute("data-change-ignore") || "").split(" ");
      if (ignored.indexOf(target.name) === -1) fire(form, form.getAttribute("data-change-event"));
    }
    if (form && target.matches("[data-dup-probe]")) fire(form, "dup-probe-change");
  });

  function fire(element, name) {
    element.dispatchEvent(new CustomEvent(name, { bubbles: true }));
  }

  // A button or link with data-confirm asks first (instead of an inline onclick="confirm()").
  document.addEventListener(
    "click",
    function (event) {
      var asking = event.target.closest("[data-confirm]");
      if (asking && !window.confirm(asking.getAttribute("data-confirm"))) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-formset-add]");
    if (add) {
      event.preventDefault();
      addFormsetRow(add.getAttribute("data-formset-add"));
      return;
    }
    var kindLink = event.target.closest("[data-kind-switch] a[data-kind]");
    if (kindLink) {
      var form = document.getElementById("client-form");
      if (form) {
        event.preventDefault();
        switchKind(form, kindLink.getAttribute("data-kind"));
      }
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.getAttribute("data-copy"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim());
        copy.classList.add("copied");
      }
      return;
    }
    // Close an open drop-down menu when clicking elsewhere.
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  function addFormsetRow(prefix) {
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById("contact-empty-row");
    var rows = document.getElementById("contact-rows");
    if (!total || !template || !rows) return;
    var index = parseInt(total.value, 10) || 0;
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    if (window.htmx) window.htmx.process(row);
    var value = row.querySelector("input[name$='-value']");
    if (value) value.focus();
  }

  function switchKind(form, kind) {
    var input = form.querySelector("input[name='kind']");
    if (input) input.value = kind;
    form.querySelectorAll("[data-kind-section]").forEach(function (section) {
      section.hidden = section.getAttribute("data-kind-section") !== kind;
    });
    document.querySelectorAll("[data-kind-switch] a[data-kind]").forEach(function (link) {
      if (link.getAttribute("data-kind") === kind) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
    var url = new URL(window.location.href);
    url.searchParams.set("kind", kind);
    window.history.replaceState(null, "", url);
  }
})();
