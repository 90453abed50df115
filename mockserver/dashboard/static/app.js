// klarna-mock dashboard: live updates. The page's live region (#live, data-src its address) is
// reloaded from the server whenever the tenant's event stream says something changed, at most a
// few times a second. Nothing is rendered here: the server renders and escapes every page, this
// only swaps the region in, keeping the focus where it was.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!live || !window.EventSource || !window.fetch || !window.DOMParser) {
    return;
  }
  var timer = null;
  var busy = false;
  var again = false;

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function reload() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(live.getAttribute("data-src"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (resp) {
        if (!resp.ok) {
          throw new Error("status " + resp.status);
        }
        return resp.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        if (!fresh) {
          return;
        }
        var focused = document.activeElement && live.contains(document.activeElement) ? document.activeElement.id : "";
        var open = [];
        live.querySelectorAll("details[open][id]").forEach(function (d) { open.push(d.id); });
        live.replaceWith(fresh);
        live = fresh;
        open.forEach(function (id) {
          var d = document.getElementById(id);
          if (d) {
            d.open = true;
          }
        });
        if (focused) {
          var el = document.getElementById(focused);
          if (el) {
            el.focus();
          }
        }
        say("Updated at " + new Date().toLocaleTimeString());
      })
      .catch(function () {
        say("Could not update; reload the page.");
      })
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  function schedule() {
    if (timer === null) {
      timer = setTimeout(function () {
        timer = null;
        reload();
      }, 300);
    }
  }

  var stream = new EventSource(live.getAttribute("data-events"));
  stream.addEventListener("change", schedule);
  // On every open, the first included: what changed between the page's rendering (or the
  // stream's loss) and the stream's start reached nobody, so the region is fetched once more.
  stream.addEventListener("open", function () {
    say("Live");
    if (status) {
      status.setAttribute("data-stream", "open");
    }
    schedule();
  });
  stream.addEventListener("error", function () {
    say("Reconnecting…");
    if (status) {
      status.setAttribute("data-stream", "lost");
    }
  });
})();
