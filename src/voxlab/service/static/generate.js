// Generate page: text -> /v1/tts -> labelled file, played and checked for its labels.
"use strict";
async function speak() {
  const error = document.getElementById("error");
  error.classList.add("hidden");
  const button = document.getElementById("speak");
  button.disabled = true; button.textContent = "Generating…";
  const body = {
    text: document.getElementById("text").value,
    voice: document.getElementById("voice").value,
    variant: document.getElementById("variant").value || null,
    speed: Number(document.getElementById("speed").value),
    pitch: Number(document.getElementById("pitch").value),
  };
  try {
    const response = await voxlab.api("/v1/tts", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const info = JSON.parse(response.headers.get("X-Voxlab-Generated") || "{}");
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    document.getElementById("output").classList.remove("hidden");
    document.getElementById("player").src = url;
    document.getElementById("download").href = url;
    document.getElementById("system").textContent = info.system + " · " + info.voice;
    document.getElementById("gen-duration").textContent = info.duration.toFixed(2) + " s";
    const form = new FormData(); form.append("file", blob, "voxlab-tts.wav");
    const mark = await (await voxlab.api("/v1/watermark/detect", { method: "POST", body: form })).json();
    document.getElementById("gen-watermark").textContent = mark.marked ? "present · payload " + mark.payload : "not found";
    document.getElementById("gen-label").textContent = mark.ai_label ? "AI-generated" : "missing";
  } catch (e) { voxlab.showError(error, e); }
  finally { button.disabled = false; button.textContent = "Generate"; }
}
document.addEventListener("DOMContentLoaded", () => document.getElementById("speak").addEventListener("click", speak));
