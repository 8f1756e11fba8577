// Detect page: upload or record, score with /v1/detect, watermark with /v1/watermark/detect,
// draw the spectrogram with the per-window p(spoof) on top.
"use strict";
let chosen = null;   // {blob, name}
let recorder = null;

function choose(blob, name) {
  chosen = { blob, name };
  document.getElementById("analyse").disabled = false;
  document.getElementById("busy").textContent = name + " (" + (blob.size / 1024).toFixed(0) + " KiB)";
}

async function loadModels() {
  try {
    const data = await (await voxlab.api("/v1/models")).json();
    const select = document.getElementById("model");
    for (const m of data.models) {
      const option = document.createElement("option");
      option.value = m.name;
      option.textContent = m.name + (m.eer_percent != null ? " (EER " + m.eer_percent + " %)" : "");
      select.appendChild(option);
    }
  } catch (e) { /* no token yet: the default model is used */ }
}

async function toggleRecording() {
  const button = document.getElementById("record");
  const status = document.getElementById("record-status");
  if (recorder && recorder.state === "recording") { recorder.stop(); return; }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.ondataavailable = e => chunks.push(e.data);
    recorder.onstop = () => {
      stream.getTracks().forEach(t => t.stop());
      button.textContent = "● Record"; button.classList.remove("recording");
      const blob = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
      status.textContent = "recorded " + (blob.size / 1024).toFixed(0) + " KiB";
      choose(blob, "microphone.webm");
    };
    recorder.start();
    button.textContent = "■ Stop"; button.classList.add("recording");
    status.textContent = "recording…";
  } catch (e) {
    status.textContent = "microphone unavailable: " + e.message;
  }
}

async function analyse() {
  if (!chosen) return;
  const error = document.getElementById("error");
  error.classList.add("hidden");
  const busy = document.getElementById("busy");
  busy.textContent = "analysing…";
  document.getElementById("analyse").disabled = true;
  const params = new URLSearchParams({ segments: "true", policy: document.getElementById("policy").value, hop: "1" });
  const model = document.getElementById("model").value;
  if (model) params.set("model", model);
  const form = () => { const f = new FormData(); f.append("file", chosen.blob, chosen.name); return f; };
  try {
    const detect = voxlab.api("/v1/detect?" + params, { method: "POST", body: form() }).then(r => r.json());
    const mark = voxlab.api("/v1/watermark/detect", { method: "POST", body: form() }).then(r => r.json())
      .catch(e => ({ error: e.message }));
    const row = await detect;
    showResult(row);
    showWatermark(await mark);
    await drawSpectrogram(chosen.blob, row);
    busy.textContent = "done";
  } catch (e) {
    voxlab.showError(error, e);
    busy.textContent = "";
  } finally {
    document.getElementById("analyse").disabled = false;
  }
}

function showResult(row) {
  document.getElementById("result").classList.remove("hidden");
  const verdict = document.getElementById("verdict");
  verdict.textContent = row.verdict === "spoof" ? "Spoof (synthetic)" : "Bona fide (human)";
  verdict.className = "verdict " + row.verdict;
  verdict.dataset.verdict = row.verdict;
  document.getElementById("probability").textContent = voxlab.pct(row.p_spoof);
  document.getElementById("model-used").textContent = row.model + " · " + row.policy;
  document.getElementById("score").textContent = row.score.toFixed(3);
  document.getElementById("threshold").textContent = row.threshold == null ? "logit compare" : row.threshold.toFixed(3);
  document.getElementById("duration").textContent = row.duration.toFixed(2) + " s";
  document.getElementById("player").src = URL.createObjectURL(chosen.blob);
  document.getElementById("calibration-note").textContent = row.calibrated
    ? "Calibrated: p(spoof) is the posterior at a spoof prior of " + row.prior_spoof +
      " (LLR " + row.llr.toFixed(2) + "), the verdict the Bayes decision for that prior."
    : "Not calibrated: p(spoof) is the softmax of the model's [spoof, bona fide] logits and the " +
      "verdict compares the score with the model's published threshold (calibrate the model " +
      "on audio like yours with `voxlab calibrate`).";
}

function showWatermark(w) {
  const mark = document.getElementById("watermark");
  const label = document.getElementById("ai-label");
  const detail = document.getElementById("watermark-detail");
  if (w.error) { mark.textContent = "unavailable"; label.textContent = "–"; detail.textContent = w.error; return; }
  mark.textContent = w.marked ? "present" + (w.payload ? " · payload " + w.payload : "") : "not found";
  label.textContent = w.ai_label ? "yes" : "no";
  detail.textContent = "Watermark score z = " + w.score.toFixed(2) + ", p-value " + w.p_value.toExponential(2) +
    (w.label ? " · tag: " + w.label : "");
}

function fft(re, im) {  // in-place radix-2
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { [re[i], re[j]] = [re[j], re[i]]; [im[i], im[j]] = [im[j], im[i]]; }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = -2 * Math.PI / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(angle * k), wi = Math.sin(angle * k);
        const ar = re[i + k + len / 2], ai = im[i + k + len / 2];
        const xr = ar * wr - ai * wi, xi = ar * wi + ai * wr;
        re[i + k + len / 2] = re[i + k] - xr; im[i + k + len / 2] = im[i + k] - xi;
        re[i + k] += xr; im[i + k] += xi;
      }
    }
  }
}

