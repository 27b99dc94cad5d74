// Small behaviours shared by every page. Everything works without them
// except copying to the clipboard and opening dialogs.
(function () {
  "use strict";

  // announce tells screen readers what just happened, politely.
  function announce(message) {
    var region = document.getElementById("announce");
    if (!region) return;
    region.textContent = "";
    setTimeout(function () { region.textContent = message; }, 50);
  }

  function copyText(text, button) {
    var done = function () {
      var label = button.textContent;
      announce("Copied");
      button.textContent = "Copied";
      button.classList.add("copied");
      setTimeout(function () {
        button.textContent = label;
        button.classList.remove("copied");
      }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
      return;
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    document.body.removeChild(area);
    done();
  }

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var source = document.getElementById(copy.getAttribute("data-copy"));
      if (source) {
        var field = source.tagName === "INPUT" || source.tagName === "TEXTAREA";
        copyText(field ? source.value : source.textContent.trim(), copy);
      }
      return;
    }
    var open = event.target.closest("[data-dialog-open]");
    if (open) {
      var dialog = document.getElementById(open.getAttribute("data-dialog-open"));
      if (!dialog) return;
      // A dialog shared by the rows of a list is filled in by the row's
      // button: where its form posts, its title, the name it quotes.
      var form = dialog.querySelector("form");
      if (open.hasAttribute("data-dialog-action") && form) {
        form.setAttribute("action", open.getAttribute("data-dialog-action"));
        form.reset();
        syncAcknowledgements(form);
      }
      if (open.hasAttribute("data-dialog-title")) {
        dialog.querySelector("h2").textContent = open.getAttribute("data-dialog-title");
      }
      if (open.hasAttribute("data-dialog-fill")) {
        dialog.querySelectorAll("[data-fill]").forEach(function (e) { e.textContent = open.getAttribute("data-dialog-fill"); });
      }
      dialog.showModal();
      return;
    }
    var close = event.target.closest("[data-dialog-close]");
    if (close) {
      close.closest("dialog").close();
    }
  });

  // A form marked data-acknowledge keeps its submit button disabled until
  // every required checkbox in it is ticked.
  function syncAcknowledgements(form) {
    var boxes = form.querySelectorAll("input[type=checkbox][required]");
    var ready = Array.prototype.every.call(boxes, function (b) { return b.checked; });
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = !ready; });
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-acknowledge]");
    if (form) syncAcknowledgements(form);
  });
  // A form marked data-busy shows that it is working: a check can take
  // several seconds.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-busy")) return;
    if (form.dataset.submitted) {
      event.preventDefault(); // one check at a time
      return;
    }
    form.dataset.submitted = "true";
    // The button pressed, or every button of the form: a form shared by
    // the rows of a list has its buttons in the rows (their form attribute).
    var pressed = event.submitter ? [event.submitter] : form.querySelectorAll("button[type=submit]");
    Array.prototype.forEach.call(pressed, function (b) {
      // A label that names the row ("Check now acme.test") says the new
      // text too, so that what is heard is what is seen.
      var label = b.getAttribute("aria-label"), text = b.textContent;
      if (label && label.indexOf(text) === 0) b.setAttribute("aria-label", form.getAttribute("data-busy") + label.slice(text.length));
      b.textContent = form.getAttribute("data-busy");
      b.setAttribute("aria-disabled", "true");
      b.classList.add("busy");
    });
  });

  // On narrow screens a table's rows are cards: each cell shows the name
  // of its column, taken from the table's header.
  function labelCells(table) {
    var names = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (names[i] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", names[i]);
      });
    });
  }

  // Times come from the server in UTC; show them in the viewer's own zone,
  // with how far they are from now when that is within weeks, and keep the
  // exact UTC time on hover.
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
  var steps = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  function fromNow(date) {
    var seconds = (date.getTime() - Date.now()) / 1000, abs = Math.abs(seconds);
    if (!relative || abs > 45 * 86400) return "";
    if (abs < 30) return "now";
    for (var i = 0; i < steps.length; i++) {
      // 59 minutes and a half is "in 1 hour", not "in 60 minutes".
      if (abs >= steps[i][1] * 0.975 || i === steps.length - 1) return relative.format(Math.round(seconds / steps[i][1]), steps[i][0]);
    }
    return "";
  }
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime()) || el.hasAttribute("data-local")) return;
      if (!el.title) el.title = el.textContent.trim();
      // The year only when it is not this one: "Dec 1, 1:03 PM UTC".
      var options = { day: "numeric", month: "short", hour: "numeric", minute: "2-digit", timeZoneName: "short" };
      if (date.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
      var shown = date.toLocaleString(undefined, options);
      var rel = fromNow(date);
      el.textContent = rel ? shown + " (" + rel + ")" : shown;
      el.setAttribute("data-local", "");
    });
  }

  function init(root) {
    localTimes(root);
    root.querySelectorAll("form[data-acknowledge]").forEach(syncAcknowledgements);
    if (root.matches && root.matches("table.stack")) labelCells(root);
    root.querySelectorAll("table.stack").forEach(labelCells);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
