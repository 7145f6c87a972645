// EarthGPT web page: open an image, draw point / box / scribble prompts (each is <regionK> in the text, K in drawing
// order), chat through /v1/chat/completions, and see the answer's boxes and masks drawn over the image.
// Every coordinate kept here is in ORIGINAL image pixels (x right, y down); the canvas shows the image scaled by
// `view.scale` canvas pixels per image pixel.
"use strict";

const VIEW_MAX = { width: 860, height: 680 }; // the canvas fits the image inside this box (small images scale up)
const BROWSER_TYPES = ["image/jpeg", "image/png"];

const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d");

const state = {
  image: null, // {name, width, height, crs, transform, warning, dataUrl, bitmap}
  prompts: [], // VisualPrompt.to_dict() forms: {kind: "point"|"box", points} or {kind: "scribble", strokes}
  draft: null, // the prompt being drawn
  messages: [], // the OpenAI chat history sent with every request
  result: { boxes: [], masks: [], geojson: null }, // the latest answer's structured output
  maskImages: [], // per mask: an offscreen canvas (from RLE) or null (drawn from polygons)
  model: "earthgpt",
  busy: false,
};
const view = { scale: 1 };

// ----- helpers ------------------------------------------------------------------------------------------------------

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

function round2(v) {
  return Math.round(v * 100) / 100;
}

function readAsDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const im = new Image();
    im.onload = () => resolve(im);
    im.onerror = () => reject(new Error("the browser cannot decode it"));
    im.src = url;
  });
}

