// Sorting for every table.sortable and filtering for the findings table. Plain ES5, no
// dependencies, nothing fetched: the report must work from a file on an air-gapped machine.
(function () {
  "use strict";

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) {
      return "";
    }
    var key = cell.getAttribute("data-sort");
    return key !== null ? key : cell.textContent.trim();
  }

  function compare(a, b, numeric) {
    if (numeric) {
      var x = parseFloat(a);
      var y = parseFloat(b);
      x = isNaN(x) ? -Infinity : x;
      y = isNaN(y) ? -Infinity : y;
      return x - y;
    }
    return a.localeCompare(b);
  }

  function makeSortable(table) {
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (header, index) {
      header.setAttribute("tabindex", "0");
      header.setAttribute("aria-sort", "none");
      function sort() {
        var ascending = header.getAttribute("aria-sort") !== "ascending";
        var numeric = header.classList.contains("num");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var order = compare(cellValue(a, index), cellValue(b, index), numeric);
          return ascending ? order : -order;
        });
        Array.prototype.forEach.call(headers, function (other) {
          other.setAttribute("aria-sort", "none");
        });
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        rows.forEach(function (row) {
          body.appendChild(row);
        });
      }
      header.addEventListener("click", sort);
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sort();
        }
      });
    });
  }

  function makeFilterable(table) {
    var text = document.getElementById("filter-text");
    var action = document.getElementById("filter-action");
    var detector = document.getElementById("filter-detector");
    var count = document.getElementById("filter-count");
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    function apply() {
      var query = text.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (row) {
        var visible =
          (!action.value || row.getAttribute("data-action") === action.value) &&
          (!detector.value || row.getAttribute("data-detector") === detector.value) &&
          (!query || row.textContent.toLowerCase().indexOf(query) !== -1);
        row.hidden = !visible;
        if (visible) {
          shown += 1;
        }
      });
      count.textContent = "Showing " + shown + " of " + rows.length;
    }
    text.addEventListener("input", apply);
    action.addEventListener("change", apply);
    detector.addEventListener("change", apply);
    apply();
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
  var findings = document.getElementById("findings");
  if (findings) {
    makeFilterable(findings);
  }
})();
