// Client-side search of the index page. Static and dependency-free so that the site
// works when opened from file:// (no fetch of a JSON index, which file:// forbids):
// every entry carries its searchable text in a data-search attribute.
(function () {
  "use strict";
  var input = document.getElementById("search");
  var count = document.getElementById("count");
  var empty = document.getElementById("empty");
  var items = Array.prototype.slice.call(document.querySelectorAll("li[data-search]"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.tag"));

  // "return_orders" (Python) and "return-orders" (URL) find the same operation.
  function normalise(text) {
    return text.toLowerCase().replace(/[_-]+/g, "-");
  }

  items.forEach(function (item) {
    item.searchText = normalise(item.getAttribute("data-search"));
  });

  function filter() {
    var words = normalise(input.value).split(/\s+/).filter(Boolean);
    var shown = {};
    items.forEach(function (item) {
      var match = words.every(function (word) { return item.searchText.indexOf(word) !== -1; });
      item.hidden = !match;
      if (match) { shown[item.getAttribute("data-slug")] = true; }
    });
    sections.forEach(function (section) {
      section.hidden = !section.querySelector("li:not([hidden])");
    });
    var total = Object.keys(shown).length;
    count.textContent = total + (total === 1 ? " operation" : " operations");
    empty.hidden = total !== 0;
  }

  function fromHash() {
    var hash = window.location.hash;
    if (hash.indexOf("#q=") === 0) {
      input.value = decodeURIComponent(hash.slice(3));
    }
  }

  input.addEventListener("input", function () {
    filter();
    try {
      history.replaceState(null, "", "#q=" + encodeURIComponent(input.value));
    } catch (error) {
      // some browsers refuse history changes on file:// pages; the search still works
    }
  });
  window.addEventListener("hashchange", function () { fromHash(); filter(); });
  fromHash();
  filter();
}());
