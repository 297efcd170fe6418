"""The ``inkread`` command: a thin shell over the Python API.

Each sub-command turns its arguments into the config dataclass of its layer and calls the API.
Heavy modules (torch, onnxruntime, FastAPI, matplotlib) are imported inside the handlers so that
``inkread --help`` and ``inkread predict`` start fast and never load PyTorch.
Errors a user can fix arrive as ``InkreadError`` and are printed as one line, without a traceback.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from inkread.errors import InkreadError, command_line_spelling, warn

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def _cmd_train(args: argparse.Namespace) -> int:
    from inkread.training import TrainConfig, train
    from inkread.training.augment import AugmentConfig

    config = TrainConfig(
        dataset=args.dataset, arch=args.arch, epochs=args.epochs, out=args.out, seed=args.seed,
        split_seed=args.split_seed,
        resume=args.resume, init_from=args.init_from, data_dir=args.data_dir, threads=args.threads,
        batch_size=args.batch_size, lr=args.lr, augment=args.augment, patience=args.patience,
        limit=args.limit, progress=not args.quiet, ema=args.ema, precision=args.precision, optimizer=args.optimizer,
        augment_config=AugmentConfig().with_styles(args.styles),
    )
    if args.styles != "all" and (args.augment == "off" or (args.augment is None and args.arch == "seed")):
        warn("--styles has no effect without augmentation (--augment off, or the seed recipe)")
    train(config)
    return 0


def _cmd_train_lines(args: argparse.Namespace) -> int:
    from inkread.training.lines import LineTrainConfig, train_lines

    # an option not given (None) is the recipe's, or with --resume the run's own
    recipe = {key: getattr(args, key) for key in ("epochs", "lines_per_epoch", "val_lines", "batch_size", "lr", "width", "seed", "font_share")}
    train_lines(LineTrainConfig(out=args.out, data_dir=args.data_dir, threads=args.threads,
                                resume=args.resume, progress=not args.quiet, fonts=args.fonts, init_from=args.init_from,
                                **recipe))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from inkread.evaluation import EvaluateConfig, evaluate

    evaluate(EvaluateConfig(model=args.model, dataset=args.dataset, split=args.split, out=args.out,
                            data_dir=args.data_dir, limit=args.limit, progress=not args.quiet))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from inkread.training.export import ExportConfig, export

    export(ExportConfig(run=args.run, format=args.format, quantize=args.quantize, out=args.out,
                        data_dir=args.data_dir, check_limit=args.check_limit, dataset=args.dataset,
                        progress=not args.quiet))
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from inkread.inference.jobs import PredictConfig, run_predict

    return run_predict(PredictConfig(paths=args.paths, model=args.model, only=args.only, top_k=args.top_k,
                                     format=args.format, save_preprocessed=args.save_preprocessed,
                                     mode="predict"))


def _cmd_read(args: argparse.Namespace) -> int:
    from inkread.inference.jobs import PredictConfig, run_predict

    return run_predict(PredictConfig(paths=args.paths, model=args.model, only=args.only, top_k=args.top_k,
                                     format=args.format, mode="read", lexicon=args.lexicon))


def _cmd_serve(args: argparse.Namespace) -> int:
    from inkread.serving import ServeConfig, serve

    serve(ServeConfig(host=args.host, port=args.port, models=args.model or [],  # []: the shipped models
                      data_dir=args.data_dir, cors_origins=args.cors_origin or [], allowed_hosts=args.allowed_host or [],
                      log_requests=args.log_requests,
                      **({"workers": args.workers} if args.workers is not None else {})))
    return 0


def _correction_id(text: str) -> int:
    """An id as the corrections database can hold one (argparse then says what is wrong, in one line)."""
    from inkread.serving.corrections import MAX_ID

    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a correction id (a whole number)") from None
    if not 1 <= number <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{text} is not a correction id: ids are whole numbers from 1 to 2**62")
    return number


def _cmd_corrections_delete(args: argparse.Namespace) -> int:
    from inkread.serving.corrections import CorrectionStore, database_path

    store = CorrectionStore(database_path(args.data_dir), create=False)
    missing = [number for number in args.ids if not store.delete(number)]
    print(f"deleted {len(args.ids) - len(missing)} correction(s)" + (f"; no correction with id {', '.join(map(str, missing))}"
                                                                    if missing else ""))
    return 1 if missing else 0


def _cmd_corrections_export(args: argparse.Namespace) -> int:
    from inkread.serving.corrections import export_corrections

    exported = export_corrections(out_dir=args.dir, data_dir=args.data_dir, model=args.model)
    # quoted as a shell needs it: "my corrections" pasted as printed was two arguments
    print(f"wrote {exported.count} corrections of the model {exported.model} to {args.dir} (fine-tune it on them with: "
          f"inkread train --dataset {shlex.quote('folder:' + args.dir)} --init-from {shlex.quote(exported.fine_tune_from())} "
          f"--out runs/NAME)")
    return 0


def _cmd_data_fetch(args: argparse.Namespace) -> int:
    from inkread.data import fetch

    for path in fetch(args.names, data_dir=args.data_dir):
        print(path)
    return 0


DATA_DIR_HELP = "data directory (default: $INKREAD_DATA_DIR, else the user cache dir)"


class _OneLineErrors(argparse.ArgumentParser):
    """argparse, with its errors as one line like every other inkread error (no usage block above it)."""

    def error(self, message: str):
        self.exit(EXIT_USER_ERROR, f"inkread: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command (sub-parsers take the class of their parent)."""
    parser = _OneLineErrors(prog="inkread", description="Read handwriting: train, evaluate, predict and serve.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_command in (_add_train, _add_train_lines, _add_evaluate, _add_export, _add_predict_and_read, _add_serve,
                        _add_corrections, _add_data):
        add_command(commands)
    return parser


