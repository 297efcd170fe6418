"""The evaluation report folder: metrics.json, classification_report.txt, PNG plots and report.html.

report.html is one self-contained page: the plots are embedded as base64 data URIs and the CSS is
inline, so the file can be mailed or archived alone. Every file is written atomically; report.html
is written last, and a rewrite first removes the old report.html and metrics.json, so report.html's
presence means the whole report is complete (a failure partway leaves none beside newer pictures).
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path

import numpy as np

from inkread.errors import InkreadError, warn
from inkread.evaluation import plots
from inkread.evaluation.metrics import classification_report_text, compute_metrics
from inkread.files import files_other_than, remove_file, write_bytes_atomic, write_text_atomic

METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
TEXT_REPORT_FILE = "classification_report.txt"
CONFUSION_FILE = "confusion_matrix.png"
CURVES_FILE = "curves.png"
MISCLASSIFIED_FILE = "misclassified.png"
SAMPLES_FILE = "samples.png"
MISCLASSIFIED_LISTED = 100  # named in metrics.json and the page: enough to fix a folder's labels, a small file

# (file, heading, caption) in the order the page shows them
PICTURES = (
    (CONFUSION_FILE, "Confusion matrix", "Rows: true class; columns: predicted class; each row sums to 100%. "
                                         "Grey rows: no sample of that class."),
    (CURVES_FILE, "Learning curves", "Loss and accuracy per epoch on the training and validation data."),
    (MISCLASSIFIED_FILE, "Worst mistakes", "The wrong predictions the model was most sure of."),
    (SAMPLES_FILE, "Examples", "What the data of each class looks like, as the model sees it (28 x 28)."),
)

# Every file a report folder holds: an --out holding others is not a report's to write over.
REPORT_FILES = (METRICS_FILE, REPORT_FILE, TEXT_REPORT_FILE, *(name for name, _, _ in PICTURES))


def is_report_folder(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds an evaluation report (its metrics.json) and nothing else."""
    folder = Path(folder)
    return (folder / METRICS_FILE).is_file() and not files_other_than(folder, REPORT_FILES)


def write_report(out_dir: str | os.PathLike, y_true, probs, images, labels, history=None,
                 title: str = "Evaluation", context: dict | None = None, names=None) -> dict:
    """Write the full report for predictions ``probs`` (N, C) against ``y_true`` (N,) into ``out_dir``.

    ``images`` (uint8 (N, 28, 28), ink high) feed the picture grids and may be ``None``;
    ``history`` is the per-epoch training history (list of dicts), drawn when given;
    ``context`` (e.g. model, data set, split) is shown on the page and stored in metrics.json.
    ``names`` (N,): where each image came from (a file, a CSV line), or ``None``; given, metrics.json
    and the page list the misclassified ones (``misclassified``), worst first as in misclassified.png.
    Needs no model and no data set. Returns the metrics dict, with ``files`` (paths written).
    """
    y_true, probs, images, labels = _check_inputs(y_true, probs, images, labels)
    if names is not None and len(names) != len(y_true):
        raise InkreadError(f"{len(names)} image names for {len(y_true)} images: they must match one to one")
    y_pred = probs.argmax(axis=1)
    metrics = {"title": title, "context": dict(context or {})}
    metrics.update(compute_metrics(y_true, y_pred, labels, probs))
    if names is not None:
        metrics["misclassified"] = misclassified_list(y_true, probs, labels, names)
    text = classification_report_text(y_true, y_pred, labels)

    unknown_glyphs = plots.missing_glyphs(labels)
    if unknown_glyphs:
        warn(f"the pictures' font has no {', '.join(unknown_glyphs)}: the class names holding "
             f"{'it' if len(unknown_glyphs) == 1 else 'them'} show a box there (the metrics and report.html are exact)")
    pictures = {
        CONFUSION_FILE: plots.render_confusion_matrix(metrics["confusion_matrix"], labels),
        CURVES_FILE: plots.render_curves(history) if history else None,
        MISCLASSIFIED_FILE: plots.render_misclassified(images, y_true, probs, labels) if images is not None else None,
        SAMPLES_FILE: plots.render_samples(images, y_true, labels) if images is not None else None,
    }
    page = render_html(metrics, text, pictures, _notes(metrics, history, images, pictures))

    out = Path(out_dir)
    # old summaries beside new pictures would pass for a complete report if writing stopped halfway
    for name in (REPORT_FILE, METRICS_FILE):
        remove_file(out / name)
    written = []
    for name, png in pictures.items():
        if png is None:
            # a picture left over from an earlier report in this folder would describe another model
            remove_file(out / name)
        else:
            write_bytes_atomic(out / name, png)
            written.append(out / name)
    write_text_atomic(out / TEXT_REPORT_FILE, text)
    write_text_atomic(out / METRICS_FILE, json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    write_text_atomic(out / REPORT_FILE, page)
    written += [out / TEXT_REPORT_FILE, out / METRICS_FILE, out / REPORT_FILE]
    metrics["files"] = [str(path) for path in written]
    return metrics


def render_html(metrics: dict, text_report: str, pictures: dict, notes: list[str]) -> str:
    """The self-contained report page."""
    esc = html.escape
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             f"<title>{esc(metrics['title'])}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
             f"<h1>{esc(metrics['title'])}</h1>\n"]
    if metrics["context"]:
        rows = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in metrics["context"].items())
        parts.append(f"<table class=\"context\">{rows}</table>\n")
    parts.append(_headline(metrics))
    parts += [f"<p class=\"note\">{esc(note)}</p>\n" for note in notes]
    for name, heading, caption in PICTURES:
        png = pictures.get(name)
        if png is not None:
            data = base64.b64encode(png).decode("ascii")
            # a matrix of many classes keeps its full size (scroll sideways): shrunk to the page, its labels are unreadable
            wide = name == CONFUSION_FILE and metrics["num_classes"] > plots.ANNOTATE_MAX_CLASSES
            figure = '<figure class="wide">' if wide else "<figure>"
            # the named mistakes beside their pictures: a user looks for the file of a tile
            listed = _misclassified_table(metrics) if name == MISCLASSIFIED_FILE else ""
            start, end = ('<div class="beside">', "</div>") if listed else ("", "")
            parts.append(f"<section>\n<h2>{heading}</h2>\n{start}{figure}"
                         f"<img src=\"data:image/png;base64,{data}\" alt=\"{esc(heading)}\">"
                         f"<figcaption>{esc(caption)}</figcaption></figure>\n{listed}{end}</section>\n")
    parts.append(_confusions_table(metrics))
    parts.append(_per_class_table(metrics))
    parts.append(f"<section>\n<h2>Classification report</h2>\n<pre>{esc(text_report)}</pre>\n</section>\n")
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def misclassified_list(y_true, probs, labels, names, limit: int = MISCLASSIFIED_LISTED) -> dict:
    """The misclassified images by name, the most confident mistake first (misclassified.png's order):
    ``{"total": count, "listed": [{"image", "true", "predicted", "confidence"}, ... up to limit]}``."""
    worst = plots.worst_mistakes(y_true, probs)
    listed = [{"image": str(names[i]), "true": labels[y_true[i]], "predicted": labels[probs[i].argmax()],
               "confidence": round(float(probs[i].max()), 4)} for i in worst[:limit]]
    return {"total": int(worst.size), "listed": listed}


