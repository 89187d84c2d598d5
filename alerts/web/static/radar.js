// policy-radar: the one bit of script the pages use (the pages work without it).
// "只看有变化的条目" on the compare page hides the rows of unchanged tasks.
(function () {
  var box = document.getElementById("only-changed");
  if (!box) return;
  var side = document.getElementById(box.getAttribute("data-target"));
  box.addEventListener("change", function () {
    side.classList.toggle("only-changed", box.checked);
  });
})();