def _add_train(commands) -> None:
    p = commands.add_parser("train", help="train a model on a data set")
    p.add_argument("--dataset", default=None,
                   help="mnist, emnist-SPLIT, emnist-pool, folder:PATH or csv:PATH (required, except with --resume)")
    p.add_argument("--arch", default=None,
                   help="model architecture: inknet, inknet-wide or seed (default: the --init-from model's, else inknet)")
    p.add_argument("--epochs", type=int, default=None, help="number of epochs (default: the recipe's)")
    p.add_argument("--out", required=True, help="run folder for checkpoints, history and the model bundle")
    p.add_argument("--seed", type=int, default=None, help="seed of initialization, batch order and augmentation (default: 0)")
    p.add_argument("--split-seed", type=int, default=None,
                   help="seed of the validation split (and of the test split of data sets without an official one); "
                        "kept apart from --seed so that runs with different seeds are validated on the same images "
                        "(default: 0)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the run folder's last checkpoint (options left out are the run's own)")
    p.add_argument("--init-from", default=None, help="start from a model bundle's weights (fine-tuning)")
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    p.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch (default: all cores)")
    p.add_argument("--batch-size", type=int, default=None, help="images per training step (default: the recipe's)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate")
    p.add_argument("--augment", choices=["on", "light", "off"], default=None,
                   help="data augmentation: on, light (half ranges) or off (default: on, off for seed)")
    p.add_argument("--styles", default="all",
                   help="writing styles drawn into a share of the training digits (with --augment on/light): all "
                        "(default), none, or some of slashed-zero, flagged-one, low-stem-four, crossed-seven, "
                        "hooked-nine, joined by commas")
    p.add_argument("--patience", type=int, default=None, help="stop after N epochs without a lower validation loss (default: off)")
    p.add_argument("--ema", type=float, default=None,
                   help="decay of the weight average that is validated and shipped; 0 = off (default: 0.998, off for seed)")
    p.add_argument("--precision", choices=["auto", "bf16", "fp32"], default=None,
                   help="bf16 mixed precision; auto = where the CPU supports it natively (default: auto, fp32 for seed)")
    p.add_argument("--optimizer", choices=["adam", "adamw", "muon"], default=None,
                   help="adamw, muon (orthogonalized updates for the weight matrices, AdamW for the rest) or adam "
                        "(default: adamw, adam for seed)")
    p.add_argument("--limit", type=int, default=None,
                   help="use only the first N training images, and validation and test images in proportion (quick runs)")
    p.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors (no progress, no epoch lines)")
    p.set_defaults(handler=_cmd_train)