def _misclassified_table(metrics: dict) -> str:
    """The named mistakes as a table, numbered as misclassified.png's tiles (left to right, top to bottom)."""
    found = metrics.get("misclassified")
    if not found or not found["listed"]:
        return ""
    esc = html.escape
    rows = "".join(f"<tr><td>{n}</td><td class=\"name\">{esc(m['image'])}</td><td class=\"char\">{esc(m['true'])}</td>"
                   f"<td class=\"char\">{esc(m['predicted'])}</td><td>{_pct(m['confidence'])}</td></tr>"
                   for n, m in enumerate(found["listed"], start=1))
    shown, total = len(found["listed"]), found["total"]
    head = (f"The {shown} surest mistakes of {total:,}" if total > shown else
            "The mistake" if total == 1 else f"All {total} mistakes")
    tail = "" if shown == 1 else (f", surest first; 1 to {min(shown, plots.MISCLASSIFIED_COUNT)} are the picture's "
                                  "tiles, left to right and top to bottom")
    caption = f"{head}, by file{tail}."
    return (f"<div class=\"mistakes\"><table class=\"data\"><tr><th>#</th><th>image</th><th>true</th>"
            f"<th>predicted</th><th>confidence</th></tr>{rows}</table><p class=\"caption\">{esc(caption)}</p></div>\n")


def _headline(metrics: dict) -> str:
    cards = [("Accuracy", _pct(metrics["accuracy"])), ("Balanced accuracy", _pct(metrics["balanced_accuracy"])),
             ("Macro F1", _pct(metrics["macro"]["f1"])), ("Weighted F1", _pct(metrics["weighted"]["f1"]))]
    if "top3_accuracy" in metrics:
        cards.append(("Top-3 accuracy", _pct(metrics["top3_accuracy"])))
    cards += [("Images", f"{metrics['n']:,}"), ("Classes", str(metrics["num_classes"]))]
    body = "".join(f"<div class=\"card\"><div class=\"value\">{value}</div><div class=\"name\">{name}</div></div>"
                   for name, value in cards)
    return f"<div class=\"cards\">{body}</div>\n"


