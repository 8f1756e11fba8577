// Shared helpers of the voxlab pages: the API token, authorised fetches, errors.
"use strict";
const voxlab = {
  token() { return document.getElementById("token").value.trim(); },
  async api(path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    const token = voxlab.token();
    if (token) headers["Authorization"] = "Bearer " + token;
    const response = await fetch(path, Object.assign({}, options, { headers }));
    if (!response.ok) {
      let detail = response.status + " " + response.statusText;
      try { const body = await response.json(); detail = body.detail || detail; } catch (e) { /* not JSON */ }
      if (response.status === 401) detail += " (paste a token in the box at the top)";
      const retry = response.headers.get("Retry-After");
      if (retry) detail += " (retry after " + retry + " s)";
      throw new Error(detail);
    }
    return response;
  },
  showError(el, error) { el.textContent = error.message || String(error); el.classList.remove("hidden"); },
  pct(p) {
    if (p == null) return "–";
    if (p > 0.9995) return "> 99.9 %";
    if (p < 0.0005) return "< 0.1 %";
    return (100 * p).toFixed(1) + " %";
  },
  async download(path, filename) {
    const blob = await (await voxlab.api(path)).blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = filename; a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 5000);
  },
};
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("token");
  box.value = localStorage.getItem("voxlab-token") || "";
  box.addEventListener("change", () => localStorage.setItem("voxlab-token", box.value.trim()));
  const here = location.pathname.split("/").pop() || "index.html";
  document.querySelectorAll("header nav a").forEach(a => {
    if (a.getAttribute("href") === here) a.classList.add("active");
  });
});
