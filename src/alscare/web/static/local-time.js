// Shows each <time data-local-time datetime="..."> in this device's own time zone, and says so in the caption.
// Progressive enhancement: without scripts the page already shows the clinic's time zone, named in the caption.
(function () {
  "use strict";
  var times = document.querySelectorAll("time[data-local-time]");
  if (!times.length || typeof Intl === "undefined" || !Intl.DateTimeFormat) {
    return;
  }
  var format = new Intl.DateTimeFormat(undefined, {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit"
  });
  for (var i = 0; i < times.length; i++) {
    var at = new Date(times[i].getAttribute("datetime"));
    if (!isNaN(at.getTime())) {
      times[i].textContent = format.format(at);
    }
  }
  var caption = document.querySelector("caption[data-local-caption]");
  if (caption) {
    caption.textContent = caption.getAttribute("data-local-caption");
  }
})();