def _confusions_table(metrics: dict) -> str:
    if not metrics["top_confusions"]:
        return ""
    support = {label: row["support"] for label, row in metrics["per_class"].items()}
    rows = "".join(f"<tr><td class=\"char\">{html.escape(c['true'])}</td><td class=\"char\">{html.escape(c['pred'])}</td>"
                   f"<td>{c['count']}</td><td>{_pct(c['count'] / support[c['true']])}</td></tr>"
                   for c in metrics["top_confusions"])
    return ("<section>\n<h2>Most frequent confusions</h2>\n<table class=\"data\"><tr><th>true</th><th>predicted as</th>"
            f"<th>images</th><th>of the true class</th></tr>{rows}</table>\n</section>\n")


def _per_class_table(metrics: dict) -> str:
    rows = []
    for label, row in metrics["per_class"].items():
        cells = "".join(f"<td style=\"{_bar(row[key])}\">{row[key]:.4f}</td>" for key in ("precision", "recall", "f1"))
        rows.append(f"<tr><td class=\"char\">{html.escape(label)}</td>{cells}<td>{row['support']:,}</td></tr>")
    return ("<section>\n<h2>Per class</h2>\n<table class=\"data\"><tr><th>class</th><th>precision</th>"
            f"<th>recall</th><th>F1</th><th>support</th></tr>{''.join(rows)}</table>\n</section>\n")


def _notes(metrics: dict, history, images, pictures: dict) -> list[str]:
    notes = []
    if metrics["absent_classes"]:
        notes.append(f"{len(metrics['absent_classes'])} of {metrics['num_classes']} classes have no image in this "
                     f"data: {' '.join(metrics['absent_classes'])}. They show support 0 and grey confusion matrix rows; "
                     "the macro averages cover the classes in the data (predicting an absent class counts as a mistake).")
    if pictures[CURVES_FILE] is None:
        notes.append("No learning curves: the model has no training history (model.json 'history')."
                     if not history else "No learning curves: the training history holds no loss or accuracy.")
    if images is None:
        notes.append("No example images were given: the mistakes and examples grids are left out.")
    elif pictures[MISCLASSIFIED_FILE] is None:
        notes.append("No mistakes: every image was recognized correctly.")
    return notes


def _check_inputs(y_true, probs, images, labels):
    labels = [str(label) for label in labels]
    probs = np.asarray(probs, dtype=np.float64)
    y_true = np.asarray(y_true).reshape(-1)
    if probs.ndim != 2 or probs.shape[1] != len(labels):
        raise InkreadError(f"probabilities must have shape (N, {len(labels)}) for {len(labels)} labels, got {probs.shape}")
    if len(y_true) != len(probs):
        raise InkreadError(f"{len(y_true)} true labels but {len(probs)} rows of probabilities: they must match one to one")
    if not np.isfinite(probs).all():
        raise InkreadError("the model gives NaN or infinite probabilities: its weights are broken; retrain or export it again")
    if images is not None:
        images = np.asarray(images)
        if images.ndim != 3 or len(images) != len(y_true):
            raise InkreadError(f"images must have shape ({len(y_true)}, H, W), got {images.shape}")
    return y_true, probs, images, labels


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def _bar(value: float) -> str:
    # a light bar behind the number makes weak classes stand out in a long table
    share = f"{100 * max(0.0, min(1.0, value)):.1f}%"
    return f"background:linear-gradient(90deg,#d6e6f5 {share},transparent {share})"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;
padding:0 1rem;color:#1d232a;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table.context th{text-align:left;padding-right:1rem;color:#555;font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}
.card{border:1px solid #d0d7de;border-radius:8px;padding:.6rem 1rem;min-width:6.5rem;background:#f6f8fa}
.card .value{font-size:1.4rem;font-weight:650}.card .name{color:#57606a;font-size:.85rem}
.note{background:#fff8c5;border:1px solid #e3d27a;border-radius:6px;padding:.4rem .8rem}
figure{margin:0}img{max-width:100%;height:auto;border:1px solid #eee}
figure.wide{overflow-x:auto}figure.wide img{max-width:none}
figcaption{color:#57606a;font-size:.9rem}
table.data{border-collapse:collapse;font-variant-numeric:tabular-nums}
table.data th,table.data td{border:1px solid #d0d7de;padding:.2rem .7rem;text-align:right}
table.data th{background:#f6f8fa}table.data td.char{text-align:center;font-family:monospace;font-size:1.05rem}
pre{background:#f6f8fa;padding:1rem;overflow-x:auto;font-size:.85rem}
.beside{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}.beside figure{flex:1 1 480px}
.mistakes{max-height:32rem;overflow-y:auto;flex:0 1 auto}.mistakes .caption{color:#57606a;font-size:.9rem}
table.data td.name{text-align:left;font-family:monospace;word-break:break-all}
"""