def _add_train_lines(commands) -> None:
    p = commands.add_parser("train-lines", help="train a line reader (whole words and lines) on synthetic lines of EMNIST characters and handwriting fonts")
    p.add_argument("--out", required=True, help="run folder for checkpoints and the model bundle")
    p.add_argument("--epochs", type=int, default=None, help="number of epochs (default: the recipe's)")
    p.add_argument("--lines-per-epoch", type=int, default=None, help="new synthetic lines per epoch (default: the recipe's)")
    p.add_argument("--val-lines", type=int, default=None, help="validation lines (default: the recipe's)")
    p.add_argument("--batch-size", type=int, default=None, help="lines per training step (default: the recipe's)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate")
    p.add_argument("--width", type=int, default=None,
                   help="the network's width, its first layer's channels (default: 24; a narrower one trains faster)")
    p.add_argument("--seed", type=int, default=None, help="seed of initialization and of the lines drawn (default: 0)")
    p.add_argument("--font-share", type=float, default=None,
                   help="share of the lines written in handwriting fonts, the rest with EMNIST characters (default: 0.5; 0: none)")
    p.add_argument("--fonts", default=None, help="folder of .ttf/.otf handwriting fonts (default: Debian's, see README)")
    p.add_argument("--init-from", default=None, help="start from a line model's weights (fine-tuning): lines, or a bundle or run folder")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch (default: all cores)")
    p.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP + "; needs the EMNIST files of emnist-pool")
    p.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors (no progress, no epoch lines)")
    p.set_defaults(handler=_cmd_train_lines)


def _add_evaluate(commands) -> None:
    p = commands.add_parser("evaluate", help="evaluate a model and write a report")
    p.add_argument("--model", required=True, help="model bundle folder, run folder, or digits|characters")
    p.add_argument("--dataset", required=True, help="data set spec, as for train")
    p.add_argument("--split", default=None, choices=["train", "val", "test", "all"],
                   help="which images to evaluate (default: test; all for a folder:/csv: set the model was "
                        "not trained on, new handwriting to it)")
    p.add_argument("--out", required=True, help="folder for the report files")
    p.add_argument("--data-dir", default=None,
                   help="data directory (default: the one the model's run was trained with, else $INKREAD_DATA_DIR, "
                        "else the user cache dir)")
    p.add_argument("--limit", type=int, default=None, help="evaluate only the first N images")
    p.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors (no notes, no summary)")
    p.set_defaults(handler=_cmd_evaluate)


def _add_export(commands) -> None:
    p = commands.add_parser("export", help="export a trained run as an ONNX model bundle")
    p.add_argument("run", help="run folder made by inkread train, a model bundle folder, or a shipped model (digits, characters)")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="the bundle's model format (default: onnx)")
    p.add_argument("--quantize", default=None, choices=["int8"],
                   help="int8: weights and activations in 8 bits (static, calibrated on training images), checked like fp32")
    p.add_argument("--out", default=None,
                   help="bundle folder (default: RUN/export or RUN/export-int8, also for RUN/model; required for a "
                        "shipped model or a bundle outside a run folder)")
    p.add_argument("--data-dir", default=None,
                   help="data directory (default: the one the run was trained with, else $INKREAD_DATA_DIR, else "
                        "the user cache dir)")
    p.add_argument("--check-limit", type=int, default=None, help="compare PyTorch and the export on the first N test images and N validation images (default: all)")
    p.add_argument("--dataset", default=None,
                   help="data set whose test split checks the export (default: the one the run was trained on)")
    p.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors (the check still runs, unprinted)")
    p.set_defaults(handler=_cmd_export)


