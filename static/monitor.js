// 舆情监测台: new alerts arrive over Server-Sent Events and are added to the feed without a reload.
// The server ends each stream after a while; EventSource reconnects by itself with Last-Event-ID.
(function () {
  "use strict";
  // 全选: ticks every alert checkbox that belongs to the bulk form (form="bulk-ack").
  var all = document.querySelector("[data-check-all]");
  if (all) {
    all.addEventListener("change", function () {
      var boxes = document.querySelectorAll("input[name=ids][form='" + all.getAttribute("data-check-all") + "']");
      Array.prototype.forEach.call(boxes, function (b) { b.checked = all.checked; });
    });
  }
  var feed = document.getElementById("alert-feed");
  if (!feed || !window.EventSource) { return; }
  var state = document.getElementById("live-state");
  var counter = document.getElementById("alert-count");
  var empty = document.getElementById("alert-empty");
  var bulk = document.getElementById("bulk-ack");
  var token = document.querySelector("meta[name=csrf-token]").getAttribute("content");
  var source = new EventSource(feed.getAttribute("data-stream"));

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }  // text only: alert messages quote untrusted posts
    return node;
  }

  function addAlert(a) {
    if (feed.querySelector("li[data-id='" + a.id + "']")) { return; }
    var li = el("li", {"class": "sev " + a.severity + " fresh", "data-id": String(a.id)});
    li.appendChild(el("input", {type: "checkbox", name: "ids", value: String(a.id), form: "bulk-ack",
                                "aria-label": "选择预警 #" + a.id}));
    li.appendChild(el("span", {"class": "sevname"}, a.severity_name));
    li.appendChild(el("b", {}, a.at));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(a.url ? el("a", {href: a.url}, a.message) : el("span", {}, a.message));
    var form = el("form", {method: "post", action: a.ack_url, "class": "inline"});
    form.appendChild(el("input", {type: "hidden", name: "csrf_token", value: token}));
    form.appendChild(el("button", {type: "submit", "class": "small"}, "确认"));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(form);
    feed.insertBefore(li, feed.firstChild);
    if (empty) { empty.hidden = true; }
    if (bulk) { bulk.hidden = false; }
    if (counter) { counter.textContent = String(parseInt(counter.textContent, 10) + 1); }
  }

  source.addEventListener("alert", function (e) { addAlert(JSON.parse(e.data)); });
  source.onopen = function () { state.textContent = "实时更新中"; state.className = ""; };
  source.onerror = function () { state.textContent = "连接中断，正在重连…"; state.className = "bad"; };
})();
