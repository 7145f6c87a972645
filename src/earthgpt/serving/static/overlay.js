// EarthGPT web page, the overlay: the canvas drawn from the page's state (image, prompts, the answer's boxes and
// masks, labels; each layer behind its checkbox), COCO RLE masks decoded, and the answer as pixel GeoJSON.
// Loaded before page.js, which holds `state`, `view`, `canvas` and `ctx` (classic scripts share their globals).
"use strict";

const PROMPT_COLOR = "#ffd400";
const PALETTE = ["#00e5ff", "#ff3b30", "#34c759", "#ff9500", "#af52de", "#ff2d92", "#5ac8fa", "#a2845e"];
const RLE_MAX_PIXELS = 4096 * 4096; // masks without polygons are decoded from RLE only up to this image size

function colorFor(label) {
  let h = 0;
  for (const ch of String(label)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

// ----- rendering ----------------------------------------------------------------------------------------------------

function strokePath(points, close) {
  ctx.beginPath();
  points.forEach(([x, y], i) => (i ? ctx.lineTo(x * view.scale, y * view.scale) : ctx.moveTo(x * view.scale, y * view.scale)));
  if (close) ctx.closePath();
}

function drawLabel(text, x, y, color) {
  ctx.font = "12px sans-serif";
  const w = ctx.measureText(text).width + 6;
  const top = Math.max(0, y - 16);
  ctx.fillStyle = "rgba(0, 0, 0, 0.65)";
  ctx.fillRect(x, top, w, 16);
  ctx.fillStyle = color;
  ctx.fillText(text, x + 3, top + 12);
}

function drawPrompt(p, index) {
  ctx.strokeStyle = PROMPT_COLOR;
  ctx.fillStyle = PROMPT_COLOR;
  ctx.lineWidth = 2;
  let anchor;
  if (p.kind === "point") {
    const [x, y] = p.points[0];
    ctx.beginPath();
    ctx.arc(x * view.scale, y * view.scale, 5, 0, 2 * Math.PI);
    ctx.fill();
    anchor = [x, y];
  } else if (p.kind === "box") {
    const [[x1, y1], [x2, y2]] = p.points;
    ctx.strokeRect(x1 * view.scale, y1 * view.scale, (x2 - x1) * view.scale, (y2 - y1) * view.scale);
    anchor = [Math.min(x1, x2), Math.min(y1, y2)];
  } else {
    strokePath(p.strokes[0], false);
    ctx.stroke();
    anchor = p.strokes[0][0];
  }
  if (index !== null && $("layer-labels").checked) drawLabel(`<region${index + 1}>`, anchor[0] * view.scale, anchor[1] * view.scale, PROMPT_COLOR);
}

function boxCorners(coords) {
  if (coords.length === 4) {
    const [x1, y1, x2, y2] = coords;
    return [[x1, y1], [x2, y1], [x2, y2], [x1, y2]];
  }
  const pts = [];
  for (let i = 0; i + 1 < coords.length; i += 2) pts.push([coords[i], coords[i + 1]]);
  return pts;
}

function drawBox(b) {
  const color = colorFor(b.label);
  const corners = boxCorners(b.coords);
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  strokePath(corners, true);
  ctx.stroke();
  if ($("layer-labels").checked) {
    const top = corners.reduce((a, c) => (c[1] < a[1] ? c : a));
    const score = typeof b.score === "number" ? ` ${b.score.toFixed(2)}` : "";
    drawLabel(`${b.label}${score}`, top[0] * view.scale, top[1] * view.scale, color);
  }
}

function polygonRings(mask) {
  // [[x, y], ...] rings from COCO-style flat lists [x1, y1, x2, y2, ...] or from point lists
  return (mask.polygons || []).map((poly) => (typeof poly[0] === "number" ? boxCorners(poly) : poly));
}

function drawMask(m, i) {
  const color = colorFor(m.label || "mask");
  const rings = polygonRings(m);
  if (rings.length) {
    ctx.fillStyle = color + "66";
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (const ring of rings) ring.forEach(([x, y], k) => (k ? ctx.lineTo(x * view.scale, y * view.scale) : ctx.moveTo(x * view.scale, y * view.scale)));
    ctx.fill("evenodd");
    ctx.stroke();
  } else if (state.maskImages[i]) {
    ctx.drawImage(state.maskImages[i], 0, 0, canvas.width, canvas.height);
  } else {
    return false;
  }
  if ($("layer-labels").checked && rings.length && rings[0].length) {
    const [x, y] = rings[0][0];
    drawLabel(m.label || `mask ${i + 1}`, x * view.scale, y * view.scale, color);
  }
  return true;
}

function render() {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  let boxes = 0;
  let masks = 0;
  let prompts = 0;
  if (state.image) {
    ctx.drawImage(state.image.bitmap, 0, 0, canvas.width, canvas.height);
    if ($("layer-masks").checked) state.result.masks.forEach((m, i) => (masks += drawMask(m, i) ? 1 : 0));
    if ($("layer-boxes").checked) {
      state.result.boxes.forEach(drawBox);
      boxes = state.result.boxes.length;
    }
    if ($("layer-prompts").checked) {
      state.prompts.forEach((p, i) => drawPrompt(p, i));
      prompts = state.prompts.length;
    }
    if (state.draft) drawPrompt(state.draft, null);
  }
  canvas.dataset.boxes = String(boxes);
  canvas.dataset.masks = String(masks);
  canvas.dataset.prompts = String(prompts);
}

// ----- RLE masks (COCO compressed counts, column-major) -------------------------------------------------------------

function rleCounts(s) {
  // pycocotools maskApi.c rleFrString: 5 bits per char, continuation bit 0x20, sign bit 0x10, deltas from m-2
  const counts = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = 1;
    let c = 0;
    while (more) {
      c = s.charCodeAt(p) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = c & 0x20;
      p += 1;
      k += 1;
      if (!more && c & 0x10) x |= -1 << (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

function rleCanvas(rle, color) {
  const [h, w] = rle.size;
  if (w * h > RLE_MAX_PIXELS) return null;
  const counts = typeof rle.counts === "string" ? rleCounts(rle.counts) : rle.counts;
  const off = document.createElement("canvas");
  off.width = w;
  off.height = h;
  const octx = off.getContext("2d");
  const img = octx.createImageData(w, h);
  const rgb = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
  let pos = 0;
  counts.forEach((n, j) => {
    if (j % 2 === 1) {
      for (let q = pos; q < pos + n; q += 1) {
        const x = Math.floor(q / h);
        const y = q % h;
        const o = 4 * (y * w + x);
        img.data[o] = rgb[0];
        img.data[o + 1] = rgb[1];
        img.data[o + 2] = rgb[2];
        img.data[o + 3] = 110;
      }
    }
    pos += n;
  });
  octx.putImageData(img, 0, 0);
  return off;
}

// ----- GeoJSON in image pixels ------------------------------------------------------------------------------------

function pixelGeojson() {
  // the answer's boxes and masks as GeoJSON in image pixels (x right, y down) for an image without a CRS
  const features = [];
  for (const b of state.result.boxes) {
    const ring = boxCorners(b.coords);
    features.push({
      type: "Feature",
      geometry: { type: "Polygon", coordinates: [[...ring, ring[0]]] },
      properties: { label: b.label, kind: b.kind, score: b.score ?? null, pixel_coords: b.coords },
    });
  }
  state.result.masks.forEach((m, i) => {
    const rings = polygonRings(m).filter((r) => r.length >= 3);
    if (!rings.length) return;
    features.push({
      type: "Feature",
      geometry: { type: "MultiPolygon", coordinates: rings.map((r) => [[...r, r[0]]]) },
      properties: { label: m.label || `mask ${i + 1}`, kind: "mask" },
    });
  });
  return { type: "FeatureCollection", features, warning: "the image has no CRS: coordinates are image pixels (x to the right, y down)" };
}