def _add_predict_and_read(commands) -> None:
    # predict and read take the same images and options, but for predict's --save-preprocessed and read's --lexicon
    for name, help_text in (("predict", "recognize one character per image"), ("read", "read several characters per image")):
        p = commands.add_parser(name, help=help_text)
        p.add_argument("paths", nargs="+", help="image files, folders or globs")
        p.add_argument("--model", default="digits" if name == "predict" else "characters",
                       help="digits, characters, or a model bundle path (default: digits)" if name == "predict" else
                            "characters (cut into characters), lines (read each line whole: joined-up writing), "
                            "digits, digits+lines or characters+lines (cut, with the line model reading touching "
                            "characters whole), or a model bundle path (default: characters; digits reads numbers "
                            "more surely)")
        p.add_argument("--only", default=None, help="digits, letters, upper, lower, or explicit characters like ACGT")
        if name == "predict":
            p.add_argument("--top-k", type=int, default=3, help="ranked answers per image (default: 3)")
            p.add_argument("--save-preprocessed", default=None, metavar="DIR", help="save the 28x28 images the model sees")
        else:
            p.add_argument("--top-k", type=int, default=1,
                           help="ranked answers per character, listed in --format json (default: 1)")
            p.add_argument("--lexicon", default=None, metavar="NAME|PATH",
                           help="with a line model: replace each word read by the nearest fitting word of a word list: "
                                "english (needs pip install \"inkread[words]\"), or a UTF-8 file with one word per "
                                "line, optionally a tab and its count")
        p.add_argument("--format", default="table", choices=["table", "json", "csv"], help="output on stdout (default: table)")
        p.set_defaults(handler=_cmd_predict if name == "predict" else _cmd_read)


def _add_serve(commands) -> None:
    p = commands.add_parser("serve", help="serve the web page and the HTTP API")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000; 0: any free one)")
    p.add_argument("--model", action="append", help="model to serve (repeatable; default: every shipped model); digits+lines: digits, with the line model reading touching digits whole")
    p.add_argument("--data-dir", default=None, help=DATA_DIR_HELP + "; corrections are stored here")
    p.add_argument("--cors-origin", action="append", help="allow this browser origin (default: none)")
    p.add_argument("--allowed-host", action="append", metavar="NAME",
                   help="a Host name the server answers to besides localhost and its address (a reverse proxy's; repeatable)")
    p.add_argument("--workers", type=int, default=None, help="server processes (default: one per core, at most 2)")
    p.add_argument("--log-requests", action="store_true", help="print one access-log line per request (costs throughput)")
    p.set_defaults(handler=_cmd_serve)


def _add_corrections(commands) -> None:
    p = commands.add_parser("corrections", help="corrections collected by the web app")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = actions.add_parser("export", help="write corrections as a folder: data set")
    q.add_argument("dir")
    q.add_argument("--model", default=None, help="only corrections made for this model")
    q.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    q.set_defaults(handler=_cmd_corrections_export)
    q = actions.add_parser("delete", help="remove corrections taught by mistake, by id (as GET /api/v1/corrections lists them)")
    q.add_argument("ids", nargs="+", type=_correction_id, help="correction ids")
    q.add_argument("--data-dir", default=None, help=DATA_DIR_HELP + "; where the corrections are")
    q.set_defaults(handler=_cmd_corrections_delete)


def _add_data(commands) -> None:
    p = commands.add_parser("data", help="data sets")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = actions.add_parser("fetch", help="download official data files (checked against pinned checksums)")
    q.add_argument("names", nargs="+", help="mnist, emnist (all of it), or one EMNIST split: emnist-byclass, emnist-balanced, ...")
    q.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    q.set_defaults(handler=_cmd_data_fetch)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("inkread")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``inkread`` command; returns the exit code."""
    for stream in (sys.stdout, sys.stderr):  # a console that cannot show "•" or "é" shows "\u2022", no traceback
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # argparse would point at "inkread --help"; the options are the command's
        parser.prog = f"inkread {args.command}"
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        with command_line_spelling():
            return args.handler(args)
    except InkreadError as error:
        print(f"inkread: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("inkread: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except OSError as error:
        # A file-system failure no layer turned into an InkreadError (each should): still one line.
        where = f" ({error.filename})" if error.filename else ""
        print(f"inkread: error: {error.strerror or error}{where}: check the path and free space, then run again",
              file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
