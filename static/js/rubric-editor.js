// The rubric editor: a problem's "line N" link selects that line in the text, so it is fixed where it is named.
(function () {
  "use strict";
  var source = document.getElementById("source");
  var problems = document.getElementById("problems");
  if (!source || !problems) return;
  problems.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-line]");
    if (!link) return;
    event.preventDefault();
    var lines = source.value.split("\n"), wanted = parseInt(link.dataset.line, 10) - 1, start = 0;
    for (var i = 0; i < wanted && i < lines.length; i++) start += lines[i].length + 1;
    var end = start + (lines[wanted] || "").length;
    source.focus();
    source.setSelectionRange(start, end);
    var lineHeight = source.scrollHeight / Math.max(lines.length, 1);
    source.scrollTop = Math.max(0, wanted * lineHeight - source.clientHeight / 3);
  });
})();
