// inkread drawing page: draw (or drop an image), get predictions while drawing, teach corrections.
// Plain JavaScript, no build step and no external code: the page works offline.
"use strict";

(() => {
  const API = "/api/v1";
  const DEBOUNCE_MS = 150;          // predict this long after the pen last moved
  const ANSWER_TIMEOUT_MS = 15000;  // a server that takes longer is hung or overloaded: say so
  const PEN_WIDTH = 0.06;           // of the pad height: a marker, thick like MNIST strokes
  const PAD_SIZE = 560;             // canvas pixels of the square pad (one character)
  // text mode: 2:1, and at most 1024 wide, the size the decoder works at (no resampling)
  const TEXT_PAD = { width: 1024, height: 512 };
  const STORAGE_KEY = "inkread.settings";

  const $ = (id) => document.getElementById(id);
  const canvas = $("canvas");
  const overlay = $("overlay");
  const ctx = canvas.getContext("2d");
  const octx = overlay.getContext("2d");
  const pad = $("pad");

  const state = {
    models: [],
    strokes: [],        // finished strokes: arrays of {x, y} in canvas pixels
    current: null,      // the stroke being drawn
    pointerId: null,
    background: null,   // an uploaded image: {file, bitmap, fit: {x, y, scale}}
    controller: null,   // AbortController of the request in flight
    timer: 0,
    sequence: 0,        // answers to older requests are dropped
    lastImage: null,    // the Blob behind the result shown (what "Teach it" stores)
    lastAnswer: null,
  };

  // --- settings ------------------------------------------------------------------------------

  const settings = () => ({
    model: $("model").value,
    only: document.querySelector('input[name="only"]:checked').value,
    mode: document.querySelector('input[name="mode"]:checked').value,
  });

  function saveSettings() {
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

  // --- drawing -------------------------------------------------------------------------------

  const hasInk = () => state.strokes.length > 0 || state.current !== null || state.background !== null;

  function penWidth() { return Math.round(canvas.height * PEN_WIDTH); }

  function setupPen(context) {
    context.lineCap = "round";
    context.lineJoin = "round";
    context.lineWidth = penWidth();
    context.strokeStyle = "#111";
    context.fillStyle = "#111";
  }

  // A smooth stroke: quadratic curves through the midpoints, with the points as control points.
  function drawStroke(points) {
    setupPen(ctx);
    if (points.length === 1) {
      ctx.beginPath();
      ctx.arc(points[0].x, points[0].y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fill();
      return;
    }
    ctx.beginPath();
    ctx.moveTo(points[0].x, points[0].y);
    for (let i = 1; i < points.length - 1; i++) {
      const mid = { x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2 };
      ctx.quadraticCurveTo(points[i].x, points[i].y, mid.x, mid.y);
    }
    const last = points[points.length - 1];
    ctx.lineTo(last.x, last.y);
    ctx.stroke();
  }

  function render() {
    ctx.fillStyle = "#fff";  // opaque white paper: the PNG sent is dark ink on light, like a scan
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const bg = state.background;
    if (bg && bg.bitmap) {
      ctx.drawImage(bg.bitmap, bg.fit.x, bg.fit.y, bg.bitmap.width * bg.fit.scale, bg.bitmap.height * bg.fit.scale);
    }
    for (const stroke of state.strokes) drawStroke(stroke);
    if (state.current) drawStroke(state.current);
    pad.classList.toggle("has-ink", hasInk());
    $("undo").disabled = state.strokes.length === 0 && !state.background;
    $("clear").disabled = !hasInk();
  }

  function toCanvas(event) {
    const rect = canvas.getBoundingClientRect();
    return {
      x: (event.clientX - rect.left) * (canvas.width / rect.width),
      y: (event.clientY - rect.top) * (canvas.height / rect.height),
    };
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (state.pointerId !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    state.pointerId = event.pointerId;
    try {
      canvas.setPointerCapture(event.pointerId);  // keep the stroke when the pen leaves the pad
    } catch (error) {
      // a pointer the browser no longer tracks (or a synthetic event): draw without capture
    }
    state.current = [toCanvas(event)];
    clearBoxes();
    render();
  });

  canvas.addEventListener("pointermove", (event) => {
    if (event.pointerId !== state.pointerId || !state.current) return;
    event.preventDefault();
    // coalesced events: every sample the pen made since the last frame, for smooth fast strokes
    const samples = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const sample of samples.length ? samples : [event]) {
      const point = toCanvas(sample);
      const last = state.current[state.current.length - 1];
      if (Math.hypot(point.x - last.x, point.y - last.y) >= 1.5) state.current.push(point);
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
    }
    render();
    schedulePredict(0);
  }
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);
  canvas.addEventListener("contextmenu", (event) => event.preventDefault());

  function undo() {
    if (state.strokes.length) state.strokes.pop();
    else state.background = null;
    render();
    schedulePredict(0);
  }

  function clearAll() {
    state.strokes = [];
    state.current = null;
    state.background = null;
    render();
    clearBoxes();
    abortRequest();
    showEmpty();
  }

  $("undo").addEventListener("click", undo);
  $("clear").addEventListener("click", clearAll);

  document.addEventListener("keydown", (event) => {
    const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z" && !typing) {
      event.preventDefault();
      undo();
    } else if (event.target === canvas && (event.key === "Delete" || event.key === "Backspace")) {
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
    state.strokes = [];
    state.current = null;
    let bitmap = null;
    try {
      bitmap = await createImageBitmap(file);
    } catch (_) {
      // a format the browser cannot show (TIFF...): the server may still read it
    }
    const fit = bitmap ? fitInto(bitmap.width, bitmap.height) : { x: 0, y: 0, scale: 1 };
    state.background = { file, bitmap, fit };
    clearBoxes();
    render();
    predictNow();
  }

  // "contain": the whole image, centred, as large as the pad allows
  function fitInto(width, height) {
    const scale = Math.min(canvas.width / width, canvas.height / height);
    return { x: (canvas.width - width * scale) / 2, y: (canvas.height - height * scale) / 2, scale };
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
    if (state.controller) state.controller.abort();
    state.controller = null;
    document.body.dataset.busy = "false";
  }

  // What to send: the file as uploaded when nothing was drawn over it, else the pad as PNG.
  function currentImage() {
    if (state.background && state.strokes.length === 0 && !state.current) return Promise.resolve(state.background.file);
    return Promise.resolve(canvasPng());
  }

  // toDataURL, not toBlob: Chromium runs toBlob's encoder in idle time, which can wait up to a
  // second while the page is busy; the synchronous encoder takes a few milliseconds.
  function canvasPng() {
    const bytes = atob(canvas.toDataURL("image/png").split(",", 2)[1]);
    const buffer = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) buffer[i] = bytes.charCodeAt(i);
    return new Blob([buffer], { type: "image/png" });
  }

  async function predictNow() {
    clearTimeout(state.timer);
    state.timer = 0;
    if (!hasInk()) { showEmpty(); return; }
    if (state.controller) state.controller.abort();  // a newer drawing makes the old answer useless
    const controller = new AbortController();
    state.controller = controller;
    const sequence = ++state.sequence;
    const { model, only, mode } = settings();
    const settled = state.pointerId === null;  // no stroke in progress: this answer is the one to announce
    const image = await currentImage();
    const form = new FormData();
    form.append("file", image, image.name || "drawing.png");
    form.append("model", model);
    form.append("top_k", "5");
    if (only) form.append("only", only);
    if (mode === "char") form.append("include_preprocessed", "true");
    document.body.dataset.busy = "true";
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; controller.abort(); }, ANSWER_TIMEOUT_MS);
    try {
      const response = await fetch(`${API}/${mode === "text" ? "read" : "predict"}`, {
        method: "POST", body: form, signal: controller.signal,
      });
      const answer = await response.json().catch(() => ({ detail: `the server answered ${response.status}` }));
      if (sequence !== state.sequence) return;
      if (!response.ok) throw new Error(answer.detail || `the server answered ${response.status}`);
      state.lastImage = image;
      state.lastAnswer = answer;
      if (mode === "text") showText(answer, settled); else showPrediction(answer, settled);
    } catch (error) {
      if (sequence !== state.sequence) return;
      if (timedOut) {
        showError(`The server has not answered in ${ANSWER_TIMEOUT_MS / 1000} s: it may be overloaded. Draw again to retry.`);
      } else if (error.name !== "AbortError") {
        showError(failureMessage(error));
      }
    } finally {
      clearTimeout(timer);
      if (sequence === state.sequence) {
        state.controller = null;
        document.body.dataset.busy = "false";
      }
    }
  }

  // fetch rejects with a TypeError when the server cannot be reached; each browser words it differently
  function failureMessage(error) {
    return error instanceof TypeError ? "Cannot reach the inkread server: is it still running?" : error.message;
  }

  const percent = (p) => (p < 0.01 ? "<1%" : `${(p * 100).toFixed(p >= 0.995 ? 0 : 1)}%`);

  function setResultState(name) { $("result").dataset.state = name; }

  function setBadge(text, uncertain) {
    const badge = $("pad-badge");
    badge.hidden = !text;
    badge.textContent = text || "";
    badge.classList.toggle("uncertain", Boolean(uncertain));
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
    $("answer-confidence").textContent = `${percent(answer.confidence)} sure`;
    $("answer-flag").hidden = !answer.uncertain;
    $("message").hidden = true;
    showBars(answer.top_k);
    if (answer.preprocessed) {
      $("seen").src = answer.preprocessed;
      $("seen").alt = `The 28 by 28 pixel image the model read as ${answer.label}`;
    }
    $("teach-open").disabled = false;
    setBadge(`${answer.label} · ${percent(answer.confidence)}`, answer.uncertain);
    announceAnswer(`${answer.uncertain ? "Maybe" : "It reads"} ${answer.label}, ${percent(answer.confidence)} sure.`, settled);
  }

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
    $("answer-label").textContent = answer.text;
    const marks = answer.characters.filter((c) => c.punctuation).length;  // told by shape (character models) or read (line models)
    const read = answer.characters.length - marks;
    $("answer-confidence").textContent = `${read} character${read === 1 ? "" : "s"}` +
      (marks ? ` and ${marks} punctuation mark${marks === 1 ? "" : "s"}` : "") + `, least sure ${percent(answer.confidence)}`;
    $("answer-flag").hidden = !answer.uncertain;
    $("message").hidden = true;
    $("topk").replaceChildren();
    drawBoxes(answer.characters);
    setBadge(answer.text.replace(/\n/g, " "), answer.uncertain);
    announceAnswer(`It reads: ${answer.text}`, settled);
  }

  function showError(message) {
    setResultState("empty");
    $("answer-label").textContent = "!";
    $("answer-confidence").textContent = "Could not read that";
    $("answer-flag").hidden = true;
    $("topk").replaceChildren();
    $("message").textContent = message;
    $("message").className = "message error";
    $("message").hidden = false;
    $("teach-open").disabled = true;
    clearSeen();  // the last picture belongs to an earlier drawing
    setBadge("");
    announce(message);
  }

  function announce(text) { $("announce").textContent = text; }

  // Answers that arrive while the pen is still down change several times a second: a screen reader
  // would read out a stream of guesses, so only the answer to a finished drawing is announced.
  function announceAnswer(text, settled) { if (settled) announce(text); }

  // --- boxes of text mode ---------------------------------------------------------------------

  function clearBoxes() { octx.clearRect(0, 0, overlay.width, overlay.height); }

  function drawBoxes(characters) {
    // boxes are in pixels of the image sent: the pad itself, or the uploaded file drawn fitted
    const bg = state.background;
    const fit = bg && state.strokes.length === 0 && bg.bitmap ? bg.fit : { x: 0, y: 0, scale: 1 };
    const size = Math.max(14, Math.round(canvas.height * 0.07));
    octx.lineWidth = Math.max(2, canvas.height / 200);
    octx.font = `700 ${size}px system-ui, sans-serif`;
    octx.textBaseline = "bottom";
    for (const char of characters) {
      const [left, top, right, bottom] = char.box;
      const pad = octx.lineWidth * 2;  // a little air between the ink and its box
      const x = fit.x + left * fit.scale - pad, y = fit.y + top * fit.scale - pad;
      const w = (right - left) * fit.scale + 2 * pad, h = (bottom - top) * fit.scale + 2 * pad;
      const color = char.uncertain ? "#b45309" : "#4338ca";
      octx.strokeStyle = color;
      octx.setLineDash(char.uncertain ? [8, 6] : []);
      octx.strokeRect(x, y, w, h);
      const tag = char.label;
      const tagWidth = octx.measureText(tag).width + 12;
      const tagY = y - size - 6 < 0 ? y + h + size + 6 : y;
      octx.fillStyle = color;
      octx.fillRect(x, tagY - size - 6, tagWidth, size + 6);
      octx.fillStyle = "#fff";
      octx.fillText(tag, x + 6, tagY - 2);
    }
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
    if (!label || !state.lastImage) return;
    const form = new FormData();
    form.append("file", state.lastImage, state.lastImage.name || "drawing.png");
    form.append("label", label);
    form.append("model", settings().model);
    if (state.lastAnswer && state.lastAnswer.label) form.append("predicted", state.lastAnswer.label);
    $("teach-save").disabled = true;
    status.className = "teach-status";
    status.textContent = "Saving…";
    try {
      const response = await fetch(`${API}/corrections`, { method: "POST", body: form });
      const answer = await response.json().catch(() => ({}));
      if (response.status !== 201) throw new Error(answer.detail || `the server answered ${response.status}`);
      status.className = "teach-status ok";
      status.textContent = `✓ Saved as “${answer.label}” (correction #${answer.id}). Thank you!`;
      closeTeach();
      $("teach-open").focus();
    } catch (error) {
      status.className = "teach-status error";
      status.textContent = `Not saved: ${failureMessage(error)}`;
    } finally {
      $("teach-save").disabled = false;
    }
  });

  // --- controls ------------------------------------------------------------------------------

  function applyMode(mode) {
    pad.dataset.mode = mode;
    const { width, height } = mode === "text" ? TEXT_PAD : { width: PAD_SIZE, height: PAD_SIZE };
    if (canvas.width !== width) {
      // The drawing stays: the old pad, scaled to fit inside the new one and centred.
      const fit = Math.min(width / canvas.width, height / canvas.height);
      const dx = (width - canvas.width * fit) / 2;
      const dy = (height - canvas.height * fit) / 2;
      state.strokes = state.strokes.map((stroke) => stroke.map((p) => ({ x: p.x * fit + dx, y: p.y * fit + dy })));
      state.current = null;
      canvas.width = overlay.width = width;
      canvas.height = overlay.height = height;
      if (state.background && state.background.bitmap) {
        state.background.fit = fitInto(state.background.bitmap.width, state.background.bitmap.height);
      }
    }
    $("seen-figure").hidden = mode === "text";
    $("teach").hidden = mode === "text";  // corrections are single characters
    offerModels(mode);
    updateHint();
    render();
    clearBoxes();
  }

  // In character mode a line model cannot be chosen; if it was, the first model that can takes over.
  function offerModels(mode) {
    const options = Array.from($("model").options);
    for (const option of options) {
      option.disabled = mode === "char" && isLine(state.models.find((m) => m.name === option.value));
      option.title = option.disabled ? "It reads whole lines: set Read to Text to use it" : "";
    }
    const usable = options.find((option) => !option.disabled);
    if ($("model").selectedOptions[0]?.disabled && usable) {
      $("model").value = usable.value;
      applyModel();
    }
  }

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
    updateHint();
  }

  function updateHint() {
    const model = currentModel();
    const { mode, only } = settings();
    const kind = only === "digits" ? "digit" : only === "letters" ? "letter"
      : model && model.labels.some((l) => /^\p{L}$/u.test(l)) ? "character" : "digit";
    $("pad-hint-text").textContent = mode === "char" ? `Draw a ${kind} here`
      : isLine(model) && !only ? "Write a word or a line here" : `Write a few ${kind}s here`;
  }

  $("model").addEventListener("change", () => { applyModel(); saveSettings(); predictNow(); });
  for (const input of document.querySelectorAll('input[name="only"]')) {
    input.addEventListener("change", () => { updateHint(); saveSettings(); predictNow(); });
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
    const score = typeof accuracy === "number" ? ` · ${(accuracy * 100).toFixed(1)}% on test` : "";
    return `${title} · ${kind}${score}`;
  }

  async function init() {
    render();
    showEmpty();
    try {
      const response = await fetch(`${API}/models`);
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      state.models = (await response.json()).models;
    } catch (error) {
      showError(`Cannot list the models: ${error.message}`);
      return;
    }
    const saved = loadSettings();
    $("model").replaceChildren(...state.models.map((model) => new Option(describe(model), model.name)));
    if (state.models.some((m) => m.name === saved.model)) $("model").value = saved.model;
    const only = document.querySelector(`input[name="only"][value="${CSS.escape(saved.only || "")}"]`);
    if (only) only.checked = true;
    // a server of line models only has nothing to read one character with
    $("mode-char").disabled = state.models.every(isLine);
    if (saved.mode === "text" || $("mode-char").disabled) $("mode-text").checked = true;
    applyModel();
    applyMode(settings().mode);
    document.body.dataset.ready = "true";
  }

  init();
})();
