// mmlite console: refreshes the parts of a page marked data-live="URL"
// every two seconds, until the server says the part is final
// (X-Console-Final). Pages work without it (they refresh themselves in a
// <noscript>). A part that holds the keyboard focus is left alone until
// the focus leaves it, so that the buttons do not move under the user.
(function () {
  "use strict";
  var every = 2000;
  function poll(el) {
    var url = el.getAttribute("data-live");
    var timer = setInterval(function () {
      if (el.contains(document.activeElement)) { return; }
      fetch(url, { headers: { "X-Console-Poll": "1" }, credentials: "same-origin" }).then(function (resp) {
        if (!resp.ok) { clearInterval(timer); return null; }
        if (resp.headers.get("X-Console-Final") === "1") {
          clearInterval(timer);
          // The rest of the page (what only a final campaign shows) follows.
          // The flash of an action done before is not repeated: the page
          // cleared its cookie when it showed it.
          if (el.getAttribute("data-final") === "reload") {
            window.location.replace(window.location.href);
            return null;
          }
        }
        return resp.text();
      }).then(function (html) {
        if (html !== null && html !== undefined && !el.contains(document.activeElement)) { el.innerHTML = html; }
      }).catch(function () { /* the next tick tries again */ });
    }, every);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live]").forEach(poll);
  });
})();