function colour(v) {  // 0..1 -> dark blue, purple, orange, yellow
  const stops = [[11, 16, 32], [60, 20, 110], [180, 50, 90], [250, 150, 40], [255, 250, 180]];
  const x = Math.min(0.9999, Math.max(0, v)) * (stops.length - 1);
  const i = Math.floor(x), f = x - i;
  return stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c)));
}

async function drawSpectrogram(blob, row) {
  const canvas = document.getElementById("spectrogram");
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  ctx.fillStyle = "#0b1020"; ctx.fillRect(0, 0, W, H);
  let samples = null;
  try {
    const audio = new AudioContext({ sampleRate: 16000 });
    const buffer = await audio.decodeAudioData(await blob.arrayBuffer());
    samples = buffer.getChannelData(0);
    audio.close();
  } catch (e) {
    ctx.fillStyle = "#8895b0"; ctx.font = "14px sans-serif";
    ctx.fillText("the browser cannot decode this format: spectrogram unavailable", 16, 24);
  }
  if (samples && samples.length >= 512) {
    const N = 512, bins = N / 2;
    const frames = Math.min(W, Math.floor((samples.length - N) / 128) + 1);
    const hop = Math.max(1, Math.floor((samples.length - N) / Math.max(1, frames - 1)));
    const image = new Float32Array(frames * bins);
    const window = Float32Array.from({ length: N }, (_, i) => 0.5 - 0.5 * Math.cos(2 * Math.PI * i / N));
    let top = -Infinity;
    for (let f = 0; f < frames; f++) {
      const re = new Float32Array(N), im = new Float32Array(N);
      for (let i = 0; i < N; i++) re[i] = samples[f * hop + i] * window[i];
      fft(re, im);
      for (let b = 0; b < bins; b++) {
        const db = 10 * Math.log10(re[b] * re[b] + im[b] * im[b] + 1e-10);
        image[f * bins + b] = db; if (db > top) top = db;
      }
    }
    const off = document.createElement("canvas");
    off.width = frames; off.height = bins;
    const pixels = off.getContext("2d").createImageData(frames, bins);
    for (let f = 0; f < frames; f++) for (let b = 0; b < bins; b++) {
      const [r, g, bl] = colour((image[f * bins + b] - top + 80) / 80);
      const p = ((bins - 1 - b) * frames + f) * 4;
      pixels.data[p] = r; pixels.data[p + 1] = g; pixels.data[p + 2] = bl; pixels.data[p + 3] = 255;
    }
    off.getContext("2d").putImageData(pixels, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, W, H);
  }
  // p(spoof) per window on top: 0 at the bottom, 1 at the top.
  const duration = row.duration || 1;
  ctx.strokeStyle = "rgba(255,255,255,0.6)"; ctx.setLineDash([6, 6]); ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(0, H / 2); ctx.lineTo(W, H / 2); ctx.stroke(); ctx.setLineDash([]);
  const segments = row.segments || [{ start: 0, end: duration, p_spoof: row.p_spoof }];
  ctx.strokeStyle = "#ff5252"; ctx.lineWidth = 3; ctx.beginPath();
  segments.forEach((s, i) => {
    const x = Math.min(W, W * ((s.start + Math.min(s.end, duration)) / 2) / duration);
    const y = H - 4 - s.p_spoof * (H - 8);
    if (i === 0) { ctx.moveTo(W * s.start / duration, y); }
    ctx.lineTo(x, y);
    if (i === segments.length - 1) ctx.lineTo(W * Math.min(s.end, duration) / duration, y);
  });
  ctx.stroke();
  ctx.fillStyle = "#ff5252";
  for (const s of segments) {
    const x = W * ((s.start + Math.min(s.end, duration)) / 2) / duration;
    ctx.beginPath(); ctx.arc(x, H - 4 - s.p_spoof * (H - 8), 4, 0, 2 * Math.PI); ctx.fill();
  }
  ctx.fillStyle = "#ffffff"; ctx.font = "12px sans-serif";
  ctx.fillText("0 s", 4, H - 6); ctx.fillText(duration.toFixed(1) + " s", W - 44, H - 6);
  ctx.fillText("p(spoof) 1", W - 70, 16); ctx.fillText("0.5", W - 26, H / 2 - 4);
  canvas.dataset.windows = String(segments.length);
}

document.addEventListener("DOMContentLoaded", () => {
  const input = document.getElementById("file");
  input.addEventListener("change", () => { if (input.files[0]) choose(input.files[0], input.files[0].name); });
  const drop = document.getElementById("drop");
  drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", e => {
    e.preventDefault(); drop.classList.remove("over");
    const f = e.dataTransfer.files[0]; if (f) choose(f, f.name);
  });
  document.getElementById("record").addEventListener("click", toggleRecording);
  document.getElementById("analyse").addEventListener("click", analyse);
  document.getElementById("token").addEventListener("change", loadModels);
  loadModels();
});
