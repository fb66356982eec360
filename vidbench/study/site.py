"""The study page: stylesheet and script (inlined into ``index.html`` by :mod:`vidbench.study.build`).

The page needs no server and no external resource: every trial is a ``<template>`` (its videos load only when the
trial is shown), the trial order and the study id are an inline JSON block, and the script is inline. It records one
choice per trial, blocks answering until every video of the trial can play (``readyState >= 2``), offers the result
as a JSON download at the end and, when served over http(s) by ``vidbench study serve``, POSTs it to ``submit``.
"""

STUDY_CSS = """
.vb-study{max-width:1100px}
.vb-question{font-size:18px;font-weight:600;margin:8px 0 12px}
.vb-progress{height:8px;background:#e6e6e6;border-radius:4px;overflow:hidden;margin:6px 0}
.vb-progress>div{height:100%;width:0;background:#2f6fd6;transition:width .15s}
.vb-count{color:#444;margin:2px 0 8px;font-variant-numeric:tabular-nums}
#vb-stage .vb-sbs{justify-content:center;gap:48px}
#vb-stage .vb-panel h4{text-align:center;font-size:15px}
.vb-buttons{display:flex;justify-content:center;gap:48px;margin:14px 0}
.vb-buttons button,.vb-study button{font-size:16px;padding:8px 18px;cursor:pointer}
.vb-buttons button:disabled{opacity:.45;cursor:default}
.vb-status{text-align:center;color:#8a5a00;min-height:1.4em}
[data-state=ok]{color:#11663a} [data-state=error]{color:#a11}
.vb-keys kbd{border:1px solid #bbb;border-bottom-width:2px;border-radius:3px;padding:0 5px;font-size:13px}
"""

STUDY_JS = r"""
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("vb-study-data").textContent);
  var RATER_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
  var st = {rater: null, pos: -1, answers: [], startedAt: null, shownAt: 0, ready: false, finished: false,
            result: null, submitted: false};
  function $(id) { return document.getElementById(id); }
  function setState(s) { document.body.setAttribute("data-vb-state", s); }
  function randomId() {
    var a = new Uint8Array(4);
    crypto.getRandomValues(a);
    return "r-" + Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function setButtons(on) { $("vb-left").disabled = !on; $("vb-right").disabled = !on; }
  function start() {
    if (st.rater !== null) return;
    var r = $("vb-rater").value.trim() || randomId();
    if (!RATER_RE.test(r)) { $("vb-rater-msg").textContent = "Use 1-64 letters, digits, _ or -."; return; }
    st.rater = r;
    st.startedAt = new Date().toISOString();
    $("vb-intro").hidden = true;
    $("vb-trial").hidden = false;
    setState("trial");
    show(0);
  }
  function show(pos) {
    st.pos = pos;
    st.ready = false;
    setButtons(false);
    var id = S.order[pos];
    var stage = $("vb-stage");
    stage.replaceChildren(document.getElementById("tpl-" + id).content.cloneNode(true));
    stage.setAttribute("data-trial", id);
    $("vb-count").textContent = "Pair " + (pos + 1) + " of " + S.order.length;
    $("vb-bar").style.width = (100 * pos / S.order.length) + "%";
    var vids = Array.prototype.slice.call(stage.querySelectorAll("video"));
    var check = function () {
      if (st.pos !== pos || st.ready) return;
      if (vids.every(function (v) { return v.readyState >= 2; })) {
        st.ready = true;
        st.shownAt = performance.now();
        setButtons(true);
        $("vb-status").textContent = "";
        stage.setAttribute("data-ready", "1");
      } else {
        $("vb-status").textContent = "loading videos\u2026";
      }
    };
    stage.setAttribute("data-ready", "0");
    vids.forEach(function (v) {
      v.addEventListener("loadeddata", check);
      v.addEventListener("canplay", check);
      v.addEventListener("error", function () {
        $("vb-status").textContent = "A video could not be played in this browser; please tell the study organiser.";
      }, true);
      var p = v.play();
      if (p && p.catch) p.catch(function () {});
    });
    check();
  }
  function choose(side) {
    if (!st.ready || st.finished || st.rater === null) return;
    st.ready = false;
    st.answers.push({trial: S.order[st.pos], choice: side,
                     rt_ms: Math.max(0, Math.round(performance.now() - st.shownAt)), position: st.pos});
    if (st.pos + 1 < S.order.length) show(st.pos + 1); else finish();
  }
  function finish() {
    st.finished = true;
    $("vb-bar").style.width = "100%";
    $("vb-stage").replaceChildren();
    st.result = {schema: S.result_schema, study_id: S.study_id, rater_id: st.rater, started_at: st.startedAt,
                 finished_at: new Date().toISOString(),
                 client: {origin: location.protocol === "file:" ? "file" : "http",
                          user_agent: navigator.userAgent.slice(0, 500)},
                 answers: st.answers};
    $("vb-trial").hidden = true;
    $("vb-done").hidden = false;
    $("vb-answered").textContent = String(st.answers.length);
    setState("done");
    submit();
  }
  function submit() {
    var msg = $("vb-submit-status");
    if (location.protocol === "file:") {
      msg.textContent = "Opened from a file: download your results and send the file to the study organiser.";
      msg.setAttribute("data-state", "file");
      return;
    }
    if (st.submitted) return;
    msg.textContent = "Submitting\u2026";
    msg.setAttribute("data-state", "pending");
    fetch("submit", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(st.result)})
      .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, j: j}; }); })
      .then(function (x) {
        if (x.ok) {
          st.submitted = true;
          $("vb-resubmit").hidden = true;
          msg.textContent = "Submitted, thank you (stored as " + x.j.stored + ").";
          msg.setAttribute("data-state", "ok");
        } else {
          msg.textContent = "Not accepted: " + (x.j.error || "error") + ". Please download your results.";
          msg.setAttribute("data-state", "error");
          $("vb-resubmit").hidden = false;
        }
      })
      .catch(function () {
        msg.textContent = "Could not reach the study server; please download your results.";
        msg.setAttribute("data-state", "error");
        $("vb-resubmit").hidden = false;
      });
  }
  function download() {
    if (!st.result) return;
    var blob = new Blob([JSON.stringify(st.result, null, 2)], {type: "application/json"});
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "vidbench-study-" + S.study_id + "-" + st.rater + ".json";
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 2000);
  }
  document.addEventListener("keydown", function (e) {
    if (e.repeat || e.altKey || e.ctrlKey || e.metaKey) return;
    if (!$("vb-intro").hidden) {
      if (e.key === "Enter") { e.preventDefault(); start(); }
      return;
    }
    if (st.finished) {
      if (e.key === "d" || e.key === "D") { e.preventDefault(); download(); }
      return;
    }
    if (e.key === "ArrowLeft" || e.key === "1") { e.preventDefault(); choose("left"); }
    else if (e.key === "ArrowRight" || e.key === "2") { e.preventDefault(); choose("right"); }
  });
  $("vb-start").addEventListener("click", start);
  $("vb-left").addEventListener("click", function () { choose("left"); });
  $("vb-right").addEventListener("click", function () { choose("right"); });
  $("vb-download").addEventListener("click", download);
  $("vb-resubmit").addEventListener("click", submit);
  window.addEventListener("beforeunload", function (e) {
    if (st.rater !== null && !st.finished) { e.preventDefault(); e.returnValue = ""; }
  });
  setState("intro");
})();
"""
