/* ecsctl view: draws the payload of <script id="ecsctl-data"> (see payload.py for its rows).
   Instances and tasks go on one canvas per zone (50,000 tasks stay fast); everything else is DOM.
   No network: in live mode (served by `ecsctl view --serve`) it polls ./serial on its own origin. */
(function () {
  "use strict";
  // INSTANCE and TASK row positions: keep in step with payload.py
  var I_ID = 0, I_EC2 = 1, I_TYPE = 2, I_GROUP = 3, I_STATUS = 4, I_AGENT = 5, I_EC2STATE = 6, I_AGENTV = 7,
      I_RCPU = 8, I_RMEM = 9, I_FCPU = 10, I_FMEM = 11, I_ATTR = 12, I_TASKS = 13;
  var T_ID = 0, T_GROUP = 1, T_TD = 2, T_STATUS = 3, T_CPU = 4, T_MEM = 5, T_PORTS = 6, T_IP = 7, T_STARTED = 8, T_LAUNCH = 9;
  var PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f",
                 "#e15759", "#86bcb6", "#8cd17d", "#d4a6c8", "#a0cbe8", "#ffbe7d", "#79706e", "#d37295"];
  var NS = "http://www.w3.org/2000/svg";
  var LEGEND_MAX = 24;               // legend entries; the largest groups first

  var D = null, S = null;          // payload, its string table
  var colour = {};                 // group string index -> colour
  var index = {};                  // id -> {kind, c, z, i, t} (instances, tasks, ec2 ids, IPs)
  var zonesDrawn = [];             // {canvas, kind, zone, cluster, layout}
  var selected = null, highlight = null, tipEl = null;

  // ---- small DOM helpers -------------------------------------------------------------------
  function h(tag, attrs) {
    var el = document.createElement(tag);
    set(el, attrs);
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function s(tag, attrs) {
    var el = document.createElementNS(NS, tag);
    for (var k in attrs || {}) {
      if (attrs[k] === null || attrs[k] === undefined) continue;
      if (k === "text") el.textContent = attrs[k];
      else if (k === "title") { var t = document.createElementNS(NS, "title"); t.textContent = attrs[k]; el.appendChild(t); }
      else el.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function set(el, attrs) {
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v === undefined || v === null) continue;
      if (k === "text") el.textContent = v;
      else if (k === "class") el.className = v;
      else if (k === "style") el.setAttribute("style", v);
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else if (k.slice(0, 5) === "data-") el.setAttribute(k, v);
      else el[k] = v;
    }
  }
  function add(el, kid) {
    if (kid === null || kid === undefined || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { add(el, k); }); return; }
    el.appendChild(typeof kid === "object" ? kid : document.createTextNode(String(kid)));
  }
  function fmt(n) { return Number(n).toLocaleString("en-US"); }
  function plural(n, word) { return fmt(n) + " " + word + (n === 1 ? "" : "s"); }
  function short(id) { return String(id).slice(0, 8); }
  function json(v) { return v === undefined ? "" : JSON.stringify(v); }

  // ---- colours -----------------------------------------------------------------------------
  var coloured = 0;
  function colourOf(g) {
    var c = colour[g];
    if (c === undefined) {
      var n = coloured++;
      c = colour[g] = n < PALETTE.length ? PALETTE[n] : "hsl(" + Math.round((n * 137.508) % 360) + ",52%," + (48 + (n % 3) * 8) + "%)";
    }
    return c;
  }
  var stringIndex = null;          // string -> its index in S, built on first use
  function groupIndex(name) {
    if (stringIndex === null) { stringIndex = new Map(); S.forEach(function (v, i) { if (!stringIndex.has(v)) stringIndex.set(v, i); }); }
    var i = stringIndex.get(name);
    return i === undefined ? -1 : i;
  }

  // ---- the index of everything that can be selected ----------------------------------------
  function buildIndex() {
    index = {};
    D.clusters.forEach(function (c, ci) {
      c.zones.forEach(function (z, zi) {
        z.instances.forEach(function (inst, ii) {
          index[inst[I_ID]] = {kind: "instance", c: ci, z: zi, i: ii};
          if (inst[I_EC2]) index[inst[I_EC2]] = index[inst[I_ID]];
          inst[I_TASKS].forEach(function (t, ti) { index[t[T_ID]] = {kind: "task", c: ci, z: zi, i: ii, t: ti}; });
        });
        z.fargate.forEach(function (t, ti) {
          index[t[T_ID]] = {kind: "task", c: ci, z: zi, i: -1, t: ti};
          if (t[T_IP]) index[t[T_IP]] = index[t[T_ID]];
        });
      });
      c.pending.forEach(function (t, ti) { index[t[T_ID]] = {kind: "task", c: ci, z: -1, i: -2, t: ti}; });
    });
  }
  function taskOf(ref) {
    var c = D.clusters[ref.c];
    if (ref.i === -2) return c.pending[ref.t];
    var z = c.zones[ref.z];
    return ref.i === -1 ? z.fargate[ref.t] : z.instances[ref.i][I_TASKS][ref.t];
  }
  function instanceOf(ref) { return ref.i >= 0 ? D.clusters[ref.c].zones[ref.z].instances[ref.i] : null; }

  // ---- the cluster: one canvas per zone ----------------------------------------------------
  var MODES = {
    big: {w: 250, h: 74, gap: 8, bar: 13, fw: 22, fh: 26},
    mid: {w: 118, h: 38, gap: 5, bar: 10, fw: 5, fh: 14},
    small: {w: 52, h: 18, gap: 3, bar: 6, fw: 2, fh: 8}
  };
  function modeFor(n) { return n <= 48 ? MODES.big : n <= 400 ? MODES.mid : MODES.small; }

  function instanceMarks(inst) {
    var marks = [];
    if (S[inst[I_STATUS]] === "DRAINING") marks.push("DRAINING");
    var ec2 = S[inst[I_EC2STATE]];
    if (ec2 && ec2 !== "running") marks.push(ec2);
    if (!inst[I_AGENT]) marks.push("agent disconnected");
    return marks;
  }

  function layoutInstances(z, width) {
    var m = modeFor(z.instances.length);
    var cols = Math.max(1, Math.floor((width + m.gap) / (m.w + m.gap)));
    var rows = Math.ceil(z.instances.length / cols);
    return {m: m, cols: cols, width: width, height: Math.max(1, rows * (m.h + m.gap))};
  }
  function barsOf(m, x, y) {
    // [cpuBar, memBar] as {x, y, w, h}
    if (m === MODES.big) return [{x: x + 34, y: y + 20, w: m.w - 40, h: m.bar}, {x: x + 34, y: y + 38, w: m.w - 40, h: m.bar}];
    if (m === MODES.mid) return [{x: x + 3, y: y + 14, w: m.w - 6, h: m.bar}, {x: x + 3, y: y + 25, w: m.w - 6, h: m.bar}];
    return [{x: x + 2, y: y + 2, w: m.w - 4, h: m.bar}, {x: x + 2, y: y + 10, w: m.w - 4, h: m.bar}];
  }
  function cellXY(L, i) { return [(i % L.cols) * (L.m.w + L.m.gap), Math.floor(i / L.cols) * (L.m.h + L.m.gap)]; }

  function drawBar(ctx, bar, inst, field, reg, free) {
    ctx.fillStyle = "#eceff3";
    ctx.fillRect(bar.x, bar.y, bar.w, bar.h);
    if (!reg) return;
    var x = bar.x, scale = bar.w / reg, sum = 0;
    inst[I_TASKS].forEach(function (t) {
      var w = t[field] * scale;
      sum += t[field];
      ctx.globalAlpha = highlight === null || highlight === t[T_GROUP] ? 1 : 0.15;
      ctx.fillStyle = colourOf(t[T_GROUP]);
      ctx.fillRect(x, bar.y, Math.max(w, 0.6), bar.h);
      if (w >= 4) { ctx.fillStyle = "#fff"; ctx.fillRect(x + w - 1, bar.y, 1, bar.h); }
      x += w;
    });
    ctx.globalAlpha = 1;
    var other = reg - free - sum;   // reserved by something that is not a task shown here
    if (other > 0) { ctx.fillStyle = "#9aa1ab"; ctx.fillRect(x, bar.y, other * scale, bar.h); }
  }

  function drawInstances(entry) {
    var z = entry.zone, L = entry.layout, m = L.m, ctx = prepare(entry.canvas, L.width, L.height);
    ctx.textBaseline = "alphabetic";
    z.instances.forEach(function (inst, i) {
      var xy = cellXY(L, i), x = xy[0], y = xy[1];
      var status = S[inst[I_STATUS]], ec2 = S[inst[I_EC2STATE]], agent = inst[I_AGENT];
      var off = ec2 && ec2 !== "running";
      ctx.fillStyle = off ? "#e5e7eb" : status === "DRAINING" ? "#fff7e6" : "#fff";
      ctx.fillRect(x, y, m.w, m.h);
      var bars = barsOf(m, x, y);
      ctx.globalAlpha = off ? 0.45 : 1;
      drawBar(ctx, bars[0], inst, T_CPU, inst[I_RCPU], inst[I_FCPU]);
      drawBar(ctx, bars[1], inst, T_MEM, inst[I_RMEM], inst[I_FMEM]);
      ctx.globalAlpha = 1;
      // the frame says the status: orange DRAINING, red dashed agent disconnected, grey stopped
      ctx.lineWidth = status === "DRAINING" || !agent ? 2 : 1;
      ctx.strokeStyle = !agent ? "#c62828" : status === "DRAINING" ? "#d97706" : "#c3c8d1";
      ctx.setLineDash(!agent ? [4, 3] : []);
      ctx.strokeRect(x + 0.5, y + 0.5, m.w - 1, m.h - 1);
      ctx.setLineDash([]);
      if (selected && selected.kind === "instance" && selected.id === inst[I_ID]) {
        ctx.lineWidth = 3; ctx.strokeStyle = "#111827"; ctx.strokeRect(x + 1.5, y + 1.5, m.w - 3, m.h - 3);
      }
      var marks = instanceMarks(inst);
      if (m === MODES.big) {
        ctx.font = "600 10px system-ui, sans-serif";
        var label = marks.join(", "), lw = marks.length ? ctx.measureText(label).width : 0;
        ctx.fillStyle = "#1d2330"; ctx.font = "600 11px system-ui, sans-serif";
        var name = short(inst[I_ID]) + "  " + S[inst[I_TYPE]];
        if (ctx.measureText(name).width + lw + 14 > m.w) name = short(inst[I_ID]);
        ctx.fillText(name, x + 5, y + 14);
        ctx.font = "10px system-ui, sans-serif"; ctx.fillStyle = "#667085";
        ctx.fillText("cpu", x + 5, y + 30); ctx.fillText("mem", x + 5, y + 48);
        var used = inst[I_TASKS].length;
        ctx.fillText(plural(used, "task") + " · " + fmt(inst[I_RCPU] - inst[I_FCPU]) + "/" + fmt(inst[I_RCPU]) + " CPU · "
                     + fmt(inst[I_RMEM] - inst[I_FMEM]) + "/" + fmt(inst[I_RMEM]) + " MiB", x + 5, y + 65);
        if (marks.length) {
          ctx.font = "600 10px system-ui, sans-serif"; ctx.fillStyle = !agent ? "#c62828" : status === "DRAINING" ? "#b45309" : "#4b5563";
          ctx.fillText(label, x + m.w - lw - 5, y + 14);
        }
      } else if (m === MODES.mid) {
        ctx.fillStyle = marks.length ? (!agent ? "#c62828" : "#b45309") : "#374151"; ctx.font = "10px system-ui, sans-serif";
        ctx.fillText(short(inst[I_ID]) + (marks.length ? " " + marks[0] : ""), x + 4, y + 11);
      }
    });
  }

  function hitInstances(entry, px, py) {
    var L = entry.layout, m = L.m;
    var col = Math.floor(px / (m.w + m.gap)), row = Math.floor(py / (m.h + m.gap));
    if (col >= L.cols) return null;
    var i = row * L.cols + col, inst = entry.zone.instances[i];
    if (!inst) return null;
    var xy = cellXY(L, i);
    if (px - xy[0] > m.w || py - xy[1] > m.h) return null;
    var bars = barsOf(m, xy[0], xy[1]);
    for (var b = 0; b < 2; b++) {
      var bar = bars[b], field = b === 0 ? T_CPU : T_MEM, reg = b === 0 ? inst[I_RCPU] : inst[I_RMEM];
      if (py >= bar.y && py < bar.y + bar.h && px >= bar.x && reg) {
        var x = bar.x, scale = bar.w / reg, tasks = inst[I_TASKS];
        for (var t = 0; t < tasks.length; t++) {
          var w = Math.max(tasks[t][field] * scale, 0.6);
          if (px < x + w) return {kind: "task", id: tasks[t][T_ID]};
          x += w;
        }
      }
    }
    return {kind: "instance", id: inst[I_ID]};
  }

  function layoutFargate(z, width) {
    var n = z.fargate.length, m = modeFor(n > 400 ? 1000 : n > 48 ? 100 : 1);
    var rows = [], x = 0, y = 0, row = {y: 0, items: []};
    z.fargate.forEach(function (t, ti) {
      var w = Math.max(2, Math.round(m.fw * Math.max(1, t[T_CPU] / 256)));
      if (x + w > width && row.items.length) { rows.push(row); y += m.fh + 2; row = {y: y, items: []}; x = 0; }
      row.items.push([x, w, ti]);
      x += w + (m === MODES.big ? 3 : 1);
    });
    if (row.items.length) rows.push(row);
    return {m: m, rows: rows, width: width, height: Math.max(1, y + m.fh)};
  }
  function drawFargate(entry) {
    var L = entry.layout, ctx = prepare(entry.canvas, L.width, L.height), tasks = entry.zone.fargate;
    L.rows.forEach(function (row) {
      row.items.forEach(function (it) {
        var t = tasks[it[2]];
        ctx.globalAlpha = highlight === null || highlight === t[T_GROUP] ? 1 : 0.15;
        ctx.fillStyle = colourOf(t[T_GROUP]);
        var hgt = Math.max(3, Math.round(L.m.fh * Math.min(1, 0.45 + t[T_MEM] / 8192)));
        ctx.fillRect(it[0], row.y + L.m.fh - hgt, it[1], hgt);
        if (L.m === MODES.big && it[1] >= 52) {
          ctx.fillStyle = "#fff"; ctx.font = "10px system-ui, sans-serif";
          ctx.fillText(short(t[T_ID]), it[0] + 4, row.y + L.m.fh - 5);
        }
        if (selected && selected.id === t[T_ID]) { ctx.globalAlpha = 1; ctx.lineWidth = 2; ctx.strokeStyle = "#111827"; ctx.strokeRect(it[0] + 1, row.y + 1, it[1] - 2, L.m.fh - 2); }
      });
    });
    ctx.globalAlpha = 1;
  }
  function hitFargate(entry, px, py) {
    var L = entry.layout, rows = L.rows;
    for (var r = 0; r < rows.length; r++) {
      if (py < rows[r].y || py > rows[r].y + L.m.fh) continue;
      var items = rows[r].items, lo = 0, hi = items.length - 1;
      while (lo <= hi) {
        var mid = (lo + hi) >> 1, it = items[mid];
        if (px < it[0]) hi = mid - 1; else if (px > it[0] + it[1]) lo = mid + 1; else return {kind: "task", id: entry.zone.fargate[it[2]][T_ID]};
      }
    }
    return null;
  }

  function prepare(canvas, w, hgt) {
    var dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(hgt * dpr);
    canvas.style.width = w + "px"; canvas.style.height = hgt + "px";
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    return ctx;
  }
  function drawAll() { zonesDrawn.forEach(function (e) { (e.kind === "instances" ? drawInstances : drawFargate)(e); }); }
  function relayout() {
    // read every width before drawing anything: a canvas resized in between forces a new layout
    var widths = zonesDrawn.map(function (e) { return Math.max(300, e.canvas.parentNode.clientWidth); });
    zonesDrawn.forEach(function (e, i) {
      e.layout = e.kind === "instances" ? layoutInstances(e.zone, widths[i]) : layoutFargate(e.zone, widths[i]);
    });
    drawAll();
  }

  function attachCanvas(canvas, entry) {
    zonesDrawn.push(entry);
    function hit(ev) {
      var r = canvas.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
      return entry.kind === "instances" ? hitInstances(entry, px, py) : hitFargate(entry, px, py);
    }
    canvas.addEventListener("mousemove", function (ev) {
      var found = hit(ev);
      if (!found) { tipEl.style.display = "none"; return; }
      tipEl.textContent = tipText(found);
      tipEl.style.display = "block";
      var x = Math.min(ev.clientX + 14, window.innerWidth - tipEl.offsetWidth - 8);
      var y = ev.clientY + 16 + tipEl.offsetHeight > window.innerHeight ? ev.clientY - tipEl.offsetHeight - 10 : ev.clientY + 16;
      tipEl.style.left = x + "px"; tipEl.style.top = y + "px";
    });
    canvas.addEventListener("mouseleave", function () { tipEl.style.display = "none"; });
    canvas.addEventListener("click", function (ev) { var found = hit(ev); if (found) select(found.kind, found.id); });
  }

  // what hovering shows and what the side panel keeps: one list of [label, text, link?]
  function instanceFacts(ref) {
    var inst = instanceOf(ref), c = D.clusters[ref.c], attrs = JSON.parse(S[inst[I_ATTR]] || "{}"), marks = instanceMarks(inst);
    return [["EC2 instance", inst[I_EC2]], ["type", S[inst[I_TYPE]]], ["group", S[inst[I_GROUP]]], ["cluster", c.name], ["zone", c.zones[ref.z].name],
      ["status", S[inst[I_STATUS]] + (marks.length ? " (" + marks.join(", ") + ")" : "")], ["agent", inst[I_AGENT] ? "connected" : "DISCONNECTED"],
      ["EC2 state", S[inst[I_EC2STATE]]], ["agent version", S[inst[I_AGENTV]]],
      ["CPU", fmt(inst[I_RCPU] - inst[I_FCPU]) + " of " + fmt(inst[I_RCPU]) + " units reserved (" + fmt(inst[I_FCPU]) + " free)"],
      ["memory", fmt(inst[I_RMEM] - inst[I_FMEM]) + " of " + fmt(inst[I_RMEM]) + " MiB reserved (" + fmt(inst[I_FMEM]) + " free)"],
      ["tasks", String(inst[I_TASKS].length)]]
      .concat(Object.keys(attrs).map(function (k) { return [k, String(attrs[k])]; }));
  }
  function taskFacts(ref) {
    var t = taskOf(ref), c = D.clusters[ref.c], inst = instanceOf(ref), svc = serviceByGroup(S[t[T_GROUP]]);
    var targets = svc ? svc.targets.filter(function (x) { return x.task === t[T_ID]; }).map(function (x) { return x.targetGroup + " " + x.target + ":" + x.port; }).join(", ") : "";
    return [["group", S[t[T_GROUP]]], ["service", svc ? svc.cluster + "/" + svc.name : null, svc ? ["service", svc.cluster + "/" + svc.name] : null],
      ["task definition", S[t[T_TD]]], ["status", S[t[T_STATUS]]], ["launch type", S[t[T_LAUNCH]]], ["cluster", c.name],
      ["zone", ref.z >= 0 ? c.zones[ref.z].name : null],
      ["instance", inst ? inst[I_ID] : ref.i === -2 ? "none yet (waiting for capacity)" : "Fargate", inst ? ["instance", inst[I_ID]] : null],
      ["CPU", fmt(t[T_CPU]) + " units"], ["memory", fmt(t[T_MEM]) + " MiB"], ["host ports", t[T_PORTS].join(", ")],
      ["private IP", t[T_IP] || null], ["started", S[t[T_STARTED]]], ["targets", targets]];
  }
  function shown(facts) { return facts.filter(function (f) { return f[1] !== null && f[1] !== undefined && f[1] !== ""; }); }
  function tipText(found) {
    var ref = index[found.id], facts = found.kind === "instance" ? instanceFacts(ref) : taskFacts(ref);
    return found.kind + " " + found.id + "\n" + shown(facts).map(function (f) { return f[0] + ": " + f[1]; }).join("\n");
  }

  function renderCluster(root) {
    var sec = h("section", {id: "cluster"}, h("h2", {text: "Cluster"}));
    root.appendChild(sec);
    if (!D.state.exists) sec.appendChild(h("p", {class: "empty", text: "No state file at " + D.state.path + " yet: nothing applied."}));
    if (D.state.exists && !D.clusters.length) sec.appendChild(h("p", {class: "empty", text: "No cluster in the state."}));
    var legend = h("div", {class: "legend"});
    sec.appendChild(legend);
    sec.appendChild(h("div", {class: "marks"},
      h("span", {}, "Each instance: CPU bar above memory bar, task blocks sized by their reservation, coloured by service."),
      h("span", {class: "mark-draining", text: "▭ orange frame: DRAINING"}),
      h("span", {class: "mark-disconnected", text: "┅ red dashed frame: agent disconnected"}),
      h("span", {class: "mark-stopped", text: "▭ grey: EC2 instance stopped or terminated"})));
    var groups = {};
    D.clusters.forEach(function (c) {
      var nInst = 0, nTasks = 0, nFar = 0;
      c.zones.forEach(function (z) { nInst += z.instances.length; nFar += z.fargate.length; z.instances.forEach(function (i) { nTasks += i[I_TASKS].length; }); });
      sec.appendChild(h("h3", {}, "cluster " + c.name + " ", h("span", {class: "muted", text: plural(nInst, "container instance") + ", "
        + plural(nTasks, "EC2 task") + ", " + plural(nFar, "Fargate task") + (c.deregistered ? ", " + fmt(c.deregistered) + " deregistered" : "")})));
      c.zones.forEach(function (z) {
        var counts = {DRAINING: 0, disconnected: 0, stopped: 0, tasks: 0};
        z.instances.forEach(function (i) {
          if (S[i[I_STATUS]] === "DRAINING") counts.DRAINING++;
          if (!i[I_AGENT]) counts.disconnected++;
          if (S[i[I_EC2STATE]] !== "running") counts.stopped++;
          counts.tasks += i[I_TASKS].length;
          i[I_TASKS].forEach(function (t) { groups[t[T_GROUP]] = (groups[t[T_GROUP]] || 0) + 1; });
        });
        z.fargate.forEach(function (t) { groups[t[T_GROUP]] = (groups[t[T_GROUP]] || 0) + 1; });
        var zone = h("div", {class: "zone", "data-zone": z.name, "data-cluster": c.name, "data-instances": z.instances.length,
                             "data-tasks": counts.tasks, "data-fargate": z.fargate.length});
        zone.appendChild(h("h3", {}, z.name + " ", h("span", {class: "muted"},
          plural(z.instances.length, "instance") + ", " + plural(counts.tasks, "task"),
          counts.DRAINING ? h("span", {class: "mark-draining", text: " · " + counts.DRAINING + " draining"}) : null,
          counts.disconnected ? h("span", {class: "mark-disconnected", text: " · " + counts.disconnected + " agent disconnected"}) : null,
          counts.stopped ? h("span", {class: "mark-stopped", text: " · " + counts.stopped + " stopped/terminated"}) : null)));
        if (z.instances.length) {
          var cv = h("canvas", {class: "instances", "data-zone": z.name});
          zone.appendChild(h("div", {}, cv));
          attachCanvas(cv, {canvas: cv, kind: "instances", zone: z, cluster: c});
        }
        if (z.fargate.length) {
          zone.appendChild(h("div", {class: "muted", text: "Fargate: " + plural(z.fargate.length, "task") + " (width by CPU, height by memory)"}));
          var fv = h("canvas", {class: "fargate", "data-zone": z.name});
          zone.appendChild(h("div", {}, fv));
          attachCanvas(fv, {canvas: fv, kind: "fargate", zone: z, cluster: c});
        }
        sec.appendChild(zone);
      });
      if (c.pending.length) {
        sec.appendChild(h("div", {class: "problem"}, h("b", {text: plural(c.pending.length, "task") + " waiting for an instance: "}),
          c.pending.slice(0, 50).map(function (t) { return h("a", {class: "ref", text: short(t[T_ID]) + " ", onclick: function () { select("task", t[T_ID]); }}); })));
      }
    });
    var order = Object.keys(groups).map(Number).sort(function (a, b) { return a - b; });
    var top = order.slice().sort(function (a, b) { return groups[b] - groups[a] || a - b; }).slice(0, LEGEND_MAX);
    order.filter(function (g) { return top.indexOf(g) >= 0; }).forEach(function (g) {
      legend.appendChild(h("span", {class: "item" + (highlight !== null && highlight !== g ? " off" : ""), "data-group": S[g],
        title: "click to pick out " + S[g], onclick: function () { setHighlight(highlight === g ? null : g); }},
        h("span", {class: "sw", style: "background:" + colourOf(g)}), S[g] + " (" + fmt(groups[g]) + ")"));
    });
    if (order.length > top.length) {
      legend.appendChild(h("span", {class: "muted", text: "… and " + fmt(order.length - top.length) + " more groups (the services table has every service: click one to pick out its tasks)"}));
    }
  }
  function setHighlight(g) {
    highlight = g;
    document.querySelectorAll(".legend .item").forEach(function (el) { el.classList.toggle("off", g !== null && el.getAttribute("data-group") !== S[g]); });
    drawAll();
  }

  // ---- services ------------------------------------------------------------------------------
  function renderServices(root) {
    var sec = h("section", {id: "services"}, h("h2", {text: "Services"}));
    root.appendChild(sec);
    if (!D.services.length) { sec.appendChild(h("p", {class: "empty", text: "No service in the state."})); return; }
    var body = h("tbody");
    sec.appendChild(h("div", {class: "scroll"}, h("table", {}, h("thead", {}, h("tr", {},
      ["service", "launch", "task definition", "desired", "running", "pending", "revisions running", "deployments", "load-balancer targets", "stopped"].map(function (t, i) {
        return h("th", {class: i >= 3 && i <= 5 ? "num" : "", text: t});
      }))), body)));
    D.services.forEach(function (svc) {
      var g = groupIndex("service:" + svc.name), key = svc.cluster + "/" + svc.name;
      var tgs = {};
      svc.targets.forEach(function (t) { tgs[t.targetGroup] = (tgs[t.targetGroup] || 0) + 1; });
      var lbs = svc.loadBalancers.map(function (lb) {
        return h("span", {class: "pill", title: svc.targets.filter(function (t) { return t.targetGroup === lb.targetGroup; }).map(function (t) { return t.target + ":" + t.port; }).join("\n")},
          lb.targetGroup + " → " + (lb.containerName || "") + ":" + (lb.containerPort || "") + " · " + plural(tgs[lb.targetGroup] || 0, "target"));
      });
      var primary = svc.deployments.filter(function (d) { return d.status !== "INACTIVE"; });
      var row = h("tr", {class: "row", "data-service": key, onclick: function () { select("service", key); }},
        h("td", {}, h("span", {class: "sw", style: "background:" + (g >= 0 ? colourOf(g) : "#ccc")}), key,
          svc.status !== "ACTIVE" ? h("span", {class: "warn", text: " " + svc.status}) : null),
        h("td", {text: svc.launchType + (svc.schedulingStrategy === "DAEMON" ? " daemon" : "")}),
        h("td", {text: svc.taskDefinition}),
        h("td", {class: "num", text: fmt(svc.desiredCount)}),
        h("td", {class: "num" + (svc.runningCount < svc.desiredCount ? " short" : ""), text: fmt(svc.runningCount)}),
        h("td", {class: "num", text: fmt(svc.pendingCount)}),
        h("td", {}, Object.keys(svc.revisions).map(function (r) { return h("span", {class: "pill", text: r + " ×" + svc.revisions[r]}); })),
        h("td", {}, primary.map(function (d) {
          return h("span", {class: "pill " + (d.rolloutState === "FAILED" ? "bad" : d.rolloutState === "IN_PROGRESS" ? "warn" : ""),
                            title: d.id + ": " + d.rolloutStateReason}, d.status + " " + d.taskDefinition + " " + d.rolloutState);
        })),
        h("td", {}, lbs.length ? lbs : h("span", {class: "muted", text: "—"})),
        h("td", {class: svc.stopped.count ? "" : "muted", title: svc.stopped.recent.map(function (t) { return t.stopReason; }).join("\n"),
                 text: svc.stopped.count ? fmt(svc.stopped.count) : "—"}));
      body.appendChild(row);
    });
  }

  // ---- the plan ------------------------------------------------------------------------------
  var PLAN_KEYS = ["format_version", "lineage", "serial", "changes", "steps", "drift", "deployments", "placement", "predictions", "summary", "files"];
  var SYMBOL = {create: "+", update: "~", replace: "-/+", delete: "-"};
  var VERB = {create: "will be created", update: "will be updated in-place", replace: "must be replaced", delete: "will be destroyed"};
  // a task definition's revisions are immutable: the text plan's words (cli/render/plan.py _headline)
  var TASKDEF_VERB = {create: "will be registered", update: "will register a new revision", delete: "will be deregistered"};
  function verbOf(c) {
    var words = c.address.indexOf("taskdef/") === 0 && TASKDEF_VERB[c.action] ? TASKDEF_VERB : VERB;
    return words[c.action] || c.action;
  }

  function renderPlan(root) {
    var plan = D.plan;
    if (!plan) return;
    var sec = h("section", {id: "plan"}, h("h2", {text: "Plan"}));
    root.appendChild(sec);
    var sum = plan.summary || {};
    var changes = (plan.changes || []).filter(function (c) { return c.action !== "no-op"; });
    sec.appendChild(h("p", {}, h("b", {text: "Plan: " + fmt(sum.create || 0) + " to create, " + fmt(sum.update || 0) + " to update, "
      + fmt(sum.replace || 0) + " to replace, " + fmt(sum.delete || 0) + " to destroy."}),
      h("span", {class: "muted", text: " " + fmt((plan.changes || []).length - changes.length) + " unchanged" + (plan.files ? "; from " + plural(plan.files.length, "file") : "")})));

    sec.appendChild(h("h3", {text: "Changes"}));
    if (!changes.length) sec.appendChild(h("p", {class: "empty", text: "No changes: the state matches the manifests."}));
    changes.forEach(function (c) {
      var fields = c.fields || [];
      sec.appendChild(h("details", {class: "change", "data-address": c.address},
        h("summary", {}, h("span", {class: "act " + c.action, text: SYMBOL[c.action] || c.action}), h("b", {text: c.address}),
          " " + verbOf(c) + (c.reason ? " (" + c.reason + ")" : "") + (fields.length ? " · " + plural(fields.length, "field") : "")),
        h("div", {class: "fields"}, fields.map(function (f) {
          return h("div", {}, (f.op === "add" ? "+ " : f.op === "remove" ? "- " : "~ ") + f.path + ": "
            + (f.op === "add" ? json(f.after) : f.op === "remove" ? json(f.before) : json(f.before) + " → " + json(f.after)));
        }))));
    });

    var deployments = plan.deployments || [];
    sec.appendChild(h("h3", {text: "Rolling deployments"}));
    if (!deployments.length) sec.appendChild(h("p", {class: "empty", text: "No deployment: no service changes revision or desired count in a way that starts one."}));
    deployments.forEach(function (d) { sec.appendChild(renderDeployment(d)); });

    var placement = plan.placement || plan.predictions || [];
    sec.appendChild(h("h3", {text: "Placement (forecast: what each service runs after apply)"}));
    if (!placement.length) sec.appendChild(h("p", {class: "empty", text: "No service step places tasks."}));
    else {
      var body = h("tbody");
      sec.appendChild(h("div", {class: "scroll"}, h("table", {class: "placement"}, h("thead", {}, h("tr", {},
        ["service", "wanted", "placeable", "cannot be placed", "after apply", "why"].map(function (t, i) { return h("th", {class: i && i < 4 ? "num" : "", text: t}); }))), body)));
      placement.slice().sort(function (a, b) { return ((b.unplaceable || 0) + (b.short || 0)) - ((a.unplaceable || 0) + (a.short || 0)); }).forEach(function (p) {
        var bad = (p.unplaceable || 0) > 0 || (p.short || 0) > 0;
        var why = [];
        if (p.unplaceable) why.push(h("b", {text: p.reason || ""}), " ", p.message || "");
        if (p.closestInstance) why.push(" ", h("a", {class: "ref", text: "closest instance " + short(p.closestInstance), onclick: function () { select("instance", p.closestInstance); }}));
        if (p.failing) why.push(h("b", {text: "tasks fail: "}), p.failing);
        if (p.failing && p.fix) why.push(" ", h("b", {text: "fix: "}), p.fix);
        if (p.stalled) why.push(h("b", {text: "stalled: "}), p.stalled);
        if (p.stalled && p.fix) why.push(" ", h("b", {text: "fix: "}), p.fix);
        if (p.provisioning) why.push(fmt(p.provisioning) + " of " + fmt(p.wanted || 0) + " wait in PROVISIONING for capacity provider instances");
        else if (p.short && !p.unplaceable && !p.failing && !p.stalled) why.push(fmt(p.short) + " short of the desired count");
        var extra = Object.keys(p).filter(function (k) { return PLACEMENT_KEYS.indexOf(k) < 0; });
        extra.forEach(function (k) { why.push(h("div", {class: "muted", text: k + ": " + json(p[k])})); });
        body.appendChild(h("tr", {class: bad ? "bad" : "", "data-address": p.address},
          h("td", {text: p.address}), h("td", {class: "num", text: fmt(p.wanted || 0)}), h("td", {class: "num", text: fmt(p.placeable || 0)}),
          h("td", {class: "num", text: fmt(p.unplaceable || 0)}),
          h("td", {}, p.tasks ? Object.keys(p.tasks).map(function (r) { return h("span", {class: "pill", text: r + " ×" + p.tasks[r]}); }) : h("span", {class: "muted", text: "—"})),
          h("td", {}, why.length ? why : p.tasks && Object.keys(p.tasks).length > 1
            ? h("span", {class: "warn", text: "all placed, but " + Object.keys(p.tasks).length + " revisions run after apply: the deployment does not finish"})
            : h("span", {class: "ok", text: "all placed"}))));
      });
    }

    if ((plan.drift || []).length) {
      sec.appendChild(h("h3", {text: "Drift (the simulation changed since the last apply)"}));
      plan.drift.forEach(function (d) { sec.appendChild(h("div", {}, h("b", {text: d.address}), " " + d.field + ": expected " + json(d.expected) + ", actual " + json(d.actual) + (d.reason ? " (" + d.reason + ")" : ""))); });
    }
    if ((plan.steps || []).length) {
      sec.appendChild(h("details", {}, h("summary", {text: "Apply order: " + plural(plan.steps.length, "step")}),
        h("ol", {class: "steps"}, plan.steps.map(function (st) { return h("li", {text: st.id + (st.depends_on && st.depends_on.length ? "  (after " + st.depends_on.join(", ") + ")" : "")}); }))));
    }
    var extra = Object.keys(plan).filter(function (k) { return PLAN_KEYS.indexOf(k) < 0; });
    extra.forEach(function (k) {
      sec.appendChild(h("details", {class: "extra", "data-key": k}, h("summary", {text: "More in the plan: " + k}), h("pre", {text: JSON.stringify(plan[k], null, 2)})));
    });
  }

  var PLACEMENT_KEYS = ["address", "wanted", "placeable", "unplaceable", "short", "reason", "message", "closestInstance", "failing", "stalled", "fix", "tasks", "provisioning"];
  var DEPLOYMENT_KEYS = ["rolledBackTo", "service", "from", "to", "desiredCount", "minimumHealthyPercent", "maximumPercent", "outcome", "reason", "fix", "steps"];
  function renderDeployment(d) {
    var D_ = d.desiredCount || 0, mPct = d.minimumHealthyPercent === undefined ? 100 : d.minimumHealthyPercent,
        MPct = d.maximumPercent === undefined ? 200 : d.maximumPercent;
    var lower = Math.ceil(D_ * mPct / 100), upper = Math.floor(D_ * MPct / 100);
    var steps = d.steps || [], outcome = d.outcome || "complete";
    var box = h("div", {class: "deployment", "data-service": d.service, "data-outcome": outcome},
      h("div", {class: "title"}, "deployment of " + d.service + ": " + (d.from || "?") + " → " + (d.to || "?") + " ",
        h("span", {class: "muted", text: "(desired " + D_ + ", min " + mPct + "% = " + lower + " healthy, max " + MPct + "% = " + upper + " tasks) "}),
        h("span", {class: "badge " + outcome, text: outcome.toUpperCase()}),
        d.rolledBackTo ? h("span", {class: "bad", text: " rolled back to " + d.rolledBackTo}) : null));
    if (outcome !== "complete") {
      box.appendChild(h("div", {class: "problem"}, h("b", {text: outcome === "failed" ? "FAILED: " : "STALLED: "}), d.reason || "",
        d.fix ? h("div", {}, h("b", {text: "fix: "}), d.fix) : null));
    }
    box.appendChild(deploymentChart(d, steps, D_, lower, upper, outcome));
    if (steps.length) {
      box.appendChild(h("ol", {class: "steps"}, steps.map(function (st) {
        return h("li", {class: st.rollback ? "bad" : "", text: (st.rollback ? "rollback: stop " + (st.stopNew || 0) + " new, start " + (st.startOld || 0) + " old"
          : "stop " + st.stopOld + " old, start " + st.startNew + " new") + " → " + st.oldRunning + " old, " + st.newRunning + " new running"});
      })));
    }
    var extra = Object.keys(d).filter(function (k) { return DEPLOYMENT_KEYS.indexOf(k) < 0; });
    if (extra.length) box.appendChild(h("div", {class: "muted"}, extra.map(function (k) { return h("div", {text: k + ": " + json(d[k])}); })));
    return box;
  }

  function currentRunning(address) {
    var parts = String(address || "").split("/");
    for (var i = 0; i < D.services.length; i++) {
      var svc = D.services[i];
      if (svc.cluster === parts[1] && svc.name === parts[2]) return svc.runningCount;
    }
    return null;
  }

  function deploymentChart(d, steps, desired, lower, upper, outcome) {
    // step 0 is the start: old tasks before the first step, new tasks the first step did not start
    var old0 = steps.length ? steps[0].oldRunning + steps[0].stopOld : (currentRunning(d.service) !== null ? currentRunning(d.service) : desired);
    var new0 = steps.length ? steps[0].newRunning - steps[0].startNew : 0;
    var bars = [{old: old0, "new": new0, label: "start"}].concat(steps.map(function (st, i) { return {old: st.oldRunning, "new": st.newRunning, label: "step " + (i + 1), st: st}; }));
    var top = Math.max(upper, desired, 1);
    bars.forEach(function (b) { top = Math.max(top, b.old + b["new"]); });
    var bw = Math.max(14, Math.min(46, Math.floor(560 / bars.length) - 8)), gap = 8, left = 34, right = 150;
    var W = left + bars.length * (bw + gap) + right, H = 150, plotH = 110, y0 = 126;
    function Y(v) { return y0 - v / top * plotH; }
    var g = s("svg", {class: "chart", width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "steps of the deployment of " + d.service});
    [0, Math.round(top / 2), top].forEach(function (v) {
      g.appendChild(s("line", {class: "grid", x1: left, x2: W - right + 4, y1: Y(v), y2: Y(v)}));
      g.appendChild(s("text", {x: left - 4, y: Y(v) + 3, "text-anchor": "end", text: v}));
    });
    bars.forEach(function (b, i) {
      var x = left + 4 + i * (bw + gap);
      if (b.st && b.st.rollback && !(bars[i - 1].st && bars[i - 1].st.rollback)) {
        g.appendChild(s("line", {x1: x - gap / 2, x2: x - gap / 2, y1: y0 - plotH, y2: y0, stroke: "#c62828", "stroke-dasharray": "3,2"}));
        g.appendChild(s("text", {x: x, y: y0 - plotH + 8, fill: "#c62828", text: "rollback"}));
      }
      g.appendChild(s("rect", {x: x, y: Y(b.old), width: bw, height: y0 - Y(b.old), fill: "#8f9bb3",
        title: b.label + ": " + b.old + " old running" + (b.st ? " (stopped " + b.st.stopOld + ")" : "")}));
      g.appendChild(s("rect", {x: x, y: Y(b.old + b["new"]), width: bw, height: Y(b.old) - Y(b.old + b["new"]), fill: "#2f9e58",
        title: b.label + ": " + b["new"] + " new running" + (b.st ? " (started " + b.st.startNew + ")" : "")}));
      g.appendChild(s("text", {x: x + bw / 2, y: y0 + 12, "text-anchor": "middle", fill: b.st && b.st.rollback ? "#c62828" : null, text: i === 0 ? "start" : String(i)}));
    });
    var xEnd = left + 4 + bars.length * (bw + gap);
    var lastLabel = -Infinity;  // labels top-down, at least 10 px apart when the bounds coincide
    [[upper, "max " + upper + " tasks", "#b45309", "5,3"], [desired, "desired " + desired, "#374151", "2,2"], [lower, "min " + lower + " healthy", "#1f5fbf", "5,3"]]
      .sort(function (p, q) { return q[0] - p[0]; }).forEach(function (l) {
        g.appendChild(s("line", {x1: left, x2: xEnd, y1: Y(l[0]), y2: Y(l[0]), stroke: l[2], "stroke-dasharray": l[3], "stroke-width": 1.5}));
        lastLabel = Math.max(Y(l[0]) + 3, lastLabel + 10);
        g.appendChild(s("text", {x: xEnd + 4, y: lastLabel, fill: l[2], text: l[1]}));
      });
    if (outcome !== "complete") {
      var xs = xEnd - gap / 2;
      g.appendChild(s("line", {x1: xs, x2: xs, y1: y0 - plotH, y2: y0, stroke: "#c62828", "stroke-width": 2}));
      g.appendChild(s("text", {x: xs - 3, y: y0 - plotH - 3, fill: "#c62828", "text-anchor": "end", text: outcome === "failed" ? "fails here" : "stalls here",
                             title: d.reason || ""}));
    }
    g.appendChild(s("rect", {x: W - 70, y: H - 12, width: 8, height: 8, fill: "#8f9bb3"}));
    g.appendChild(s("text", {x: W - 60, y: H - 5, text: "old"}));
    g.appendChild(s("rect", {x: W - 38, y: H - 12, width: 8, height: 8, fill: "#2f9e58"}));
    g.appendChild(s("text", {x: W - 28, y: H - 5, text: "new"}));
    return g;
  }

  // ---- scaling -------------------------------------------------------------------------------
  function renderScaling(root) {
    var sec = h("section", {id: "scaling"}, h("h2", {text: "Scaling"}));
    root.appendChild(sec);
    var series = (D.scaling || []).filter(function (x) { return (x.points || []).length || (x.activities || []).length; });
    if (!series.length) { sec.appendChild(h("p", {class: "empty", text: "No scaling activity."})); return; }
    series.forEach(function (x) { sec.appendChild(h("div", {class: "scaling", "data-service": x.service}, h("h3", {text: x.service}), scalingChart(x))); });
  }
  function scalingChart(x) {
    var pts = (x.points || []).map(function (p) { return {t: Date.parse(p.time), p: p}; }).filter(function (p) { return !isNaN(p.t); });
    var acts = (x.activities || []).map(function (a) { return {t: Date.parse(a.time), a: a}; }).filter(function (a) { return !isNaN(a.t); });
    var times = pts.map(function (p) { return p.t; }).concat(acts.map(function (a) { return a.t; }));
    var t0 = Math.min.apply(null, times), t1 = Math.max.apply(null, times);
    if (t1 === t0) t1 = t0 + 60000;
    var maxN = 1, maxV = 0, metric = "";
    pts.forEach(function (p) {
      maxN = Math.max(maxN, p.p.desiredCount || 0, p.p.runningCount || 0);
      if (typeof p.p.value === "number") maxV = Math.max(maxV, p.p.value);
      metric = metric || p.p.metric || "";
    });
    acts.forEach(function (a) { maxN = Math.max(maxN, a.a.from || 0, a.a.to || 0); });
    maxV = maxV || 1;
    var W = 720, H = 190, L = 40, R = 50, T = 12, B = 30, pw = W - L - R, ph = H - T - B;
    function X(t) { return L + (t - t0) / (t1 - t0) * pw; }
    function YN(n) { return T + ph - n / maxN * ph; }
    function YV(v) { return T + ph - v / maxV * ph; }
    var g = s("svg", {class: "chart", width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "scaling of " + x.service});
    [0, Math.ceil(maxN / 2), maxN].forEach(function (n) {
      g.appendChild(s("line", {class: "grid", x1: L, x2: L + pw, y1: YN(n), y2: YN(n)}));
      g.appendChild(s("text", {x: L - 4, y: YN(n) + 3, "text-anchor": "end", text: n}));
    });
    if (metric) [0, maxV].forEach(function (v) { g.appendChild(s("text", {x: L + pw + 4, y: YV(v) + 3, fill: "#9333ea", text: +v.toFixed(1)})); });
    [t0, (t0 + t1) / 2, t1].forEach(function (t, i) {
      g.appendChild(s("text", {x: X(t), y: H - 14, "text-anchor": i === 0 ? "start" : i === 2 ? "end" : "middle", text: new Date(t).toISOString().replace(".000Z", "Z").replace("T", " ")}));
    });
    function path(get, y, step) {
      var dd = "";
      pts.forEach(function (p, i) {
        var v = get(p.p);
        if (typeof v !== "number") return;
        if (!dd) dd = "M" + X(p.t) + "," + y(v);
        else dd += (step ? "H" + X(p.t) + "V" + y(v) : "L" + X(p.t) + "," + y(v));
      });
      return dd;
    }
    // the metric is known only at the activities (the value that decided each): dots, not a line
    // that would invent the values in between
    pts.forEach(function (p) {
      if (typeof p.p.value !== "number") return;
      g.appendChild(s("circle", {cx: X(p.t), cy: YV(p.p.value), r: 2.5, fill: "none", stroke: "#9333ea", class: "metric",
        title: p.p.time + ": " + (p.p.metric ? "policy " + p.p.metric + " read " : "") + p.p.value}));
    });
    var running = path(function (p) { return p.runningCount; }, YN, true);
    if (running) g.appendChild(s("path", {d: running, fill: "none", stroke: "#2f9e58", "stroke-width": 1.5, "stroke-dasharray": "4,2"}));
    var desired = path(function (p) { return p.desiredCount; }, YN, true);
    if (desired) g.appendChild(s("path", {d: desired, fill: "none", stroke: "#1f5fbf", "stroke-width": 2}));
    pts.forEach(function (p) {
      g.appendChild(s("circle", {cx: X(p.t), cy: YN(p.p.desiredCount || 0), r: 2.5, fill: "#1f5fbf",
        title: p.p.time + ": desired " + p.p.desiredCount + ", running " + p.p.runningCount + (p.p.metric ? ", " + p.p.metric + " " + p.p.value : "")}));
    });
    acts.forEach(function (a) {
      g.appendChild(s("line", {x1: X(a.t), x2: X(a.t), y1: T, y2: T + ph, stroke: "#d97706", "stroke-dasharray": "2,3", class: "activity",
        title: a.a.time + ": " + (a.a.cause || "") + " (" + a.a.from + " → " + a.a.to + ")"}));
      g.appendChild(s("path", {d: "M" + (X(a.t) - 4) + "," + T + "h8l-4,6z", fill: "#d97706", title: a.a.time + ": " + (a.a.cause || "") + " (" + a.a.from + " → " + a.a.to + ")"}));
    });
    var legend = [["desired", "#1f5fbf"]];
    if (running) legend.push(["running", "#2f9e58"]);
    if (metric) legend.push(["metric at each activity", "#9333ea"]);
    legend.push(["scaling activity", "#d97706"]);
    legend.forEach(function (l, i) {
      g.appendChild(s("rect", {x: L + i * 150, y: H - 9, width: 10, height: 3, fill: l[1]}));
      g.appendChild(s("text", {x: L + i * 150 + 14, y: H - 4, text: l[0]}));
    });
    return g;
  }

  // ---- details and selection -----------------------------------------------------------------
  function dl(facts) {
    return h("dl", {}, shown(facts).map(function (f) { return [h("dt", {text: f[0]}), h("dd", {}, f[2] ? link(f[2][0], f[2][1], f[1]) : f[1])]; }));
  }
  function link(kind, id, text) { return h("a", {text: text || id, onclick: function () { select(kind, id); }}); }
  function serviceByGroup(group) {
    var name = group.indexOf("service:") === 0 ? group.slice(8) : null;
    return D.services.filter(function (x) { return x.name === name; })[0] || null;
  }

  function select(kind, id, quiet) {
    var panel = document.getElementById("details");
    panel.textContent = "";
    selected = {kind: kind, id: id};
    var hash = "#" + kind + "=" + encodeURIComponent(id);
    if (!quiet && location.hash !== hash) history.replaceState(null, "", hash);
    document.querySelectorAll("tr.sel").forEach(function (el) { el.classList.remove("sel"); });
    if (kind === "service") return showService(panel, id);
    var ref = index[id];
    if (!ref) { panel.appendChild(h("p", {class: "empty", text: "No " + kind + " " + id + " in this state."})); drawAll(); return; }
    selected.id = kind === "instance" ? instanceOf(ref)[I_ID] : taskOf(ref)[T_ID];
    if (ref.kind === "instance") showInstance(panel, ref); else showTask(panel, ref);
    drawAll();
  }
  function showInstance(panel, ref) {
    var inst = instanceOf(ref);
    panel.appendChild(h("h2", {text: "instance " + inst[I_ID]}));
    panel.setAttribute("data-kind", "instance"); panel.setAttribute("data-id", inst[I_ID]);
    panel.appendChild(dl(instanceFacts(ref)));
    panel.appendChild(h("h3", {text: plural(inst[I_TASKS].length, "task")}));
    panel.appendChild(h("ul", {}, inst[I_TASKS].map(function (t) {
      return h("li", {}, h("span", {class: "sw", style: "background:" + colourOf(t[T_GROUP])}), link("task", t[T_ID], short(t[T_ID])),
        " " + S[t[T_GROUP]] + " " + S[t[T_TD]] + " · " + t[T_CPU] + " CPU · " + t[T_MEM] + " MiB" + (t[T_PORTS].length ? " · ports " + t[T_PORTS].join(",") : ""));
    })));
  }
  function showTask(panel, ref) {
    var t = taskOf(ref);
    panel.appendChild(h("h2", {text: "task " + t[T_ID]}));
    panel.setAttribute("data-kind", "task"); panel.setAttribute("data-id", t[T_ID]);
    panel.appendChild(dl(taskFacts(ref)));
  }
  function showService(panel, key) {
    var svc = D.services.filter(function (x) { return x.cluster + "/" + x.name === key; })[0];
    if (!svc) { panel.appendChild(h("p", {class: "empty", text: "No service " + key + " in this state."})); return; }
    var row = document.querySelector('tr[data-service="' + CSS.escape(key) + '"]');
    if (row) row.classList.add("sel");
    setHighlight(groupIndex("service:" + svc.name) >= 0 ? groupIndex("service:" + svc.name) : null);
    panel.setAttribute("data-kind", "service"); panel.setAttribute("data-id", key);
    panel.appendChild(h("h2", {text: "service " + key}));
    panel.appendChild(dl([["status", svc.status], ["launch type", svc.launchType], ["scheduling", svc.schedulingStrategy], ["task definition", svc.taskDefinition],
      ["desired / running / pending", svc.desiredCount + " / " + svc.runningCount + " / " + svc.pendingCount],
      ["deployment bounds", "min " + svc.deploymentConfiguration.minimumHealthyPercent + "%, max " + svc.deploymentConfiguration.maximumPercent + "%"],
      ["revisions", Object.keys(svc.revisions).map(function (r) { return r + " ×" + svc.revisions[r]; }).join(", ")]]));
    if (svc.deployments.length) {
      panel.appendChild(h("h3", {text: "deployments"}));
      panel.appendChild(h("ul", {}, svc.deployments.map(function (d) {
        return h("li", {class: d.rolloutState === "FAILED" ? "bad" : ""}, d.status + " " + d.taskDefinition + " " + d.rolloutState + " (" + d.runningCount + "/" + d.desiredCount
          + " running" + (d.failedTasks ? ", " + d.failedTasks + " failed" : "") + ")" + (d.rolloutStateReason ? ": " + d.rolloutStateReason : ""));
      })));
    }
    if (svc.targets.length) {
      panel.appendChild(h("h3", {text: "load-balancer targets"}));
      panel.appendChild(h("ul", {}, svc.targets.map(function (x) { return h("li", {}, x.targetGroup + " " + x.target + ":" + x.port + " ", link("task", x.task, short(x.task))); })));
    }
    if (svc.stopped.count) {
      panel.appendChild(h("h3", {text: plural(svc.stopped.count, "stopped task") + " (last " + svc.stopped.recent.length + ")"}));
      panel.appendChild(h("ul", {}, svc.stopped.recent.map(function (x) { return h("li", {text: short(x.id) + " " + x.stoppedAt + ": " + x.stopReason}); })));
    }
    panel.appendChild(h("h3", {text: "events"}));
    panel.appendChild(h("ul", {}, svc.events.slice().reverse().map(function (e) { return h("li", {}, h("span", {class: "muted", text: e.at + " "}), e.message); })));
  }

  function fromHash() {
    var m = /^#(instance|task|service)=(.+)$/.exec(location.hash);
    if (m) select(m[1], decodeURIComponent(m[2]), true);
    else {
      var panel = document.getElementById("details");
      panel.textContent = "";
      panel.appendChild(h("p", {class: "muted", text: "Hover over an instance or a task for its details; click to keep them here. Click a service row or a legend entry to pick out its tasks."}));
    }
  }

  function search(text) {
    text = text.trim();
    if (!text) return;
    if (index[text]) return select(index[text].kind, text);
    var keys = Object.keys(index);
    for (var i = 0; i < keys.length; i++) if (keys[i].indexOf(text) === 0) return select(index[keys[i]].kind, keys[i]);
    var svc = D.services.filter(function (x) { return x.name === text || x.cluster + "/" + x.name === text; })[0];
    if (svc) return select("service", svc.cluster + "/" + svc.name);
    var panel = document.getElementById("details");
    panel.textContent = "";
    panel.appendChild(h("p", {class: "empty", text: "Nothing matches " + text + "."}));
  }

  // ---- the page ------------------------------------------------------------------------------
  function render(data) {
    D = data; S = data.strings; stringIndex = null; colour = {}; coloured = 0; zonesDrawn = [];
    D.services.forEach(function (svc) { var g = groupIndex("service:" + svc.name); if (g >= 0) colourOf(g); });
    buildIndex();
    var st = D.state, nInst = 0, nTasks = 0;
    D.clusters.forEach(function (c) { c.zones.forEach(function (z) { nInst += z.instances.length; nTasks += z.fargate.length; z.instances.forEach(function (i) { nTasks += i[I_TASKS].length; }); }); nTasks += c.pending.length; });
    document.getElementById("meta").textContent = "state " + st.path + (st.exists ? " · serial " + st.serial + (st.clock ? " · clock " + st.clock : "") : " (none yet)")
      + " · " + plural(nInst, "instance") + " · " + plural(nTasks, "task") + " · " + plural(D.services.length, "service");
    var root = document.getElementById("root");
    root.textContent = "";
    if (D.error) root.appendChild(h("div", {class: "banner", text: D.error}));
    renderCluster(root);
    renderServices(root);
    renderPlan(root);
    renderScaling(root);
    document.getElementById("nav-plan").style.display = D.plan ? "" : "none";
    relayout();
    fromHash();
    document.body.setAttribute("data-rendered", String(st.serial));
  }

  function live() {
    var badge = document.getElementById("live"), version = D.live, failures = 0;
    badge.style.display = "";
    function poll() {
      fetch("serial", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (v) {
        failures = 0; badge.className = "live"; badge.textContent = "● live, serial " + v.serial;
        if (v.version === version) return null;
        return fetch("view.json", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (data) { version = data.live; render(data); });
      }).catch(function () { failures++; badge.className = "live stale"; badge.textContent = "● server gone"; })
        .then(function () { setTimeout(poll, failures ? 3000 : 1000); });
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    tipEl = document.getElementById("tip");
    var t0 = performance.now();
    render(JSON.parse(document.getElementById("ecsctl-data").textContent));
    // parse + draw, for bench/view.py
    document.body.setAttribute("data-render-ms", String(Math.round(performance.now() - t0)));
    var timer = null;
    window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(relayout, 150); });
    window.addEventListener("hashchange", fromHash);
    document.getElementById("find").addEventListener("keydown", function (ev) { if (ev.key === "Enter") search(ev.target.value); });
    if (D.live) live();
  });
})();
