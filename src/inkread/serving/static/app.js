// inkread drawing page: draw (or drop an image), get predictions while drawing, teach corrections.
// Plain JavaScript, no build step and no external code: the page works offline.
"use strict";

(() => {
  const API = "/api/v1";
  const DEBOUNCE_MS = 150;          // predict this long after the pen last moved
  const ANSWER_TIMEOUT_MS = 15000;  // a server that takes longer is hung or overloaded: say so
  const PEN_WIDTH = 0.06;           // of the pad height: a marker, thick like MNIST strokes
  const PAD_SIZE = 560;             // canvas pixels of the square pad (one character)
  const SHRUNK_MARGIN = 0.05;       // of the square pad: paper left around a drawing shrunk to fit it
  // text mode: 2:1, and at most 1024 wide, the size the decoder works at (no resampling)
  const TEXT_PAD = { width: 1024, height: 512 };
  const STORAGE_KEY = "inkread.settings";
  const UPLOAD_MAX_PIXELS = 4 * 1024 * 768;  // uploads are reduced to this (4x what the server reads at)
  const UPLOAD_MAX_BYTES = 4 * 1024 * 1024;  // ...and re-encoded above this (half the server's 8 MB limit)
  const IDENTITY = { x: 0, y: 0, scale: 1 };  // an image sent whose pixels are the text pad's
  const PIXELATED_FROM = 4;         // an upload shown this many times its size or more shows its pixels, unsmoothed

  const $ = (id) => document.getElementById(id);
  const canvas = $("canvas");
  const overlay = $("overlay");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });  // placeBadge reads the corners back
  const octx = overlay.getContext("2d");
  const pad = $("pad");

  const TEXT_VIEW = { scale: 1, x: 0, y: 0 };

  const state = {
    models: [],
    // Strokes are kept in pixels of the text pad whatever the mode: a mode switch changes how they are
    // shown (the view), never the strokes, so switching back gives the very same drawing.
    strokes: [],        // finished strokes: arrays of {x, y} in text pad pixels
    view: TEXT_VIEW,    // text pad pixels -> canvas pixels: {scale, x, y}
    current: null,      // the stroke being drawn
    pointerId: null,
    background: null,   // an uploaded image: {file, bitmap, fit: {x, y, scale}} (fit in text pad pixels)
                        // bitmap null: a format the browser cannot show (TIFF...), sent as it is (see unshown)
    setAside: null,     // an unshown upload a stroke replaced: the first stroke's Undo brings it back
    replaced: null,     // the drawing an upload, a drop or Clear replaced: Undo brings it back
    pointerType: "",    // of the stroke being drawn ("touch" may be a palm: a pen takes over from it)
    controller: null,   // AbortController of the request in flight
    pending: false,     // the pen moved while a request was in flight: predict again when it is answered
    timer: 0,
    sequence: 0,        // answers to older requests are dropped
    lastImage: null,    // the Blob behind the result shown (what "Teach it" stores)
    lastAnswer: null,
    lastFit: null,      // where the pixels of the image last answered are on the text pad (currentImage's fit)
    drawing: 0,         // counts changes of the drawing (strokes, undo, clear, upload)
    answered: -1,       // the value of ``drawing`` when the image behind the result shown was taken
  };

  // --- settings ------------------------------------------------------------------------------

  const settings = () => ({
    model: $("model").value,
    only: document.querySelector('input[name="only"]:checked').value,
    mode: document.querySelector('input[name="mode"]:checked').value,
    words: document.querySelector('input[name="words"]:checked').value,
  });

  function saveSettings() {
    if (!state.models.length) return;  // no model chosen yet: the saved choice must not become ""
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify(settings())); } catch (_) { /* private mode */ }
  }

  function loadSettings() {
    try { return JSON.parse(localStorage.getItem(STORAGE_KEY)) || {}; } catch (_) { return {}; }
  }

  function currentModel() {
    return state.models.find((m) => m.name === $("model").value) || state.models[0];
  }

  // A line model reads whole lines (the API's /read only): it has no single-character answers.
  const isLine = (model) => Boolean(model) && model.kind === "line";

  // The word lists ("english") the server can look up the words read in: text read by one of its line models.
  function offeredWords() {
    const model = currentModel();
    return settings().mode === "text" && isLine(model) ? model.lexicons || [] : [];
  }

  // The word list chosen, if it is offered: the words read become the listed words that fit their ink best.
  function wordList() {
    const { words } = settings();
    return offeredWords().includes(words) ? words : "";
  }

  // --- drawing -------------------------------------------------------------------------------

  const hasInk = () => state.strokes.length > 0 || state.current !== null || state.background !== null;

  // The pen's width in text pad pixels, like the strokes: a drawing the square pad shows shrunk (a word
  // written in text mode) is shrunk with its pen, so its loops stay open.
  const PEN_PX = Math.round(TEXT_PAD.height * PEN_WIDTH);

  function setupPen(context) {
    context.lineCap = "round";
    context.lineJoin = "round";
    context.lineWidth = PEN_PX;  // drawn under the view's transform
    context.strokeStyle = "#111";
    context.fillStyle = "#111";
  }

  // A smooth stroke: quadratic curves through the midpoints, with the points as control points. ``context``
  // is the pad's, or the sheet an upload is sent on (``inkedUpload``), transformed from text pad pixels.
  function drawStroke(context, points) {
    setupPen(context);
    if (points.length === 1) {
      context.beginPath();
      context.arc(points[0].x, points[0].y, context.lineWidth / 2, 0, Math.PI * 2);
      context.fill();
      return;
    }
    context.beginPath();
    context.moveTo(points[0].x, points[0].y);
    for (let i = 1; i < points.length - 1; i++) {
      const mid = { x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2 };
      context.quadraticCurveTo(points[i].x, points[i].y, mid.x, mid.y);
    }
    const last = points[points.length - 1];
    context.lineTo(last.x, last.y);
    context.stroke();
  }

  // The strokes drawn, the one being drawn last
  const allStrokes = () => (state.current ? [...state.strokes, state.current] : state.strokes);

  function render() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#fff";  // opaque white paper: the PNG sent is dark ink on light, like a scan
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const { scale, x, y } = state.view;
    ctx.setTransform(scale, 0, 0, scale, x, y);  // the pen keeps its width in canvas pixels: setupPen divides
    const bg = state.background;
    if (bg && bg.bitmap) {
      // A small bitmap shown several times its size (a 28x28 digit, 18 times) shows its pixels, as image viewers
      // do: smoothed, it was a blur whose strokes could not be told from their anti-aliasing
      ctx.imageSmoothingEnabled = bg.fit.scale * scale < PIXELATED_FROM;
      ctx.drawImage(bg.bitmap, bg.fit.x, bg.fit.y, bg.bitmap.width * bg.fit.scale, bg.bitmap.height * bg.fit.scale);
      ctx.imageSmoothingEnabled = true;
    }
    for (const stroke of allStrokes()) drawStroke(ctx, stroke);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    pad.classList.toggle("has-ink", hasInk());
    showNote();
    const focused = document.activeElement;
    $("undo").disabled = state.strokes.length === 0 && !state.background && !state.replaced;
    $("clear").disabled = !hasInk();
    // A button that disables itself under the keyboard would drop focus to <body>, the top of the page:
    // the pad is where the user goes on from there.
    if ((focused === $("undo") || focused === $("clear")) && focused.disabled) canvas.focus();
  }

  // Where a pointer event is, in text pad pixels (the strokes' coordinates).
  function toPad(event) {
    const rect = canvas.getBoundingClientRect();
    const { scale, x, y } = state.view;
    return {
      x: ((event.clientX - rect.left) * (canvas.width / rect.width) - x) / scale,
      y: ((event.clientY - rect.top) * (canvas.height / rect.height) - y) / scale,
    };
  }

  // How the square pad of one character shows the drawing. Its square is the middle of the text pad, at the
  // same height: a character keeps its size on the pad and its place, and a round trip between the modes
  // is the identity. A drawing that does not fit in that square (a word written in text mode) is shown
  // whole instead, shrunk and centred, until the mode changes or the pad is cleared.
  function charView() {
    const scale = PAD_SIZE / TEXT_PAD.height;
    const side = (TEXT_PAD.width - TEXT_PAD.height) / 2;
    const middle = { scale, x: -side * scale, y: 0 };
    const box = contentBox(PEN_PX / 2);
    if (!box || (box.left >= side - 0.5 && box.right <= TEXT_PAD.width - side + 0.5)) return middle;
    const room = PAD_SIZE * (1 - 2 * SHRUNK_MARGIN);
    const fit = Math.min(scale, room / (box.right - box.left), room / (box.bottom - box.top));
    return {
      scale: fit,
      x: PAD_SIZE / 2 - ((box.left + box.right) / 2) * fit,
      y: PAD_SIZE / 2 - ((box.top + box.bottom) / 2) * fit,
    };
  }

  // The part of the text pad with the strokes (their points, ``r`` around) or the uploaded image on it
  // (null when blank).
  function contentBox(r) {
    let { left, top, right, bottom } = strokesBox(r);
    const bg = state.background;
    if (bg && bg.bitmap) {
      left = Math.min(left, bg.fit.x); right = Math.max(right, bg.fit.x + bg.bitmap.width * bg.fit.scale);
      top = Math.min(top, bg.fit.y); bottom = Math.max(bottom, bg.fit.y + bg.bitmap.height * bg.fit.scale);
    }
    // ink beyond the text pad's edges (a stroke that left the pad) is not shown there either
    left = Math.max(left, 0); top = Math.max(top, 0);
    right = Math.min(right, TEXT_PAD.width); bottom = Math.min(bottom, TEXT_PAD.height);
    return right >= left && bottom >= top ? { left, top, right, bottom } : null;
  }

  // The box around the strokes' points (the one being drawn too), ``r`` around them (infinite bounds,
  // inside out, without strokes).
  function strokesBox(r) {
    let left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity;
    for (const stroke of allStrokes()) {
      for (const p of stroke) {
        left = Math.min(left, p.x - r); right = Math.max(right, p.x + r);
        top = Math.min(top, p.y - r); bottom = Math.max(bottom, p.y + r);
      }
    }
    return { left, top, right, bottom };
  }

  // Strokes drawn in character mode around a drawing shown shrunk (a word) lie beyond the text pad's
  // edges: back in text mode they were neither shown nor read. The whole drawing is then shrunk (and
  // moved no more than needed) to fit the pad, as the character view showed it: ink drawn is never lost.
  function strokesOntoThePad() {
    const margin = TEXT_PAD.height * 0.02;
    const { left, top, right, bottom } = strokesBox(PEN_PX / 2);
    if (!(right > left) || (left >= 0 && top >= 0 && right <= TEXT_PAD.width && bottom <= TEXT_PAD.height)) return;
    const scale = Math.min(1, (TEXT_PAD.width - 2 * margin) / (right - left), (TEXT_PAD.height - 2 * margin) / (bottom - top));
    const width = (right - left) * scale, height = (bottom - top) * scale;
    // where the shrunk box goes: as near its centre's place as the pad allows
    const centreX = Math.min(Math.max((left + right) / 2, margin + width / 2), TEXT_PAD.width - margin - width / 2);
    const centreY = Math.min(Math.max((top + bottom) / 2, margin + height / 2), TEXT_PAD.height - margin - height / 2);
    const middleX = (left + right) / 2, middleY = (top + bottom) / 2;
    state.strokes = state.strokes.map((stroke) => stroke.map((p) => ({
      ...p, x: centreX + (p.x - middleX) * scale, y: centreY + (p.y - middleY) * scale,
    })));
    drawingChanged();
  }

  function updateView() {
    state.view = pad.dataset.mode === "text" ? TEXT_VIEW : charView();
  }

  canvas.addEventListener("pointerdown", (event) => {
    // On a tablet the palm often lands before the pen: its touch held the stroke and the pen wrote
    // nothing. A pen takes over from a touch, whose "stroke" is dropped.
    if (state.pointerId !== null && event.pointerType === "pen" && state.pointerType === "touch") {
      state.current = null;
      state.pointerId = null;
    }
    // the main button only: a mouse's right button, a pen's barrel button or eraser end draw nothing
    if (state.pointerId !== null || (event.pointerType !== "touch" && event.button !== 0)) return;
    event.preventDefault();
    state.pointerId = event.pointerId;
    state.pointerType = event.pointerType;
    try {
      canvas.setPointerCapture(event.pointerId);  // keep the stroke when the pen leaves the pad
    } catch (error) {
      // a pointer the browser no longer tracks (or a synthetic event): draw without capture
    }
    state.current = [toPad(event)];
    if (state.background && !state.background.bitmap) {
      // Ink cannot be drawn over a picture the pad does not show (what would be sent is the stroke on
      // blank paper): the stroke starts a new drawing, and the note says so.
      state.setAside = state.background;
      state.background = null;
    }
    clearBoxes();
    drawingChanged();
    render();
  });

  canvas.addEventListener("pointermove", (event) => {
    if (event.pointerId !== state.pointerId || !state.current) return;
    event.preventDefault();
    // coalesced events: every sample the pen made since the last frame, for smooth fast strokes
    const samples = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const sample of samples.length ? samples : [event]) {
      const point = toPad(sample);
      const last = state.current[state.current.length - 1];
      if (Math.hypot(point.x - last.x, point.y - last.y) * state.view.scale >= 1.5) state.current.push(point);
    }
    render();
    schedulePredict(DEBOUNCE_MS);
  });

  function endStroke(event) {
    if (event.pointerId !== state.pointerId) return;
    state.pointerId = null;
    if (state.current) {
      state.strokes.push(state.current);
      state.current = null;
      state.drawing++;  // answers to the stroke half-drawn are not about the finished drawing ("Teach it")
    }
    render();
    schedulePredict(0);
  }
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);
  canvas.addEventListener("contextmenu", (event) => event.preventDefault());

  function undo() {
    drawingChanged();
    if (state.strokes.length) state.strokes.pop();
    else if (state.replaced) {  // the upload, drop or Clear that replaced a drawing is undone: the drawing is back
      ({ strokes: state.strokes, background: state.background, setAside: state.setAside } = state.replaced);
      state.replaced = null;
      updateView();
    } else state.background = null;
    if (state.strokes.length === 0 && state.setAside) {  // the stroke that replaced an unshown upload: back to it
      state.background = state.setAside;
      state.setAside = null;
    }
    if (!hasInk()) updateView();  // a blank pad starts over at its natural size
    render();
    schedulePredict(0);
  }

  // What a new drawing (an upload, a drop, Clear) replaces, for Undo to bring back: a drop anywhere on the
  // page wiped the drawing for good.
  function keepForUndo() {
    if (state.strokes.length || state.background) {
      state.replaced = { strokes: state.strokes, background: state.background, setAside: state.setAside };
    }
  }

  function clearAll() {
    drawingChanged();
    keepForUndo();
    state.strokes = [];
    state.current = null;
    state.background = null;
    state.setAside = null;
    updateView();
    render();
    clearBoxes();
    abortRequest();
    showEmpty();
  }

  $("undo").addEventListener("click", undo);
  $("clear").addEventListener("click", clearAll);

  // Keys for the pad: on it, or on nothing after drawing on it. Its pointerdown takes no focus (its default is
  // prevented, so a drag selects no text), and focused by script after every stroke, the pad showed the
  // keyboard's focus ring each time: Backspace and Delete did nothing after drawing with a mouse.
  let padUsedLast = false;
  document.addEventListener("pointerdown", (event) => { padUsedLast = event.target === canvas; }, true);
  const onPad = (event) => event.target === canvas || (event.target === document.body && padUsedLast);

  document.addEventListener("keydown", (event) => {
    // in a text field Ctrl+Z undoes typing; on the radio buttons and the model menu it undoes a stroke
    const typing = (event.target instanceof HTMLInputElement && !["radio", "checkbox", "button", "file"].includes(event.target.type))
      || event.target instanceof HTMLTextAreaElement;
    // Ctrl+Z undoes; Ctrl+Shift+Z is redo elsewhere, which this page has not: it must not undo
    if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z" && !typing) {
      event.preventDefault();
      undo();
    } else if (onPad(event) && event.key === "Backspace") {
      event.preventDefault();
      undo();  // as in a text field: the last thing drawn
    } else if (onPad(event) && event.key === "Delete") {
      event.preventDefault();
      clearAll();
    }
  });

  // --- uploads and drops ---------------------------------------------------------------------

  $("upload").addEventListener("click", () => $("file").click());
  $("file").addEventListener("change", () => {
    const file = $("file").files[0];
    if (file) useFile(file);
    $("file").value = "";  // choosing the same file again fires change again
  });

  let dragDepth = 0;
  document.addEventListener("dragenter", (event) => {
    if (!event.dataTransfer || !Array.from(event.dataTransfer.types).includes("Files")) return;
    event.preventDefault();
    dragDepth++;
    pad.classList.add("dragging");
    $("drop-hint").hidden = false;
  });
  document.addEventListener("dragover", (event) => event.preventDefault());
  document.addEventListener("dragleave", () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) endDrag();
  });
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    dragDepth = 0;
    endDrag();
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) useFile(file);
  });
  function endDrag() {
    pad.classList.remove("dragging");
    $("drop-hint").hidden = true;
  }

  async function useFile(file) {
    document.body.dataset.busy = "true";  // a large image takes the browser seconds to decode
    drawingChanged();
    keepForUndo();
    state.strokes = [];
    state.current = null;
    state.setAside = null;
    let bitmap = null;
    try {
      bitmap = await createImageBitmap(file);
    } catch (_) {
      // a format the browser cannot show: a scanner's TIFF is decoded here; others the server may still read
      try {
        bitmap = await tiffBitmap(file);
      } catch (_) {
        bitmap = null;  // a TIFF kind tiffBitmap does not know (CCITT fax, tiles...) or a broken file
      }
    }
    if (bitmap && (bitmap.width * bitmap.height > UPLOAD_MAX_PIXELS || file.size > UPLOAD_MAX_BYTES)) {
      try {
        ({ file, bitmap } = await reducedUpload(file, bitmap));
      } catch (_) {
        // no canvas encoder (an old browser): send the file as it is; the server says if it is too large
      }
    }
    const fit = bitmap ? fitInto(bitmap.width, bitmap.height) : { x: 0, y: 0, scale: 1 };
    state.background = { file, bitmap, fit, read: null };  // read: what the server read in an unshown image
    updateView();  // the square pad shows the whole image
    clearBoxes();
    render();
    predictNow();
  }

  // A phone photo (12-48 MP, often more than the server's 8 MB body limit) is sent reduced to
  // UPLOAD_MAX_PIXELS: the server reads every image at about 0.8 MP (decode.py's WORK_PIXELS), and small
  // writing again closer, in a region of at most 1.6 MP (closer.py's CLOSE_PIXELS), so the pixels beyond
  // that are upload time for little. The bitmap is already upright (EXIF applied), and
  // so is what is sent.
  async function reducedUpload(file, bitmap) {
    const scale = Math.min(1, Math.sqrt(UPLOAD_MAX_PIXELS / (bitmap.width * bitmap.height)));
    const width = Math.max(1, Math.round(bitmap.width * scale)), height = Math.max(1, Math.round(bitmap.height * scale));
    const small = new OffscreenCanvas(width, height);
    const smallCtx = small.getContext("2d");
    smallCtx.imageSmoothingQuality = "high";
    smallCtx.drawImage(bitmap, 0, 0, width, height);
    const reduced = await encodeLike(small, file);
    bitmap.close();
    return { file: reduced, bitmap: await createImageBitmap(small) };
  }

  // The pixels of ``sheet`` (an OffscreenCanvas) as a file to send in place of the upload ``file``: a JPEG
  // stays a JPEG; other images become PNGs (which keep transparency) unless that is still large, as a
  // noisy photo's PNG is. (convertToBlob, not canvasPng's synchronous encoder, which holds the page, and
  // the pen in the middle of a stroke, for all of a 3 MP image's encoding: 0.1-0.15 s on a desktop CPU;
  // convertToBlob does not wait for idle time as canvas.toBlob does: 70 ms for a JPEG, 190 ms for a PNG.)
  async function encodeLike(sheet, file) {
    let blob = file.type === "image/jpeg" ? null : await sheet.convertToBlob({ type: "image/png" });
    if (!blob || blob.size > UPLOAD_MAX_BYTES) {
      const sheetCtx = sheet.getContext("2d");
      sheetCtx.setTransform(1, 0, 0, 1, 0, 0);
      sheetCtx.globalCompositeOperation = "destination-over";  // JPEG has no transparency: paper-white behind
      sheetCtx.fillStyle = "#fff";
      sheetCtx.fillRect(0, 0, sheet.width, sheet.height);
      sheetCtx.globalCompositeOperation = "source-over";
      blob = await sheet.convertToBlob({ type: "image/jpeg", quality: 0.92 });
    }
    const base = (file.name || "image").replace(/\.[^.]*$/, "");
    return new File([blob], `${base}${blob.type === "image/png" ? ".png" : ".jpg"}`, { type: blob.type });
  }

  // Strokes drawn over an uploaded image are sent drawn onto the image at its own resolution (the file
  // as uploaded, or as reduced by reducedUpload), not as the pad shows them: the pad is 1024x512 (560x560
  // for one character), where a 4000x3000 photo is 683x512 (560x420), and writing shrunk with it read
  // worse than the photo alone (a phone number 300 px tall, "0612 334" alone, read "062334 1" once a 1
  // was drawn beside it; on the photo, "0612 334 1"). Text pad pixels
  // map onto the image's by its fit, so the pen keeps the width it has over the image on the pad. Ink
  // drawn beside the image, on the pad's paper around it, is kept: the image is sent on a sheet of white
  // paper large enough to take it in, as the pad shows it. The answer's boxes are placed by the sheet's fit.
  async function inkedUpload(bg) {
    const { fit, bitmap } = bg;
    const ink = strokesBox(PEN_PX / 2);  // in text pad pixels
    const left = Math.floor(Math.min(0, (ink.left - fit.x) / fit.scale));  // the sheet, in the image's pixels
    const top = Math.floor(Math.min(0, (ink.top - fit.y) / fit.scale));
    const right = Math.ceil(Math.max(bitmap.width, (ink.right - fit.x) / fit.scale));
    const bottom = Math.ceil(Math.max(bitmap.height, (ink.bottom - fit.y) / fit.scale));
    // An image smaller than the pad (a 28x28 digit, shown 18 times larger) is sent as large as the pad
    // shows it: at its own size the strokes over it were shrunk to a few pixels, a pen's width to 2
    // (a 1x1 image with a 7 drawn over it was refused as too small to hold a character). A stroke far
    // beside an image as large as it is sent could make the sheet too large to send: then all of it is
    // shrunk to UPLOAD_MAX_PIXELS, as an upload is.
    const scale = Math.min(Math.max(1, fit.scale), Math.sqrt(UPLOAD_MAX_PIXELS / ((right - left) * (bottom - top))));
    const sheet = new OffscreenCanvas(Math.max(1, Math.floor((right - left) * scale)), Math.max(1, Math.floor((bottom - top) * scale)));
    const sheetCtx = sheet.getContext("2d");
    sheetCtx.fillStyle = "#fff";  // the pad's paper, around the image and under its transparent parts
    sheetCtx.fillRect(0, 0, sheet.width, sheet.height);
    sheetCtx.imageSmoothingQuality = "high";
    sheetCtx.setTransform(scale, 0, 0, scale, -left * scale, -top * scale);  // image pixels -> sheet pixels
    sheetCtx.drawImage(bitmap, 0, 0);
    sheetCtx.transform(1 / fit.scale, 0, 0, 1 / fit.scale, -fit.x / fit.scale, -fit.y / fit.scale);  // text pad pixels -> image pixels
    for (const stroke of allStrokes()) drawStroke(sheetCtx, stroke);
    const image = await encodeLike(sheet, bg.file);
    return { image, fit: { x: fit.x + left * fit.scale, y: fit.y + top * fit.scale, scale: fit.scale / scale } };
  }

  // "contain": the whole image, centred, as large as the text pad allows (the square pad's view shows it whole)
  function fitInto(width, height) {
    const scale = Math.min(TEXT_PAD.width / width, TEXT_PAD.height / height);
    return { x: (TEXT_PAD.width - width * scale) / 2, y: (TEXT_PAD.height - height * scale) / 2, scale };
  }

  // --- TIFF, which browsers do not decode ------------------------------------------------------

  // Scanners save TIFF, and no browser but Safari shows it. UTIF.js (Photopea's TIFF decoder, vendored
  // with pako's inflate: static/vendor/LICENSES.md) decodes it, loaded on the first TIFF only, so that a
  // scan is shown, boxed and drawn over like a PNG, and shrunk when large (an A4 page at 300 dpi is
  // 8.7 MB uncompressed, over the server's limit). What it cannot decode throws: the page then says it
  // cannot show the image, and sends it as it is for the server to read.
  const TIFF_MAX_PIXELS = 64 * 1024 * 1024;  // 256 MB of RGBA: a larger image is left to the server
  let tiffDecoder = null;  // the promise of the loaded scripts

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`cannot load ${src}`));
      document.head.append(script);
    });
  }

  async function tiffBitmap(file) {
    const buffer = await file.arrayBuffer();
    const head = new Uint8Array(buffer, 0, Math.min(4, buffer.byteLength)).join(",");
    if (head !== "73,73,42,0" && head !== "77,77,0,42") throw new Error("not a TIFF");  // II*. or MM.*
    tiffDecoder = tiffDecoder || loadScript("/static/vendor/pako_inflate.min.js").then(() => loadScript("/static/vendor/UTIF.js"))
      .catch((error) => { tiffDecoder = null; throw error; });  // a failed load is tried again with the next TIFF
    await tiffDecoder;
    const pages = UTIF.decode(buffer);
    const first = pages[0];
    const width = first && first.t256 ? first.t256[0] : 0, height = first && first.t257 ? first.t257[0] : 0;
    if (!(width > 0 && height > 0) || width * height > TIFF_MAX_PIXELS) throw new Error("a TIFF this page does not show");
    // UTIF.js garbles gray images with an alpha channel, and false-colours RGB ones compressed as JPEG
    // (checked against Pillow): those are sent as they are, for the server to read
    const samples = first.t277 ? first.t277[0] : 1, photometric = first.t262 ? first.t262[0] : 1;
    const compression = first.t259 ? first.t259[0] : 1;
    if ((photometric <= 1 && samples > 1) || (photometric === 2 && (compression === 6 || compression === 7))) {
      throw new Error("a TIFF kind this page does not decode right");
    }
    UTIF.decodeImage(buffer, first, pages);
    const rgba = UTIF.toRGBA8(first);
    if (rgba.length !== width * height * 4) throw new Error("a TIFF kind this page does not decode");
    const stored = await createImageBitmap(new ImageData(new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.length), width, height));
    return upright(stored, first.t274 ? first.t274[0] : 1);
  }

  // A TIFF's Orientation tag (274) says how its stored pixels are turned to be seen upright: a page scanned
  // sideways is often saved as scanned, tagged 6 or 8. The server honours it (Pillow turns a TIFF on
  // loading, and decode.open_image applies any EXIF orientation left), and its boxes are in the upright
  // image's pixels: so the pad shows the TIFF upright too, and a large one is sent shrunk upright (without
  // the tag). Each transform takes a stored pixel to its upright place, as Pillow's exif_transpose does
  // ([a, b, c, d, e, f] of setTransform: x' = a x + c y + e, y' = b x + d y + f); 5-8 swap width and height.
  // Other values (1, none, or out of range) leave the pixels as they are, as Pillow does.
  function upright(bitmap, orientation) {
    const w = bitmap.width, h = bitmap.height;
    const transform = {
      2: [-1, 0, 0, 1, w, 0],   // mirrored left to right
      3: [-1, 0, 0, -1, w, h],  // upside down
      4: [1, 0, 0, -1, 0, h],   // mirrored top to bottom
      5: [0, 1, 1, 0, 0, 0],    // mirrored along the main diagonal
      6: [0, 1, -1, 0, h, 0],   // turned a quarter clockwise
      7: [0, -1, -1, 0, h, w],  // mirrored along the other diagonal
      8: [0, -1, 1, 0, 0, w],   // turned a quarter anticlockwise
    }[orientation];
    if (!transform) return bitmap;
    // (no OffscreenCanvas, as in Safari before 16.4: this throws, and the TIFF is sent as it is, for the server)
    const turned = new OffscreenCanvas(orientation >= 5 ? h : w, orientation >= 5 ? w : h);
    const turnedCtx = turned.getContext("2d");
    turnedCtx.imageSmoothingEnabled = false;  // whole pixels moved, none blended
    turnedCtx.setTransform(...transform);
    turnedCtx.drawImage(bitmap, 0, 0);
    bitmap.close();
    return turned.transferToImageBitmap();
  }

  // --- an upload the browser cannot show ------------------------------------------------------

  // A TIFF tiffBitmap does not decode (nor other formats the server reads): such an upload is sent as it is,
  // and the pad, which cannot show it, says so in words instead of staying blank. Its boxes in text mode
  // are not drawn either: without the picture there is nothing to place them on.
  const unshown = () => Boolean(state.background && !state.background.bitmap);

  // "TIFF image", or "file" for what is not an image at all
  // (by the file's extension where it has an image's: "image/x-portable-graymap" says less than ".pgm")
  function formatName(file) {
    const extension = (/\.(tiff?|pgm|ppm|pbm|pnm|tga|bmp|gif|png|jpe?g|webp|avif|ico)$/i.exec(file.name || "") || [])[1];
    const kind = extension ? extension.toUpperCase().replace(/^TIF$/, "TIFF").replace(/^JPG$/, "JPEG")
      : (file.type || "").startsWith("image/") ? file.type.slice(6).replace(/^x-|\+.*$/g, "").toUpperCase() : "";
    return kind ? `${kind} image` : "file";
  }

  function noteText() {
    if (unshown()) {
      const bg = state.background;
      const read = bg.read === null ? "the server reads it all the same."
        : bg.read.error === "too large" ? "it is too large to send as it is (see the result)."
        : bg.read.error ? "the server could not read it either."
        : bg.read.text ? `the server read it: “${bg.read.text}”.` : "the server found nothing to read in it.";
      return `This page cannot show this ${formatName(bg.file)}; ${read}`;
    }
    if (state.setAside && state.strokes.length + (state.current ? 1 : 0) > 0) {
      return `New drawing: the ${formatName(state.setAside.file)} is set aside (Undo brings it back).`;
    }
    return "";
  }

  function showNote() {
    const note = $("pad-note"), text = noteText();
    if (note.textContent !== text) note.textContent = text;  // aria-live: announced once, not on every render
    note.hidden = !text;
  }

  // The answer about an unshown upload goes into the pad's note (it is all the pad can show of it).
  function noteAnswer(image, read) {
    if (unshown() && image === state.background.file) {
      state.background.read = read;
      showNote();
    }
  }

  // --- predictions ---------------------------------------------------------------------------

  // While the pen moves, predict at most every DEBOUNCE_MS (a timer already pending is kept, so
  // answers keep coming during a long stroke); a finished stroke is predicted at once.
  function schedulePredict(delay) {
    if (delay > 0 && state.timer) return;
    clearTimeout(state.timer);
    state.timer = setTimeout(predictNow, delay);
    document.body.dataset.busy = "true";  // a prediction is on its way (tests wait for "false")
  }

  function abortRequest() {
    clearTimeout(state.timer);
    state.timer = 0;
    state.pending = false;
    if (state.controller) state.controller.abort();
    state.controller = null;
    document.body.dataset.busy = "false";
  }

  // What to send, and where its pixels are on the text pad (``fit``: pad = fit.x|y + pixel * fit.scale): the file
  // as uploaded when nothing was drawn over it, the strokes drawn onto it (``inkedUpload``) when something
  // was, else the pad as PNG.
  async function currentImage() {
    const bg = state.background;
    if (bg && allStrokes().length === 0) return { image: bg.file, fit: bg.bitmap ? bg.fit : IDENTITY };
    if (bg && bg.bitmap) {
      try {
        return await inkedUpload(bg);
      } catch (_) {
        // no OffscreenCanvas (Safari before 16.4), or no memory to encode it: the pad as it shows them
      }
    }
    return { image: canvasPng(), fit: IDENTITY };
  }

  // toDataURL, not toBlob: Chromium runs toBlob's encoder in idle time, which can wait up to a
  // second while the page is busy; the synchronous encoder takes a few milliseconds.
  function canvasPng() {
    const bytes = atob(canvas.toDataURL("image/png").split(",", 2)[1]);
    const buffer = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) buffer[i] = bytes.charCodeAt(i);
    return new Blob([buffer], { type: "image/png" });
  }

  // Asking an unreachable server again: twice as long each time, at most half a minute.
  const longerWait = (ms) => Math.min(2 * ms, 30000);
  // Answers that say the trouble may pass (a proxy's bad gateway or timeout, a server busy or failing for now)
  const PASSING_TROUBLE = [502, 503, 504];
  // A busy server's Retry-After (seconds; between 1 and 30 s), in ms; 0 if it sent none
  function retryAfterMs(response) {
    const seconds = Number(response.headers.get("retry-after"));
    return response.status === 503 && seconds > 0 ? Math.min(Math.max(seconds, 1), 30) * 1000 : 0;
  }

  async function predictNow() {
    clearTimeout(state.timer);
    state.timer = 0;
    if (!state.models.length) return;  // the models could not be listed: their error stays until init retries
    if (!hasInk()) { showEmpty(); return; }
    if (state.controller && state.pointerId !== null) {
      // Mid-stroke, the answer in flight is let finish and the newest drawing sent after it: cancelling
      // it for each newer one showed nothing at all while drawing once a round trip took over DEBOUNCE_MS.
      state.pending = true;
      return;
    }
    state.pending = false;
    if (state.controller) state.controller.abort();  // the stroke is finished: only its answer matters
    const controller = new AbortController();
    state.controller = controller;
    const sequence = ++state.sequence;
    const { model, only, mode } = settings();
    const lexicon = wordList();
    const settled = state.pointerId === null;  // no stroke in progress: this answer is the one to announce
    const drawing = state.drawing;
    document.body.dataset.busy = "true";
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; controller.abort(); }, ANSWER_TIMEOUT_MS);
    let image = null;
    try {
      const current = await currentImage();  // (over an upload it is encoded, a fraction of a second)
      if (sequence !== state.sequence) return;  // a newer request took over meanwhile
      image = current.image;
      const fit = current.fit;
      const form = new FormData();
      form.append("file", image, image.name || "drawing.png");
      form.append("model", model);
      form.append("top_k", "5");
      if (only) form.append("only", only);
      if (mode === "char") form.append("include_preprocessed", "true");
      if (lexicon) form.append("lexicon", lexicon);
      const response = await request(`${API}/${mode === "text" ? "read" : "predict"}`, {
        method: "POST", body: form, signal: controller.signal,
      });
      const answer = await response.json().catch(() => ({ detail: `the server answered ${response.status}` }));
      if (sequence !== state.sequence) return;
      if (response.status === 413 && unshown() && image === state.background.file) {
        // the page shrinks the large images it can show; this one it cannot, so the user has to
        throw Object.assign(new Error(`This file is too large to send (${(image.size / 1024 / 1024).toFixed(1)} MB), and ` +
          "this browser cannot reduce it: convert it to PNG or JPEG, or reduce it, and upload that."), { note: "too large" });
      }
      if (!response.ok) {
        throw Object.assign(new Error(answer.detail || `the server answered ${response.status}`),
          { passing: PASSING_TROUBLE.includes(response.status), retryAfterMs: retryAfterMs(response) });
      }
      checkAnswer(answer, mode);
      noteAnswer(image, { text: mode === "text" ? answer.text.replace(/\n/g, " / ") : answer.no_ink ? "" : answer.label });
      state.lastImage = image;
      state.lastFit = fit;
      state.lastAnswer = answer;
      state.answered = drawing;
      // settled when sent, and still: no new stroke begun meanwhile (its answer is let finish now)
      state.unreachableMs = 0;
      const still = settled && state.pointerId === null && drawing === state.drawing;
      if (mode === "text") showText(answer, still); else showPrediction(answer, still);
    } catch (error) {
      if (sequence !== state.sequence) return;
      if (timedOut) {  // not sent again on its own: an overloaded server would only get more to do
        showError(`The server has not answered in ${ANSWER_TIMEOUT_MS / 1000} s: it may be overloaded.`, () => predictNow());
      } else if (error.name !== "AbortError" && error.retryAfterMs) {
        // busy (503 with Retry-After): sent again when the server says, and a button not to wait
        noteAnswer(image, { error: "busy" });
        showError(`${failureMessage(error)}. Trying again in ${Math.round(error.retryAfterMs / 1000)} s.`, () => predictNow());
        setTimeout(() => { if (sequence === state.sequence && drawing === state.drawing) predictNow(); }, error.retryAfterMs);
      } else if (error.name !== "AbortError") {
        noteAnswer(image, { error: error.note || "unread" });
        // a proxy's 502/504 or a 503 may pass: a button to send it again (an uploaded photo has no stroke to redraw)
        showError(failureMessage(error, true), error.passing ? () => predictNow() : undefined);
        if (error.unreachable) {
          // the server is down or restarting: the same drawing is sent again, less and less often, so
          // that the answer comes once it is back without the user having to change the drawing
          const wait = state.unreachableMs = longerWait(state.unreachableMs || 1000);
          setTimeout(() => { if (sequence === state.sequence && drawing === state.drawing) predictNow(); }, wait);
        }
      }
    } finally {
      clearTimeout(timer);
      if (state.controller === controller) state.controller = null;  // even if outdated: it no longer blocks
      if (sequence === state.sequence) {
        if (state.pending) schedulePredict(0);  // the pen moved meanwhile: the newest drawing next
        else document.body.dataset.busy = "false";
      }
    }
  }

  // A server out of reach (``request``) is said in our words: each browser words fetch's failure differently;
  // and the API names the form field of its complaint ("field 'file': ..."): on the page it is the image,
  // or the label typed, and the message says which
  function failureMessage(error, retrying = false) {
    if (error.unreachable) return `Cannot reach the inkread server: is it still running?${retrying ? " Trying again…" : ""}`;
    const message = error.message.replace(/^field '(file|label)': /, "");
    return message.charAt(0).toUpperCase() + message.slice(1);  // the API's messages start in lower case
  }

  // fetch, with its own failure (the server cannot be reached) told apart from what is done with the answer:
  // a TypeError thrown while showing an odd answer was taken for "Cannot reach the server"
  async function request(url, options) {
    try {
      return await fetch(url, options);
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw Object.assign(new Error("the server cannot be reached"), { unreachable: true });
    }
  }

  // An answer without the fields this page shows (a proxy's login page, another server at this address)
  function checkAnswer(answer, mode) {
    const fine = mode === "text" ? typeof answer.text === "string" && Array.isArray(answer.characters)
      : answer.no_ink === true || (typeof answer.label === "string" && Array.isArray(answer.top_k));
    if (!fine) throw new Error("The answer from the server is not an inkread answer: is something else answering at this address? Reload the page");
  }

  const percent = (p) => (p < 0.01 ? "<1%" : `${(p * 100).toFixed(p >= 0.995 ? 0 : 1)}%`);

  function setResultState(name) { $("result").dataset.state = name; }

  function setBadge(text, uncertain, offersText = false) {
    const badge = $("pad-badge");
    badge.hidden = !text;
    badge.textContent = text || "";
    badge.classList.toggle("uncertain", Boolean(uncertain));
    badge.classList.toggle("actionable", offersText);  // "...? Try Text" is tapped: it switches, it does not draw
    if (text) placeBadge(badge);
  }

  // Hidden at wide sizes (the result panel shows the answer), the badge was placed only when shown:
  // narrowed afterwards, the window showed it in its default corner, over the ink.
  new ResizeObserver(() => { if (!$("pad-badge").hidden) placeBadge($("pad-badge")); }).observe(canvas);

  // The badge sits in the pad's corner with the least ink under it (top right unless the drawing is
  // there): a 7's arm or a 4's top drawn into the corner stayed hidden under the answer.
  function placeBadge(badge) {
    badge.classList.remove("at-left", "at-bottom");
    const rect = canvas.getBoundingClientRect();
    if (!badge.offsetWidth || !rect.width) return;  // not shown at this width
    const k = canvas.width / rect.width;  // CSS pixels -> canvas pixels
    const inset = badge.offsetTop;
    const w = Math.min(canvas.width, Math.ceil((badge.offsetWidth + 2 * inset) * k));
    const h = Math.min(canvas.height, Math.ceil((badge.offsetHeight + 2 * inset) * k));
    let best = null;
    for (const [left, bottom] of [[false, false], [true, false], [false, true], [true, true]]) {
      const pixels = ctx.getImageData(left ? 0 : canvas.width - w, bottom ? canvas.height - h : 0, w, h).data;
      let ink = 0;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 128) ink++;
      if (!best || ink < best.ink) best = { ink, left, bottom };
      if (ink === 0) break;
    }
    badge.classList.toggle("at-left", best.left);
    badge.classList.toggle("at-bottom", best.bottom);
  }

  function showEmpty() {
    state.sequence++;
    state.lastAnswer = null;
    state.lastImage = null;
    setResultState("empty");
    $("answer-label").textContent = "?";
    $("answer-confidence").textContent = "Waiting for ink";
    $("answer-flag").hidden = true;
    $("topk").replaceChildren();
    $("message").hidden = true;
    clearSeen();
    $("teach-open").disabled = true;
    closeTeach();
    setBadge("");
    announce("");
    document.body.dataset.busy = "false";
  }

  function clearSeen() {
    $("seen").removeAttribute("src");
    $("seen").alt = "";
  }

  function showPrediction(answer, settled) {
    if (answer.no_ink) {
      setResultState("empty");
      $("answer-label").textContent = "?";
      $("answer-confidence").textContent = "No ink found";
      $("answer-flag").hidden = true;
      $("message").hidden = true;
      $("topk").replaceChildren();
      $("teach-open").disabled = true;
      clearSeen();
      setBadge("");
      announceAnswer("No ink found in the image.", settled);
      return;
    }
    setResultState("char");
    $("answer-label").textContent = answer.label;
    // a class named with a word ("plus sign", a model trained on folders of words) is set smaller and wrapped:
    // at a character's size it spilled out of its tile, and off a phone's screen
    $("answer-label").dataset.size = [...answer.label].length > 2 ? "long" : "";
    $("answer-confidence").textContent = `${percent(answer.confidence)} sure`;
    $("answer-flag").hidden = !answer.uncertain;
    // Half a character often reads as two (a 7's bar and the top of its stem as "71"): the hint waits
    // for the pen to lift.
    const several = settled ? answer.several_characters : null;
    showSeveral(several);
    showBars(answer.top_k);
    if (answer.preprocessed) {
      $("seen").src = answer.preprocessed;
      $("seen").alt = `The 28 by 28 pixel image the model read as ${answer.label}`;
    }
    $("teach-open").disabled = Boolean(state.taught && state.taught.drawing === state.drawing &&
                                       state.taught.model === settings().model);  // taught already
    // on a phone the result card is below the pad: the badge on the pad says it too
    setBadge(several ? `${several.replace(/\n/g, " ")}? Try Text`
      : `${answer.label} · ${percent(answer.confidence)}`, answer.uncertain, Boolean(several));
    const told = several ? ` It looks like several characters: ${several}.` : "";
    announceAnswer(`${answer.uncertain ? "Maybe" : "It reads"} ${answer.label}, ${percent(answer.confidence)} sure.${told}`, settled);
  }

  // Several characters drawn in character mode: the answer is for the whole drawing read as one, so
  // say what it seems to hold and offer Text mode, which reads every character (the drawing is kept).
  function showSeveral(text) {
    const message = $("message");
    message.hidden = !text;
    if (!text) return;
    message.replaceChildren(`This looks like several characters (${text}). `, ghostButton("read-as-text", "Read it as text", readAsText));
    message.className = "message";
  }

  // A small button in a message (read as text, try again, remove a correction)
  function ghostButton(id, text, onClick) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-ghost";
    button.id = id;
    button.textContent = text;
    button.addEventListener("click", onClick);
    return button;
  }

  function readAsText() {
    $("mode-text").checked = true;
    $("mode-text").dispatchEvent(new Event("change"));
    $("mode-text").focus();  // the button is gone with the message: focus would fall to the top of the page
  }

  // On a phone the result card is below the fold: the badge's "Try Text" is what is in reach. (Taps only:
  // it is hidden from screen readers, which have the card's "Read it as text" button.)
  $("pad-badge").addEventListener("click", () => { if ($("pad-badge").classList.contains("actionable")) readAsText(); });

  function showBars(ranking) {
    const rows = ranking.map(({ label, confidence }) => {
      const row = document.createElement("li");
      const name = document.createElement("span");
      name.className = "bar-label";
      name.textContent = label;
      const track = document.createElement("span");
      track.className = "bar-track";
      const fill = document.createElement("span");
      fill.className = "bar-fill";
      fill.style.width = `${Math.max(0, Math.min(100, confidence * 100))}%`;
      track.append(fill);
      const value = document.createElement("span");
      value.className = "bar-value";
      value.textContent = percent(confidence);
      row.append(name, track, value);
      row.setAttribute("aria-label", `${label}: ${percent(confidence)}`);
      return row;
    });
    $("topk").replaceChildren(...rows);
  }

  function showText(answer, settled) {
    clearBoxes();
    if (answer.no_ink || !answer.characters.length) {
      setResultState("empty");
      $("answer-label").textContent = "?";
      // no_ink: a blank canvas; otherwise ink in which no (allowed) character was read
      const message = answer.no_ink ? "No characters found" : "No character read in the ink";
      $("answer-confidence").textContent = message;
      $("answer-flag").hidden = true;
      $("message").hidden = true;
      $("topk").replaceChildren();
      setBadge("");
      announceAnswer(`${message}.`, settled);
      return;
    }
    setResultState("text");
    // a block per line, a rule between them: a long word wrapped on a phone looked like a line of its own
    // (the text, line breaks included, is what it was: copied, it is the text read)
    const lines = answer.text.split("\n");
    $("answer-label").replaceChildren(...lines.map((line, k) => {
      const block = document.createElement("span");
      block.className = "text-line";
      block.textContent = k < lines.length - 1 ? `${line}\n` : line;
      return block;
    }));
    const marks = answer.characters.filter((c) => c.punctuation).length;  // told by shape (character models) or read (line models)
    const read = answer.characters.length - marks;
    // marks alone are told by their shape, not read by the model: no "0 characters", nor a sureness of 100% to boast
    const counted = [read ? `${read} character${read === 1 ? "" : "s"}` : "", marks ? `${marks} punctuation mark${marks === 1 ? "" : "s"}` : ""];
    $("answer-confidence").textContent = counted.filter(Boolean).join(" and ") + (read ? `, least sure ${percent(answer.confidence)}` : "");
    $("answer-flag").hidden = !answer.uncertain;
    $("message").hidden = true;
    $("topk").replaceChildren();
    if (!unshown()) drawBoxes(answer.characters);
    setBadge(answer.text.replace(/\n/g, " "), answer.uncertain);
    announceAnswer(`It reads: ${answer.text.replace(/\n/g, ", new line, ")}`, settled);
  }

  function showError(message, retry) {
    setResultState("empty");
    $("answer-label").textContent = "!";
    $("answer-confidence").textContent = "Could not read that";
    $("answer-flag").hidden = true;
    $("topk").replaceChildren();
    $("message").replaceChildren(`${message} `);
    if (retry) {  // (after a timeout: an uploaded photo has no stroke to draw again to send it again)
      $("message").append(ghostButton("retry", "Try again", () => { canvas.focus(); retry(); }));
    }
    $("message").className = "message error";
    $("message").hidden = false;
    $("teach-open").disabled = true;
    clearSeen();  // the last picture belongs to an earlier drawing
    setBadge("");
    announce(message);
  }

  // lines as a screen reader says them: "theC0t / h0t", not a raw line break in the middle of a sentence
  function announce(text) { $("announce").textContent = text.replace(/\s*\n\s*/g, " / "); }

  // Answers that arrive while the pen is still down change several times a second: a screen reader
  // would read out a stream of guesses, so only the answer to a finished drawing is announced.
  function announceAnswer(text, settled) { if (settled) announce(text); }

  // --- boxes of text mode ---------------------------------------------------------------------

  function clearBoxes() { octx.clearRect(0, 0, overlay.width, overlay.height); }

  function drawBoxes(characters) {
    // boxes are in pixels of the image sent: the pad itself, or the uploaded file drawn fitted (``currentImage``)
    const fit = state.lastFit || IDENTITY;
    const { scale, x: viewX, y: viewY } = state.view;
    // labels as tall as the characters of their line, up to 7% of the pad: small writing in a photo, 17 px tall
    // on the pad, had 36 px labels, which covered each other and the writing; so had small lines beside large
    // ones while one size served the whole page
    const heights = new Map();  // line -> its characters' heights on the pad
    for (const c of characters) {
      if (!heights.has(c.line)) heights.set(c.line, []);
      heights.get(c.line).push((c.box[3] - c.box[1]) * fit.scale * scale);
    }
    const sizes = new Map([...heights].map(([line, hs]) => {
      const typical = hs.sort((a, b) => a - b)[hs.length >> 1];
      return [line, Math.max(11, Math.min(Math.round(canvas.height * 0.07), Math.round(typical)))];
    }));
    octx.lineWidth = Math.max(2, canvas.height / 200);
    octx.textBaseline = "bottom";
    const air = octx.lineWidth * 2;  // a little air between the ink and its box
    const boxes = characters.map((char) => {
      const [left, top, right, bottom] = char.box;
      const x = viewX + (fit.x + left * fit.scale) * scale - air, y = viewY + (fit.y + top * fit.scale) * scale - air;
      const w = (right - left) * fit.scale * scale + 2 * air, h = (bottom - top) * fit.scale * scale + 2 * air;
      return { char, x, y, w, h, color: char.uncertain ? "#b45309" : "#4338ca" };
    });
    for (const box of boxes) {
      octx.strokeStyle = box.color;
      octx.setLineDash(box.char.uncertain ? [8, 6] : []);
      octx.strokeRect(box.x, box.y, box.w, box.h);
    }
    octx.setLineDash([]);
    const tags = [];  // the tags placed so far: none may cover another, nor another character's box
    for (const box of boxes) {
      const size = sizes.get(box.char.line);
      octx.font = `700 ${size}px system-ui, sans-serif`;
      const tag = placeTag(box, octx.measureText(box.char.label).width + 12, size + 6, boxes, tags);
      tags.push(tag);
      octx.fillStyle = box.color;
      octx.fillRect(tag.x, tag.y, tag.w, tag.h);
      octx.fillStyle = "#fff";
      octx.fillText(box.char.label, tag.x + 6, tag.y + tag.h - 2);
    }
  }

  // Where a box's label goes: above the box; inside its top edge, over its own ink, when there is no room
  // above (the top of the pad, or the line above too close); then below it, or inside its bottom edge.
  // The first place that covers no other box, no other label and stays on the pad wins, each tried at
  // the box's left edge, then at its right edge. (Below the box, a label of the top line sat in the gap
  // between two lines, where the next line's labels covered it.)
  function placeTag(box, w, h, boxes, tags) {
    const rows = [box.y - h, box.y, box.y + box.h, box.y + box.h - h];
    const columns = [box.x, box.x + box.w - w].map((x) => Math.max(0, Math.min(x, overlay.width - w)));
    const overlaps = (a, b) => a.x < b.x + b.w - 1 && b.x < a.x + a.w - 1 && a.y < b.y + b.h - 1 && b.y < a.y + a.h - 1;
    const spots = rows.flatMap((y) => columns.map((x) => ({ x, y, w, h })));
    const free = spots.find((spot) => spot.y >= 0 && spot.y + h <= overlay.height &&
      !boxes.some((other) => other !== box && overlaps(spot, other)) && !tags.some((tag) => overlaps(spot, tag)));
    return free || { x: columns[0], y: Math.max(0, Math.min(box.y, overlay.height - h)), w, h };  // crowded: inside the top edge
  }

  // --- teach a correction ----------------------------------------------------------------------

  function openTeach() {
    $("teach-form").hidden = false;
    $("teach-open").hidden = true;
    $("teach-status").textContent = "";
    $("teach-label").value = "";
    $("teach-label").focus();
  }

  function closeTeach() {
    $("teach-form").hidden = true;
    $("teach-open").hidden = false;
  }

  $("teach-open").addEventListener("click", openTeach);
  $("teach-cancel").addEventListener("click", () => { closeTeach(); $("teach-open").focus(); });
  $("teach-form").addEventListener("keydown", (event) => {
    if (event.key === "Escape") { closeTeach(); $("teach-open").focus(); }
  });

  $("teach-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const label = $("teach-label").value.trim();
    const status = $("teach-status");
    if (!state.lastImage) return;
    if (!label) {  // spaces pass the input's own "required" check
      status.className = "teach-status error";
      status.textContent = "Type the right answer first.";
      $("teach-label").focus();
      return;
    }
    // The drawing on the pad is what the label is for. When it changed after the answer shown (a
    // stroke added while the server was slow), that answer was about another drawing: not sent as "predicted".
    // ...nor was an answer from the model chosen before (its request may still be on the way for this one).
    const current = state.answered === state.drawing && state.lastAnswer && state.lastAnswer.model === settings().model;
    const image = current ? state.lastImage : (await currentImage()).image;
    const form = new FormData();
    form.append("file", image, image.name || "drawing.png");
    form.append("label", label);
    form.append("model", settings().model);
    if (current && state.lastAnswer && state.lastAnswer.label) form.append("predicted", state.lastAnswer.label);
    $("teach-save").disabled = true;
    status.className = "teach-status";
    status.textContent = "Saving…";
    try {
      const response = await request(`${API}/corrections`, { method: "POST", body: form });
      const answer = await response.json().catch(() => ({}));
      if (response.status !== 201) throw new Error(answer.detail || `the server answered ${response.status}`);
      status.className = "teach-status ok";
      status.replaceChildren(`✓ Saved as “${answer.label}” (correction #${answer.id}). Thank you! `, undoButton(answer.id));
      closeTeach();
      // taught once: saved again (or with another label) it would be a duplicate or a contradiction in the
      // fine-tuning data; "Remove it" takes it back and offers teaching again
      state.taught = { drawing: state.drawing, model: settings().model };
      $("teach-open").disabled = true;
      $("teach-undo").focus();
    } catch (error) {
      status.className = "teach-status error";
      status.textContent = `Not saved: ${failureMessage(error)}${error.unreachable ? " Press Save to try again." : ""}`;
    } finally {
      $("teach-save").disabled = false;
    }
  });

  // Every change of the drawing (a stroke begun, undo, clear, an upload) comes here. "Saved as ... Remove
  // it" (or "Not saved: ...") is about the drawing shown when it was sent: it would now seem to be about
  // the new one, so it goes.
  function drawingChanged() {
    state.drawing++;
    const status = $("teach-status");
    status.className = "teach-status";
    status.replaceChildren();
  }

  // A label typed by mistake would stay in the fine-tuning data: the saved correction can be taken back.
  function undoButton(id) {
    const button = ghostButton("teach-undo", "Remove it", async () => {
      const status = $("teach-status");
      button.disabled = true;
      try {
        const response = await request(`${API}/corrections/${id}`, { method: "DELETE" });
        if (response.status !== 204 && response.status !== 404) {
          const answer = await response.json().catch(() => ({}));
          throw new Error(answer.detail || `the server answered ${response.status}`);
        }
        status.className = "teach-status";
        status.textContent = `Correction #${id} removed.`;
        state.taught = null;
        $("teach-open").disabled = !state.lastAnswer;
        $(state.lastAnswer ? "teach-open" : "canvas").focus();
      } catch (error) {
        // the button stays, to try again: replaced by the message, it left the correction for good
        status.className = "teach-status error";
        button.disabled = false;
        button.textContent = "Try to remove it again";
        status.replaceChildren(`Not removed: ${failureMessage(error)} `, button);
        button.focus();
      }
    });
    button.setAttribute("aria-label", `Remove correction #${id}`);
    return button;
  }

  // --- controls ------------------------------------------------------------------------------

  function applyMode(mode) {
    pad.dataset.mode = mode;
    const { width, height } = mode === "text" ? TEXT_PAD : { width: PAD_SIZE, height: PAD_SIZE };
    if (canvas.width !== width || canvas.height !== height) {
      // The drawing stays as it is: only the view changes (see charView). A stroke in progress (the mode
      // switched by a second finger or the keyboard) ends where it is, kept: dropped, it vanished and
      // the rest of it was ignored too.
      if (state.current) {
        state.strokes.push(state.current);
        state.current = null;
        state.drawing++;
      }
      state.pointerId = null;
      canvas.width = overlay.width = width;
      canvas.height = overlay.height = height;
    }
    if (mode === "text") strokesOntoThePad();
    updateView();
    $("seen-figure").hidden = mode === "text";
    $("teach").hidden = mode === "text";  // corrections are single characters
    offerModels(mode);
    offerWords();
    updateHint();
    render();
    clearBoxes();
  }

  // In character mode a line model cannot be chosen; if it was, the closest model that can takes over.
  function offerModels(mode) {
    const options = Array.from($("model").options);
    for (const option of options) {
      option.disabled = mode === "char" && isLine(state.models.find((m) => m.name === option.value));
      option.title = option.disabled ? "It reads whole lines: set Read to Text to use it" : "";
    }
    const usable = closestModel(currentModel(), options.filter((option) => !option.disabled));
    if ($("model").selectedOptions[0]?.disabled && usable) {
      state.setAsideModel = $("model").value;  // back in text mode, the line model chosen is chosen again
      $("model").value = usable.value;
      applyModel();
    } else if (mode === "text" && state.setAsideModel) {
      if (options.some((option) => option.value === state.setAsideModel)) {
        $("model").value = state.setAsideModel;
        applyModel();
      }
      state.setAsideModel = null;
    }
  }

  // The option whose model knows most of the characters of ``model`` (the first of a tie, in the server's
  // order): after the line model, a drawn "R" goes to the characters model, not to the digits one.
  function closestModel(model, options) {
    const known = new Set(model ? model.labels : []);
    let best = null, bestShared = -1;
    for (const option of options) {
      const candidate = state.models.find((m) => m.name === option.value);
      const shared = candidate ? candidate.labels.filter((label) => known.has(label)).length : 0;
      if (shared > bestShared) { best = option; bestShared = shared; }
    }
    return best;
  }

  function offerWords() { $("words-group").hidden = offeredWords().length === 0; }

  // Offer only the restrictions the model can honour (a digits model has no letters).
  function applyModel() {
    const model = currentModel();
    if (!model) return;
    const hasDigits = model.labels.some((l) => /^[0-9]$/.test(l));
    const hasLetters = model.labels.some((l) => /^\p{L}$/u.test(l));
    $("only-digits").disabled = !hasDigits || !hasLetters;  // "digits only" means nothing on a digits model
    $("only-letters").disabled = !hasLetters;
    const checked = document.querySelector('input[name="only"]:checked');
    if (checked.disabled) $("only-any").checked = true;
    $("model").title = describe(model);  // the whole description, where a narrow select cuts it short
    offerWords();
    updateHint();
  }

  function updateHint() {
    const model = currentModel();
    const { mode, only } = settings();
    // what the model reads, by its classes: a model of symbols (/ + ×) was told "Draw a digit"
    const labels = model ? model.labels : [];
    const all = (pattern) => labels.length > 0 && labels.every((l) => pattern.test(l));
    const kind = only === "digits" ? "digit" : only === "letters" ? "letter"
      : !model || all(/^\p{Nd}$/u) ? "digit" : all(/^\p{L}$/u) ? "letter" : "character";
    $("pad-hint-text").textContent = mode === "char" ? `Draw a ${kind} here`
      : isLine(model) && !only ? "Write a word or a line here" : `Write a few ${kind}s here`;
  }

  $("model").addEventListener("change", () => { state.setAsideModel = null; applyModel(); saveSettings(); predictNow(); });
  for (const input of document.querySelectorAll('input[name="only"]')) {
    input.addEventListener("change", () => { updateHint(); saveSettings(); predictNow(); });
  }
  for (const input of document.querySelectorAll('input[name="words"]')) {
    input.addEventListener("change", () => { saveSettings(); predictNow(); });
  }
  for (const input of document.querySelectorAll('input[name="mode"]')) {
    input.addEventListener("change", () => { applyMode(settings().mode); saveSettings(); predictNow(); });
  }

  function describe(model) {
    const metrics = model.metrics || {};
    const accuracy = metrics.test_accuracy ?? metrics.accuracy;
    const title = model.name.charAt(0).toUpperCase() + model.name.slice(1);
    const kind = isLine(model) ? `whole words and lines (${model.labels.filter((l) => l !== " ").length} characters)`
      : model.labels.every((l) => /^[0-9]$/.test(l)) ? "0–9" : `${model.labels.length} classes`;
    // how many test images the figure rests on: "100.0% on test" for 3 images stood beside 99.5% on 10,000
    const tested = metrics.test_samples;
    const on = typeof tested === "number" ? `${tested.toLocaleString("en")} test image${tested === 1 ? "" : "s"}` : "test";
    const score = typeof accuracy === "number" ? ` · ${(accuracy * 100).toFixed(1)}% on ${on}` : "";
    return `${title} · ${kind}${score}`;
  }

  // A server still starting, or a proxy's 502: the page asks again, less and less often, instead of
  // staying without models until reloaded.
  let modelsRetryMs = 2000;

  async function init() {
    render();
    if (!hasInk()) showEmpty();
    try {
      const response = await fetch(`${API}/models`);
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      state.models = (await response.json()).models;
    } catch (error) {
      showError(`Cannot list the models: ${error.message}. Trying again in ${modelsRetryMs / 1000} s.`);
      setTimeout(init, modelsRetryMs);
      modelsRetryMs = longerWait(modelsRetryMs);
      return;
    }
    const saved = loadSettings();
    $("model").replaceChildren(...state.models.map((model) => new Option(describe(model), model.name)));
    if (state.models.some((m) => m.name === saved.model)) $("model").value = saved.model;
    const only = document.querySelector(`input[name="only"][value="${CSS.escape(saved.only || "")}"]`);
    if (only) only.checked = true;
    const words = document.querySelector(`input[name="words"][value="${CSS.escape(saved.words || "")}"]`);
    if (words) words.checked = true;
    // a server of line models only has nothing to read one character with
    $("mode-char").disabled = state.models.every(isLine);
    if (saved.mode === "text" || $("mode-char").disabled) $("mode-text").checked = true;
    applyModel();
    applyMode(settings().mode);
    document.body.dataset.ready = "true";
    if (hasInk()) predictNow();  // drawn while the models were being listed again
  }

  init();
})();
