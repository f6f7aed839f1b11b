// Reloads the day board every data-refresh seconds, unless someone is typing in a field or
// a form is being sent: an enhancement only (the board works, unrefreshed, without it).
(function () {
  var board = document.getElementById("board");
  if (!board) { return; }
  var seconds = parseInt(board.getAttribute("data-refresh"), 10) || 20;
  setInterval(function () {
    var active = document.activeElement;
    var typing = active && (active.tagName === "INPUT" || active.tagName === "SELECT" || active.tagName === "TEXTAREA");
    if (!typing) { window.location.reload(); }
  }, seconds * 1000);
})();
