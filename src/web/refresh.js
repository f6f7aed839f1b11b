// Reloads a page whose element carries data-refresh="SECONDS" (the day board, the
// waiting-room screen), unless someone is typing in a field: an enhancement only (the pages
// work, unrefreshed, without it).
(function () {
  var marked = document.querySelector("[data-refresh]");
  if (!marked) { return; }
  var seconds = parseInt(marked.getAttribute("data-refresh"), 10) || 20;
  setInterval(function () {
    var active = document.activeElement;
    var typing = active && (active.tagName === "INPUT" || active.tagName === "SELECT" || active.tagName === "TEXTAREA");
    if (!typing) { window.location.reload(); }
  }, seconds * 1000);
})();
