/* The reply composer: fills a template, checks as you type (the server's own check), holds the
   edit lock while you write. Everything also works without it: the server checks on submit. */
(function () {
  "use strict";
  var form = document.getElementById("composer-form");
  if (!form) return;
  var text = document.getElementById("reply-text");
  var picker = document.getElementById("template-picker");
  var list = document.getElementById("reply-checks");
  var note = document.getElementById("approval-note");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var lockedAt = 0, timer = null;

  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body || {}),
                       headers: {"Content-Type": "application/json", "X-CSRFToken": csrf}});
  }

  function item(cls, message) {
    var li = document.createElement("li");
    li.className = cls;
    li.textContent = message;
    return li;
  }

  // Renewed at most once a minute while the person types; the lock lasts 15 minutes.
  function holdLock() {
    if (Date.now() - lockedAt < 60000) return;
    lockedAt = Date.now();
    post(form.dataset.lockUrl).then(function (r) { return r.json(); }).then(function (j) {
      if (!j.ok) {
        text.readOnly = true;
        list.replaceChildren(item("error", j.message));
      }
    });
  }

  // The server counts characters (code points), the textarea UTF-16 units: they differ after an emoji.
  function unit16(offset) { return Array.from(text.value).slice(0, offset).join("").length; }

  function render(findings) {
    if (!findings.length) { list.replaceChildren(item("ok", "校对通过：未发现错敏词，必备要素齐全")); return; }
    list.replaceChildren.apply(list, findings.map(function (f) {
      var li = item(f.severity, f.message + (f.start !== null ? "（第 " + (f.start + 1) + " 字）" : ""));
      if (f.start !== null) {
        var select = function () { text.focus(); text.setSelectionRange(unit16(f.start), unit16(f.end)); };
        li.title = "点击定位";
        li.tabIndex = 0;
        li.addEventListener("click", select);
        li.addEventListener("keydown", function (e) { if (e.key === "Enter") select(); });
      }
      if (f.suggestion) {
        var fix = document.createElement("button");
        fix.type = "button";
        fix.className = "fix";
        fix.textContent = "改为“" + f.suggestion + "”";
        fix.addEventListener("click", function (e) {
          e.stopPropagation();
          text.value = text.value.slice(0, unit16(f.start)) + f.suggestion + text.value.slice(unit16(f.end));
          check(0);
        });
        li.appendChild(fix);
      }
      return li;
    }));
  }

  function check(delay) {
    clearTimeout(timer);
    timer = setTimeout(function () {
      post(form.dataset.checkUrl, {text: text.value}).then(function (r) { return r.json(); })
        .then(function (j) { render(j.findings); note.textContent = j.approval || ""; });
    }, delay === undefined ? 300 : delay);
  }

  // The live count against the channel's limit (a Weibo comment: 140), in characters as the
  // server counts them, with the way out when the reply is longer.
  var counter = document.getElementById("reply-count");
  function count() {
    if (!counter) return;
    var n = Array.from(text.value).length, limit = parseInt(text.dataset.limit || "0", 10);
    var words = "已输入 " + n + " 字";
    if (limit) {
      words += " / " + text.dataset.channel + "每条最多 " + limit + " 字";
      if (n > limit) words += "：超出 " + (n - limit) + " 字，发送时可分条发布，或改为短回复并附全文链接";
    }
    counter.textContent = words;
    counter.classList.toggle("over", limit > 0 && n > limit);
  }
  count();

  text.addEventListener("input", function () { holdLock(); check(); count(); });
  picker.addEventListener("change", function () {
    var option = picker.selectedOptions[0];
    if (!option || !option.dataset.body) return;
    if (text.value.trim() && text.value !== option.dataset.body && !window.confirm("用所选口径替换当前内容？")) return;
    text.value = option.dataset.body;
    holdLock();
    check(0);
    count();
    var at = text.value.indexOf("【请填写");
    text.focus();
    if (at >= 0) text.setSelectionRange(at, text.value.indexOf("】", at) + 1);
  });
})();
