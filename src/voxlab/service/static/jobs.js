// Jobs page: submit uploads or a server folder, watch progress, download and view results.
"use strict";
let shown = null;

async function submitJob() {
  const error = document.getElementById("error");
  error.classList.add("hidden");
  const form = new FormData();
  for (const f of document.getElementById("files").files) form.append("files", f, f.name);
  const folder = document.getElementById("folder").value.trim();
  if (folder) form.append("folder", folder);
  const model = document.getElementById("model").value;
  if (model) form.append("model", model);
  try {
    const job = await (await voxlab.api("/v1/jobs", { method: "POST", body: form })).json();
    document.getElementById("files").value = "";
    shown = job.id;
    await refresh();
  } catch (e) { voxlab.showError(error, e); }
}

function cell(row, content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.appendChild(content); else td.textContent = content;
  row.appendChild(td);
  return td;
}

async function refresh() {
  let jobs;
  try { jobs = await (await voxlab.api("/v1/jobs")).json(); } catch (e) { return; }
  const body = document.getElementById("jobs");
  body.innerHTML = "";
  if (!jobs.length) { body.innerHTML = '<tr><td colspan="6" class="muted">No jobs yet.</td></tr>'; }
  for (const job of jobs) {
    const tr = document.createElement("tr");
    tr.dataset.job = job.id;
    const link = document.createElement("a");
    link.href = "#"; link.textContent = job.id.slice(0, 8);
    link.onclick = e => { e.preventDefault(); shown = job.id; showResults(job.id); };
    cell(tr, link);
    const pill = document.createElement("span");
    pill.className = "pill " + job.status; pill.textContent = job.status;
    cell(tr, pill);
    const bar = document.createElement("div"); bar.className = "progress";
    const fill = document.createElement("div"); fill.style.width = (100 * job.done / Math.max(1, job.total)) + "%";
    bar.appendChild(fill);
    const td = cell(tr, bar); td.appendChild(document.createTextNode(" " + job.done + " / " + job.total));
    cell(tr, String(job.errors));
    cell(tr, job.model);
    const links = document.createElement("span");
    for (const fmt of ["csv", "jsonl"]) {
      const a = document.createElement("a"); a.href = "#"; a.textContent = fmt.toUpperCase();
      a.style.marginRight = "10px";
      a.onclick = e => { e.preventDefault(); voxlab.download("/v1/jobs/" + job.id + "/results?format=" + fmt, job.id + "." + fmt); };
      links.appendChild(a);
    }
    cell(tr, links);
    body.appendChild(tr);
  }
  if (shown) showResults(shown);
}

async function showResults(id) {
  const text = await (await voxlab.api("/v1/jobs/" + id + "/results")).text();
  const rows = text.split("\n").filter(Boolean).map(JSON.parse);
  document.getElementById("results-card").classList.remove("hidden");
  document.getElementById("results-id").textContent = id;
  const body = document.getElementById("results");
  body.innerHTML = "";
  for (const r of rows) {
    const tr = document.createElement("tr");
    cell(tr, r.path); cell(tr, r.status);
    cell(tr, r.verdict || r.error || "");
    cell(tr, voxlab.pct(r.p_spoof));
    cell(tr, r.score == null ? "–" : r.score.toFixed(3));
    cell(tr, r.duration == null ? "–" : r.duration.toFixed(2) + " s");
    body.appendChild(tr);
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("submit").addEventListener("click", submitJob);
  try {
    const data = await (await voxlab.api("/v1/models")).json();
    for (const m of data.models) {
      const o = document.createElement("option"); o.value = m.name; o.textContent = m.name;
      document.getElementById("model").appendChild(o);
    }
  } catch (e) { /* no token yet */ }
  refresh();
  setInterval(refresh, 2000);
});