async function errorMessage(resp) {
  try {
    const body = await resp.json();
    if (body && body.error && body.error.message) return body.error.message;
    if (body && body.detail) return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch (e) {
    /* not JSON */
  }
  return `HTTP ${resp.status}`;
}

function isTiff(file) {
  return /\.tiff?$/i.test(file.name) || file.type === "image/tiff";
}

// ----- opening an image ---------------------------------------------------------------------------------------------

async function openFile(file) {
  setStatus(`opening ${file.name} ...`);
  try {
    const dataUrl = await readAsDataUrl(file);
    let image = null;
    if (BROWSER_TYPES.includes(file.type) && !isTiff(file) && (await exifOrientation(file)) === 1) {
      try {
        const bitmap = await loadImage(dataUrl);
        image = { width: bitmap.naturalWidth, height: bitmap.naturalHeight, crs: null, transform: null, bitmap };
      } catch (e) {
        image = null; // e.g. a 16-bit PNG some browsers refuse: the server previews it
      }
    }
    if (image === null) image = await serverPreview(file);
    image.name = file.name;
    image.file = file;
    image.dataUrl = dataUrl.replace(/^data:[^;,]*/, `data:${mediaType(file)}`);
    setImage(image);
    setStatus(`${file.name}: ${image.width} x ${image.height} px`);
  } catch (e) {
    setStatus(`${file.name}: ${e.message}`, true);
  }
}

async function exifOrientation(file) {
  // The EXIF orientation of a JPEG (1 = as stored; 1 for anything else). A browser turns the picture by it, the
  // server does not: such a JPEG goes through the server's preview so prompts land where the model sees them.
  if (file.type !== "image/jpeg") return 1;
  try {
    const v = new DataView(await file.slice(0, 1 << 16).arrayBuffer());
    if (v.getUint16(0) !== 0xffd8) return 1;
    for (let off = 2; off + 4 <= v.byteLength; off += 2 + v.getUint16(off + 2)) {
      const marker = v.getUint16(off);
      if (marker === 0xffda || (marker & 0xff00) !== 0xff00) return 1; // image data, or not a marker
      if (marker !== 0xffe1 || v.getUint32(off + 4) !== 0x45786966) continue; // APP1 "Exif"
      const tiff = off + 10;
      const little = v.getUint16(tiff) === 0x4949;
      const ifd = tiff + v.getUint32(tiff + 4, little);
      for (let i = 0, n = v.getUint16(ifd, little); i < n; i += 1) {
        const entry = ifd + 2 + 12 * i;
        if (v.getUint16(entry, little) === 0x0112) return v.getUint16(entry + 8, little);
      }
      return 1;
    }
  } catch (e) {
    /* a short or odd header: as stored */
  }
  return 1;
}

function mediaType(file) {
  if (isTiff(file)) return "image/tiff";
  if (file.type) return file.type;
  return /\.png$/i.test(file.name) ? "image/png" : "image/jpeg";
}

async function serverPreview(file) {
  const params = new URLSearchParams({ profile: $("profile").value, bands: $("bands").value.trim() });
  const resp = await fetch(`v1/preview?${params}`, { method: "POST", body: file });
  if (!resp.ok) throw new Error(await errorMessage(resp));
  const p = await resp.json();
  const bitmap = await loadImage(p.preview.url);
  return {
    width: p.width,
    height: p.height,
    crs: p.crs,
    transform: p.transform,
    warning: p.warning,
    profile: p.profile,
    displayBands: p.display_bands,
    bitmap,
  };
}

async function reviewRaster() {
  // a new profile or band choice for the raster on screen: only the picture changes (same pixels, same chat)
  const image = state.image;
  if (!image || !image.profile) return;
  setStatus(`previewing ${image.name} ...`);
  try {
    const p = await serverPreview(image.file);
    Object.assign(image, { bitmap: p.bitmap, profile: p.profile, displayBands: p.displayBands });
    showInfo(image);
    render();
    setStatus(`${image.name}: profile ${p.profile}, bands ${p.displayBands.join(",")}`);
  } catch (e) {
    setStatus(`${image.name}: ${e.message}`, true);
  }
}

function showInfo(image) {
  const geo = image.crs ? `CRS ${image.crs}, transform [${image.transform.map((v) => round2(v)).join(", ")}]` : "no CRS (pixel coordinates)";
  const shown = image.profile ? `; preview: profile ${image.profile}, bands ${image.displayBands.join(",")}` : "";
  $("image-info").textContent = `${image.name}: ${image.width} x ${image.height} px; ${geo}${shown}`;
}

function setImage(image) {
  state.image = image;
  resetChat();
  view.scale = Math.min(VIEW_MAX.width / image.width, VIEW_MAX.height / image.height);
  canvas.width = Math.max(1, Math.round(image.width * view.scale));
  canvas.height = Math.max(1, Math.round(image.height * view.scale));
  $("drop-zone").classList.add("loaded");
  showInfo(image);
  render();
}

// ----- drawing prompts ----------------------------------------------------------------------------------------------

function toImage(ev) {
  const r = canvas.getBoundingClientRect(); // CSS pixels; the canvas may be shown smaller than its own size
  const x = ((ev.clientX - r.left) * (canvas.width / r.width)) / view.scale;
  const y = ((ev.clientY - r.top) * (canvas.height / r.height)) / view.scale;
  return [round2(Math.min(Math.max(x, 0), state.image.width)), round2(Math.min(Math.max(y, 0), state.image.height))];
}

function tool() {
  return document.querySelector('input[name="tool"]:checked').value;
}

canvas.addEventListener("pointerdown", (ev) => {
  if (!state.image || ev.button !== 0) return;
  canvas.setPointerCapture(ev.pointerId);
  const p = toImage(ev);
  const t = tool();
  if (t === "point") addPrompt({ kind: "point", points: [p] });
  else if (t === "box") state.draft = { kind: "box", points: [p, p] };
  else state.draft = { kind: "scribble", strokes: [[p]] };
  render();
});

canvas.addEventListener("pointermove", (ev) => {
  if (!state.draft) return;
  const p = toImage(ev);
  if (state.draft.kind === "box") state.draft.points[1] = p;
  else state.draft.strokes[0].push(p);
  render();
});

canvas.addEventListener("pointerup", () => {
  const d = state.draft;
  state.draft = null;
  if (!d) return;
  if (d.kind === "box") {
    const [[xa, ya], [xb, yb]] = d.points;
    const minSide = 2 / view.scale; // a click without a drag is not a box
    if (Math.abs(xb - xa) >= minSide && Math.abs(yb - ya) >= minSide) {
      addPrompt({ kind: "box", points: [[Math.min(xa, xb), Math.min(ya, yb)], [Math.max(xa, xb), Math.max(ya, yb)]] });
    }
  } else if (d.strokes[0].length >= 2) {
    addPrompt(d);
  }
  render();
});

function describePrompt(p) {
  if (p.kind === "scribble") return `scribble of ${p.strokes[0].length} points`;
  return `${p.kind} ${p.points.map(([x, y]) => `(${x}, ${y})`).join(" ")}`;
}

function addPrompt(prompt) {
  state.prompts.push(prompt);
  const name = `<region${state.prompts.length}>`;
  const q = $("question");
  const at = q.selectionStart ?? q.value.length;
  const before = q.value.slice(0, at);
  const sep = before && !/\s$/.test(before) ? " " : "";
  q.value = `${before}${sep}${name}${q.value.slice(at)}`;
  const li = document.createElement("li");
  li.textContent = `${name} ${describePrompt(prompt)}`;
  $("prompt-list").appendChild(li);
  const plan = document.createElement("option");
  plan.value = `region:${state.prompts.length}`;
  plan.dataset.region = "1";
  $("view-plans").appendChild(plan);
  render();
}

function clearPrompts() {
  if (state.messages.length) {
    setStatus("the prompts belong to this chat: start a new chat to clear them", true);
    return;
  }
  state.prompts = [];
  forgetRegionPlans();
  $("prompt-list").replaceChildren();
  $("question").value = $("question").value.replace(/\s*<region\d+>/g, "");
  render();
}

// ----- results and the results list ---------------------------------------------------------------------------------

function setResult(ext) {
  const boxes = Array.isArray(ext.boxes) ? ext.boxes : [];
  const masks = Array.isArray(ext.masks) ? ext.masks : [];
  state.result = { boxes, masks, geojson: ext.geojson || null };
  state.maskImages = masks.map((m) => (polygonRings(m).length || !m.rle ? null : rleCanvas(m.rle, colorFor(m.label || "mask"))));
  const list = $("result-list");
  list.replaceChildren();
  boxes.forEach((b, i) => {
    const li = document.createElement("li");
    li.dataset.layer = "box";
    li.dataset.color = colorFor(b.label);
    li.style.setProperty("--layer-color", li.dataset.color);
    const score = typeof b.score === "number" ? ` ${b.score.toFixed(2)}` : "";
    li.textContent = `box ${i + 1}: ${b.label}${score} ${b.kind} [${b.coords.map(round2).join(", ")}]`;
    list.appendChild(li);
  });
  masks.forEach((m, i) => {
    const li = document.createElement("li");
    li.dataset.layer = "mask";
    li.dataset.color = colorFor(m.label || "mask");
    li.style.setProperty("--layer-color", li.dataset.color);
    li.textContent = `mask ${i + 1}${m.label ? `: ${m.label}` : ""}`;
    list.appendChild(li);
  });
  $("download-geojson").disabled = boxes.length + masks.length === 0 && !state.result.geojson;
  render();
}

function downloadGeojson() {
  const gj = state.result.geojson || pixelGeojson();
  const blob = new Blob([JSON.stringify(gj, null, 1)], { type: "application/geo+json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  const stem = state.image ? state.image.name.replace(/\.[^.]*$/, "") : "earthgpt";
  a.download = `${stem}.geojson`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// ----- chat ---------------------------------------------------------------------------------------------------------

function addMessage(role, text) {
  const li = document.createElement("li");
  li.className = role;
  li.textContent = text;
  $("messages").appendChild(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

function forgetRegionPlans() {
  for (const o of $("view-plans").querySelectorAll("option[data-region]")) o.remove();
}

function resetChat() {
  forgetRegionPlans();
  state.messages = [];
  state.prompts = [];
  state.draft = null;
  $("prompt-list").replaceChildren();
  $("messages").replaceChildren();
  setResult({});
}

async function ask(ev) {
  ev.preventDefault();
  const text = $("question").value.trim();
  if (!text || state.busy) return;
  const content = [];
  if (state.image && !state.messages.length) content.push({ type: "image_url", image_url: { url: state.image.dataUrl } });
  content.push({ type: "text", text });
  const message = { role: "user", content: content.length === 1 ? text : content };
  const body = {
    model: state.model,
    messages: [...state.messages, message],
    max_tokens: Number($("max-tokens").value) || 256,
    temperature: 0,
  };
  const views = $("views").value.trim();
  if (state.prompts.length || views) body.earthgpt = { prompts: state.prompts, ...(views ? { views } : {}) };
  state.busy = true;
  $("send").disabled = true;
  addMessage("user", text);
  setStatus("thinking ...");
  try {
    const resp = await fetch("v1/chat/completions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!resp.ok) throw new Error(await errorMessage(resp));
    const data = await resp.json();
    const answer = data.choices[0].message;
    state.messages = [...body.messages, { role: "assistant", content: answer.content ?? "" }];
    addMessage("assistant", answer.content ?? "");
    $("question").value = "";
    setResult(answer.earthgpt || {});
    const ext = answer.earthgpt || {};
    const warn = (ext.warnings || []).concat(ext.geojson && ext.geojson.warning ? [ext.geojson.warning] : []);
    setStatus(`${state.result.boxes.length} boxes, ${state.result.masks.length} masks${warn.length ? "; " + warn.join("; ") : ""}`);
  } catch (e) {
    addMessage("error", e.message);
    setStatus(e.message, true);
  } finally {
    state.busy = false;
    $("send").disabled = false;
  }
}

async function loadModelName() {
  try {
    const resp = await fetch("v1/models");
    if (!resp.ok) return;
    const data = await resp.json();
    if (data.data && data.data.length) {
      state.model = data.data[0].id;
      $("model-name").textContent = state.model;
    }
  } catch (e) {
    /* the page still works; the request names the default model */
  }
}

// ----- wiring -------------------------------------------------------------------------------------------------------

$("file-input").addEventListener("change", (ev) => ev.target.files.length && openFile(ev.target.files[0]));
const zone = $("drop-zone");
zone.addEventListener("dragover", (ev) => {
  ev.preventDefault();
  zone.classList.add("dragging");
});
zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
zone.addEventListener("drop", (ev) => {
  ev.preventDefault();
  zone.classList.remove("dragging");
  if (ev.dataTransfer.files.length) openFile(ev.dataTransfer.files[0]);
});
for (const id of ["layer-prompts", "layer-boxes", "layer-masks", "layer-labels"]) $(id).addEventListener("change", render);
$("profile").addEventListener("change", reviewRaster);
$("bands").addEventListener("change", reviewRaster);
$("clear-prompts").addEventListener("click", clearPrompts);
$("download-geojson").addEventListener("click", downloadGeojson);
$("ask-form").addEventListener("submit", ask);
$("new-chat").addEventListener("click", () => {
  resetChat();
  render();
  setStatus("new chat");
});
$("question").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) ask(ev);
});
loadModelName();
render();
