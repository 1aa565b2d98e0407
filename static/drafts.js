/* Keeps what a person types in a form's text areas in this browser (localStorage), so a form
   refused because the session expired (CSRF) or the database was busy loses nothing: after logging
   in again and coming back (?next=), the text is put back. A draft whose form was submitted is
   dropped on the next page unless that page says the submission failed (data-keep-drafts). */
(function () {
  "use strict";
  var PREFIX = "draft:";
  function key(area) {
    var form = area.form;
    return PREFIX + location.pathname + "|" + (form ? form.getAttribute("action") || "" : "") + "|" + area.name;
  }
  function read(k) {
    try { return JSON.parse(localStorage.getItem(k)); } catch (e) { return null; }
  }
  function write(k, value) {
    try { localStorage.setItem(k, JSON.stringify(value)); } catch (e) { /* storage full or off */ }
  }
  function allKeys() {
    var out = [];
    for (var i = 0; i < localStorage.length; i++) {
      var k = localStorage.key(i);
      if (k && k.indexOf(PREFIX) === 0) out.push(k);
    }
    return out;
  }
  function start() {
    var keep = document.body.hasAttribute("data-keep-drafts");
    allKeys().forEach(function (k) {
      var d = read(k);
      if (!d || !d.text) { localStorage.removeItem(k); return; }
      if (d.submitted) {
        if (keep) { d.submitted = false; write(k, d); } else { localStorage.removeItem(k); }
      }
    });
    var areas = document.querySelectorAll("form[method=post] textarea[name]");
    Array.prototype.forEach.call(areas, function (area) {
      var k = key(area), d = read(k);
      if (d && d.text && !d.submitted && !area.value.trim()) {
        area.value = d.text;
        area.dispatchEvent(new Event("input", {bubbles: true}));  // the composer recounts
        var note = document.createElement("p");
        note.className = "draft-note";
        note.setAttribute("role", "status");
        note.textContent = "已恢复您上次未提交成功的内容，请核对后再提交。";
        area.parentNode.insertBefore(note, area);
      }
      area.addEventListener("input", function () {
        if (area.value.trim()) write(k, {text: area.value, at: Date.now(), submitted: false});
        else localStorage.removeItem(k);
      });
      if (area.form) {
        area.form.addEventListener("submit", function () {
          if (area.value.trim()) write(k, {text: area.value, at: Date.now(), submitted: true});
        });
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
