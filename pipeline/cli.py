"""The `cryptodrug` command line: a thin layer over the stage modules.

Each command parses its arguments, calls pure functions of one stage module and writes
the result; DVC stages call these same commands. Heavy libraries are imported inside the
commands so that `cryptodrug --help` stays fast.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.core.io import InputError, console

app = typer.Typer(
    help="cryptodrug: reproducible research pipeline for darknet drug markets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="markdown",
)

InPath = Annotated[Path, typer.Argument(help="input table (.csv, .jsonl, .parquet) or folder")]
OutPath = Annotated[Path, typer.Option("-o", "--out", help="output file")]
ModelOut = Annotated[Path, typer.Option("-o", "--out", help="model directory to write")]
ParamsOpt = Annotated[
    Path | None, typer.Option("--params", help="params file (default: params.yaml)")
]


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"cryptodrug {version('cryptodrug')}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True,
                           help="show the installed version and exit")
    ] = False,
) -> None:
    """cryptodrug: reproducible research pipeline for darknet drug markets. Commands are
    listed in pipeline order; `cryptodrug COMMAND -h` explains one."""


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Unusable input ends the command with a one-line reason and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as err:
            console.print(f"[red]error:[/red] {err}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper


def params_section(params: Path | None, name: str) -> tuple[dict[str, Any], int]:
    """One stage's params section and the project seed, loaded once for a command; a
    one-line error when the section is missing."""
    from pipeline.core.config import load_params

    loaded = load_params(params)
    if not loaded.get(name):
        raise InputError(
            f"params have no {name!r} section (run `python scripts/compose_params.py`)"
        )
    return loaded[name], int(loaded.get("seed", 42))


def engine_section(params: Path | None) -> dict[str, Any] | None:
    """The `engine` params section (conf/engine: where per-partition work runs); None,
    the local engine, when there is no params file."""
    from pipeline.core.config import PARAMS_FILE, load_params

    return load_params(params).get("engine") if params or PARAMS_FILE.exists() else None


# --- stage 1: ingest ---------------------------------------------------------------------


@app.command()
@one_line_errors
def ingest(
    inputs: Annotated[list[Path], typer.Argument(help="raw files or folders of one market")],
    market: Annotated[
        str, typer.Option(help="market config name (conf/markets/NAME.yaml) or a YAML path")
    ],
    out: OutPath,
    pseudonymise: Annotated[
        bool, typer.Option(help="replace vendor handles by keyed tokens ($CRYPTODRUG_VENDOR_KEY)")
    ] = False,
    metrics: Annotated[
        Path | None, typer.Option(help="write counts and fill rates as JSON")
    ] = None,
    params: ParamsOpt = None,
) -> None:
    """Raw scrapes of one market -> canonical listings (docs/contracts.md); an OUT without
    an extension is a dataset partitioned by market and scrape date (docs/cluster.md)."""
    from pipeline.core.config import load_market_config
    from pipeline.ingest.stage import run_ingest

    run_ingest(inputs, load_market_config(market), out, pseudonymise, metrics,
               engine_section(params))


# --- stage 2: classify ------------------------------------------------------------------


MarketConfigsOpt = Annotated[
    list[Path] | None,
    typer.Option("--market-config", help="extra market YAML (or folder) whose category_map labels"),
]


@app.command("train-classifier")
@one_line_errors
def train_classifier(
    inp: InPath,
    out: Annotated[Path, typer.Option("-o", "--out", help="model directory")],
    params: ParamsOpt = None,
    market_config: MarketConfigsOpt = None,
    metrics: Annotated[
        Path | None, typer.Option(help="evaluation JSON to copy into the model card")
    ] = None,
) -> None:
    """Labelled canonical listings -> a model directory with a model card."""
    from pipeline.classify.stage import run_train
    from pipeline.core.config import load_params

    run_train(inp, out, load_params(params), market_config or [], metrics)


@app.command()
@one_line_errors
def classify(
    inp: InPath,
    out: OutPath,
    model: Annotated[Path, typer.Option(help="model directory")] = Path("models/classifier"),
    params: ParamsOpt = None,
) -> None:
    """Canonical listings -> + category, category_confidence (+ OUT.review for low confidence)."""
    from pipeline.classify.stage import run_classify
    from pipeline.core.config import load_params

    run_classify(inp, out, model, load_params(params))


@app.command("evaluate-classifier")
@one_line_errors
def evaluate_classifier(
    inp: InPath,
    out: Annotated[Path, typer.Option("-o", "--out", help="metrics JSON")],
    figure: Annotated[Path | None, typer.Option(help="confusion-matrix PNG")] = None,
    params: ParamsOpt = None,
    market_config: MarketConfigsOpt = None,
    max_per_market: Annotated[
        int | None, typer.Option(help="evaluate on at most N labelled rows a market")
    ] = None,
) -> None:
    """In-market split and leave-one-market-out evaluation of the configured model."""
    from pipeline.classify.stage import run_evaluate
    from pipeline.core.config import load_params

    run_evaluate(inp, out, figure, load_params(params), market_config or [], max_per_market)


@app.command("audit-labels")
@one_line_errors
def audit_labels(
    inp: InPath,
    out: Annotated[Path, typer.Option("-o", "--out", help="audit table (.csv, .parquet)")],
    params: ParamsOpt = None,
    market_config: MarketConfigsOpt = None,
    folds: Annotated[int, typer.Option(help="cross-validation folds")] = 3,
    min_rows: Annotated[int, typer.Option(help="audit paths with at least N rows")] = 20,
    max_per_market: Annotated[
        int | None, typer.Option(help="audit at most N labelled rows a market")
    ] = None,
    metrics: Annotated[Path | None, typer.Option(help="summary metrics JSON")] = None,
) -> None:
    """Label-noise audit: per market category path, how often a model that never saw the
    row agrees with the label its category_map gives."""
    from pipeline.classify.stage import run_audit
    from pipeline.core.config import load_params

    run_audit(inp, out, load_params(params), market_config or [], folds, min_rows,
              max_per_market, metrics)


@app.command("compare-classifiers")
@one_line_errors
def compare_classifiers(
    inp: InPath,
    out: Annotated[Path, typer.Option("-o", "--out", help="comparison metrics JSON")],
    models: Annotated[
        str, typer.Option(help="comma-separated conf/model names")
    ] = "linear,sentence_embedding",
    transformer_checkpoint: Annotated[
        str | None, typer.Option(help="also fine-tune this local checkpoint")
    ] = None,
    max_per_market: Annotated[
        int, typer.Option(help="at most N labelled rows a market (0: all)")
    ] = 2000,
    params: ParamsOpt = None,
    market_config: MarketConfigsOpt = None,
) -> None:
    """Listing classifiers on identical rows, in-market split and leave-one-market-out folds."""
    from pipeline.classify.stage import run_compare
    from pipeline.core.config import load_params

    run_compare(inp, out, load_params(params), [m for m in models.split(",") if m],
                transformer_checkpoint, max_per_market, market_config or [])


# --- stage 3: extract -----------------------------------------------------------------


@app.command()
@one_line_errors
def extract(inp: InPath, out: OutPath, params: ParamsOpt = None) -> None:
    """Canonical listings -> + quantities, doses, purity, prices in EUR, shipping."""
    from pipeline.extract.stage import run_extract

    run_extract(inp, out, params_section(params, "extraction")[0], engine_section(params))


@app.command("evaluate-extraction")
@one_line_errors
def evaluate_extraction(
    out: Annotated[Path, typer.Option("-o", "--out", help="metrics JSON")] = Path(
        "reports/metrics/extraction.json"
    ),
    listings: Annotated[
        Path | None,
        typer.Option(help="folder of ingested listings (<market>.parquet) holding the real gold"),
    ] = None,
    blind: Annotated[
        Path | None,
        typer.Option(help="blind set folder (listings.jsonl, labels.jsonl): per-language "
                          "scores beside the annotators' agreement"),
    ] = None,
    params: ParamsOpt = None,
) -> None:
    """Per-field P/R/F1 on the extraction gold, beside quantulum3 and price-parser."""
    from pipeline.extract.stage import run_evaluate

    run_evaluate(out, params_section(params, "extraction")[0], listings, blind)


# --- stage 3b: substances --------------------------------------------------------------

SubstanceModelOpt = Annotated[
    Path, typer.Option("--model", help="trained recogniser directory (vocabulary rules if absent)")
]
AnnotationsOpt = Annotated[Path | None, typer.Option(
    "--annotations", help="Prodigy JSONL with DRUG spans (default: the public Reddit set)")]


@app.command()
@one_line_errors
def substances(
    inp: InPath,
    out: OutPath,
    id_column: Annotated[str, typer.Option(help="column holding each row's id")] = "id",
    text_column: Annotated[str, typer.Option(help="column holding the text")] = "text",
    model: SubstanceModelOpt = Path("models/substances"),
    params: ParamsOpt = None,
) -> None:
    """Any table with an id and a text -> + `spans` (substance mentions, canonical names)."""
    from pipeline.core.config import load_params
    from pipeline.substances.stage import run_substances

    run_substances(inp, out, model, id_column, text_column,
                   load_params(params).get("substances", {}))


@app.command("train-substances")
@one_line_errors
def train_substances(out: ModelOut, inp: AnnotationsOpt = None,
                     params: ParamsOpt = None) -> None:
    """DRUG-annotated texts (training side of the hash split) -> a recogniser directory."""
    from pipeline.core.config import load_params
    from pipeline.substances.stage import run_train

    loaded = load_params(params)
    run_train(inp, out, loaded.get("substances", {}), int(loaded.get("seed", 42)))


@app.command("evaluate-substances")
@one_line_errors
def evaluate_substances(
    out: OutPath,
    inp: AnnotationsOpt = None,
    model: SubstanceModelOpt = Path("models/substances"),
    blind: Annotated[Path | None, typer.Option(
        help="blind listing set (listings.jsonl + labels.jsonl): span scores per language")
    ] = None,
    params: ParamsOpt = None,
) -> None:
    """Span precision/recall/F1 on the held-out side of the hash split -> metrics JSON."""
    from pipeline.core.config import load_params
    from pipeline.substances.stage import run_evaluate

    run_evaluate(inp, out, model, load_params(params).get("substances", {}), blind)


# --- stage 4: analyse and report ------------------------------------------------------


@app.command()
@one_line_errors
def analyse(
    inp: InPath,
    out: Annotated[Path, typer.Option("-o", "--out", help="output folder of Parquet tables")],
    feedback: Annotated[
        Path | None, typer.Option(help="folder of ingest's *.feedback.* companion tables")
    ] = None,
    metrics: Annotated[
        Path | None, typer.Option(help="write the linker evaluation as JSON")
    ] = None,
    params: ParamsOpt = None,
) -> None:
    """Classified, extracted listings -> vendor, country, transaction and migration tables."""
    from pipeline.analyse.stage import run_analyse
    from pipeline.core.config import load_params

    loaded = load_params(params)
    run_analyse(inp, out, feedback, loaded["analyse"], int(loaded.get("seed", 0)), metrics)


@app.command()
@one_line_errors
def report(
    inp: Annotated[Path, typer.Argument(help="analytics folder written by `cryptodrug analyse`")],
    out: Annotated[Path, typer.Option("-o", "--out", help="HTML file")] = Path(
        "reports/index.html"
    ),
    metrics_dir: Annotated[
        Path, typer.Option(help="folder of the stages' metrics JSON")
    ] = Path("reports/metrics"),
    reviews_summary: Annotated[
        Path, typer.Option(help="summaries of `cryptodrug sentiment` (shown when present)")
    ] = Path("data/processed/reviews_summary"),
    forum_summary: Annotated[
        Path, typer.Option(help="summary of `cryptodrug harm-reduction` (shown when present)")
    ] = Path("data/processed/forum_posts_summary.parquet"),
    themes: Annotated[
        Path, typer.Option(help="codes of `cryptodrug code-themes` (shown when present)")
    ] = Path("data/processed/themes.parquet"),
    segments: Annotated[
        Path, typer.Option(help="segments of `cryptodrug import-answers`")
    ] = Path("data/interim/segments.parquet"),
    models_dir: Annotated[
        Path, typer.Option(help="folder of trained models (their cards write the method texts)")
    ] = Path("models"),
    monitoring: Annotated[
        Path | None, typer.Option(help="tables of `cryptodrug monitor` (shown when given)")
    ] = None,
    params: ParamsOpt = None,
) -> None:
    """Analytics + stage metrics and summaries -> one offline HTML report with embedded
    figures; a stage whose outputs are absent is shown as "not run"."""
    from pipeline.report.stage import run_report

    page = run_report(inp, out, metrics_dir, params_section(params, "report")[0],
                      reviews_summary, forum_summary, themes, segments, models_dir,
                      monitoring)
    console.print(f"report -> {page}")


# --- stage 5: review sentiment and harm reduction -------------------------------------


@app.command()
@one_line_errors
def sentiment(
    inp: InPath,
    out: OutPath,
    model: Annotated[Path, typer.Option(help="sentiment model directory")] = Path(
        "models/sentiment"
    ),
    rating_scale: Annotated[
        str | None, typer.Option(help="scale of `rating` (reviews.rating_scales), e.g. pm5, five")
    ] = None,
    summary_dir: Annotated[
        Path | None,
        typer.Option("--summary", "--summary-dir",
                     help="folder for the per-vendor/country and risk summaries"),
    ] = None,
    params: ParamsOpt = None,
) -> None:
    """Reviews -> + sentiment, sentiment_score (and aspects, rating_label)."""
    from pipeline.core.config import load_params
    from pipeline.reviews.stage import run_sentiment

    run_sentiment(inp, out, load_params(params), model, rating_scale, summary_dir)


@app.command("review-corpus")
@one_line_errors
def review_corpus(out: OutPath, params: ParamsOpt = None) -> None:
    """Labelled reviews from `data.reviews.sources` (ratings -> labels, duplicates set aside)."""
    from pipeline.core.config import load_params
    from pipeline.reviews.stage import run_review_corpus

    run_review_corpus(load_params(params), out)


@app.command("train-sentiment")
@one_line_errors
def train_sentiment(inp: InPath, out: ModelOut, params: ParamsOpt = None) -> None:
    """Rated reviews (+ the multilingual seed examples) -> a sentiment model directory."""
    from pipeline.core.config import load_params
    from pipeline.reviews.stage import run_train

    run_train(inp, out, load_params(params))


@app.command("evaluate-sentiment")
@one_line_errors
def evaluate_sentiment(
    inp: InPath,
    out: OutPath,
    multilingual: Annotated[
        Path | None, typer.Option(help="rated NL/FR/DE/EN reviews scored per language")
    ] = None,
    blind: Annotated[
        Path | None,
        typer.Option(help="blind set folder: reviews.csv + labels.csv (coders A1, A2, gold)"),
    ] = None,
    params: ParamsOpt = None,
) -> None:
    """Held-out sellers and markets, VADER on the same reviews (and a blind set per
    language) -> metrics JSON."""
    from pipeline.core.config import load_params
    from pipeline.reviews.stage import run_evaluate

    run_evaluate(inp, out, load_params(params), multilingual, blind)


@app.command("harm-reduction")
@one_line_errors
def harm_reduction(
    inp: InPath,
    out: OutPath,
    model: Annotated[Path, typer.Option(help="harm-reduction model directory")] = Path(
        "models/harm_reduction"
    ),
    summary: Annotated[
        Path | None, typer.Option(help="table of the share of posts per label")
    ] = None,
) -> None:
    """Forum posts -> + harm_reduction, hr_labels (and hr_evidence: the lexicon's spans)."""
    from pipeline.forums.stage import run_harm_reduction

    run_harm_reduction(inp, out, model, summary)


@app.command("forum-corpus")
@one_line_errors
def forum_corpus(out: OutPath, params: ParamsOpt = None) -> None:
    """Forum posts from `data.forums.sources`, with text hashes for the stored labels."""
    from pipeline.core.config import load_params
    from pipeline.forums.stage import run_forum_corpus

    run_forum_corpus(load_params(params), out)


@app.command("train-harm-reduction")
@one_line_errors
def train_harm_reduction(inp: InPath, out: ModelOut, params: ParamsOpt = None) -> None:
    """Posts + the labelled set (data/gold/harm_reduction) -> a model directory."""
    from pipeline.core.config import load_params
    from pipeline.forums.stage import run_train

    run_train(inp, out, load_params(params))


@app.command("evaluate-harm-reduction")
@one_line_errors
def evaluate_harm_reduction(
    inp: InPath,
    out: OutPath,
    blind: Annotated[
        Path | None,
        typer.Option(help="blind set folder: posts.csv + labels.csv (+ real_en.csv keys)"),
    ] = None,
    params: ParamsOpt = None,
) -> None:
    """Per-label precision/recall/F1 on the held-out labelled posts (and a blind set per
    language) -> metrics JSON."""
    from pipeline.core.config import load_params
    from pipeline.forums.stage import run_evaluate

    run_evaluate(inp, out, load_params(params), blind)


ThemeModelOpt = Annotated[Path, typer.Option("--model", help="theme coder directory")]
CodebookOpt = Annotated[Path | None, typer.Option("--codebook", help="codebook YAML")]
CorrectionsOpt = Annotated[
    Path | None, typer.Option("--corrections", help="browser corrections (JSON lines)")
]


# --- stage 6: theme coding ------------------------------------------------------------


@app.command("code-themes")
@one_line_errors
def code_themes(
    inp: InPath,
    out: OutPath,
    codebook: CodebookOpt = None,
    model: ThemeModelOpt = Path("models/themes"),
    corrections: CorrectionsOpt = None,
    params: ParamsOpt = None,
) -> None:
    """Answer segments -> one row per assigned code (+ quarantine, review queue, new themes)."""
    from pipeline.themes.stage import run_code

    run_code(inp, out, model, corrections, params_section(params, "themes")[0], codebook)


@app.command("import-answers")
@one_line_errors
def import_answers(
    inputs: Annotated[list[Path], typer.Argument(help="survey CSV exports, transcripts, folders")],
    out: OutPath,
    params: ParamsOpt = None,
) -> None:
    """Survey CSV exports and .txt/.docx transcripts -> answer segments (docs/contracts.md)."""
    from pipeline.themes.stage import run_import

    run_import(inputs, out, params_section(params, "themes")[0])


@app.command("train-themes")
@one_line_errors
def train_themes(
    out: ModelOut,
    gold: Annotated[Path | None, typer.Option(help="gold coded segments")] = None,
    codebook: CodebookOpt = None,
    corrections: CorrectionsOpt = None,
    params: ParamsOpt = None,
) -> None:
    """Gold coded segments + browser corrections -> a theme coder directory."""
    from pipeline.themes.stage import run_train

    run_train(gold, out, corrections, codebook, *params_section(params, "themes"))


@app.command("evaluate-themes")
@one_line_errors
def evaluate_themes(
    out: OutPath,
    gold: Annotated[Path | None, typer.Option(help="gold coded segments")] = None,
    coded: Annotated[Path | None, typer.Option(help="coded sample (code-themes output)")] = None,
    blind_gold: Annotated[
        Path | None, typer.Option(help="blind set: codes of two annotators and the resolved gold")
    ] = None,
    blind_coded: Annotated[
        Path | None, typer.Option(help="code-themes output on the blind set's segments")
    ] = None,
    corrections: CorrectionsOpt = None,
    params: ParamsOpt = None,
) -> None:
    """Held-out agreement with human codes (kappa per code, alpha, F1) -> metrics JSON."""
    from pipeline.themes.stage import run_evaluate

    run_evaluate(gold, out, corrections, *params_section(params, "themes"), coded,
                 blind_gold=blind_gold, blind_coded=blind_coded)


@app.command("export-qdpx")
@one_line_errors
def export_qdpx(
    segments: Annotated[Path, typer.Argument(help="segments (import-answers output)")],
    codes: Annotated[Path, typer.Argument(help="coded segments (code-themes output)")],
    out: OutPath,
    codebook: CodebookOpt = None,
    corrections: CorrectionsOpt = None,
    params: ParamsOpt = None,
) -> None:
    """Coded segments, researchers' corrections, memos and coders -> REFI-QDA project (.qdpx)
    for QualCoder, NVivo, ATLAS.ti, MAXQDA."""
    from pipeline.themes.stage import run_export

    run_export(segments, codes, out, codebook, params_section(params, "themes")[0], corrections)


@app.command("import-qdpx")
@one_line_errors
def import_qdpx(
    project: Annotated[Path, typer.Argument(help="REFI-QDA project (.qdpx) coded elsewhere")],
    segments: Annotated[Path, typer.Argument(help="segments (import-answers output)")],
    codebook: CodebookOpt = None,
    corrections: CorrectionsOpt = None,
    params: ParamsOpt = None,
) -> None:
    """A .qdpx coded in QualCoder, NVivo, ATLAS.ti or MAXQDA -> corrections with their coders
    (for training and agreement)."""
    from pipeline.themes.stage import run_import_qdpx

    run_import_qdpx(project, segments, codebook, params_section(params, "themes")[0], corrections)


@app.command()
@one_line_errors
def inspect(
    segments: Annotated[Path, typer.Argument(help="segments (import-answers output)")],
    codes: Annotated[Path, typer.Argument(help="coded segments (code-themes output)")],
    corrections: CorrectionsOpt = None,
    codebook: CodebookOpt = None,
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8765,
    token: Annotated[
        str | None, typer.Option(envvar="CRYPTODRUG_INSPECT_TOKEN", help="access token")
    ] = None,
    params: ParamsOpt = None,
) -> None:
    """Browse and correct coded answers in a local web app (127.0.0.1 only)."""
    from pipeline.inspect.stage import run_inspect

    cfg = params_section(params, "themes")[0]
    run_inspect(segments, codes, corrections, codebook, port, token, cfg)


# --- monitoring: crawl ---------------------------------------------------------------------


@app.command()
@one_line_errors
def crawl(
    market: Annotated[
        str, typer.Option(help="market config name (conf/markets/NAME.yaml) or a YAML path")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="snapshot folder (WARC, index)")],
    proxy: Annotated[
        str | None, typer.Option(help="socks5h://127.0.0.1:9050 (Tor) or http://HOST:PORT")
    ] = None,
    no_proxy: Annotated[
        bool, typer.Option("--no-proxy", help="no proxy: only for a site on 127.0.0.1")
    ] = False,
    cookies: Annotated[
        Path | None, typer.Option(help="cookies.txt (Netscape format) of a logged-in session")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="crawl this base URL instead of the configured one")
    ] = None,
    max_pages: Annotated[int | None, typer.Option(help="override crawl.max_pages")] = None,
    wait: Annotated[
        float, typer.Option(help="seconds to wait for refreshed cookies when hosts pause")
    ] = 0.0,
) -> None:
    """One market's crawl into a dated gzip WARC snapshot; run again to resume."""
    from pipeline.core.config import load_market_config
    from pipeline.crawl.stage import run_crawl

    summary = run_crawl(load_market_config(market), out, proxy, no_proxy, cookies,
                        base_url=base_url, max_pages=max_pages, wait=wait,
                        say=lambda line: console.print(line, highlight=False, soft_wrap=True))
    console.print(f"{summary['snapshot']}: {summary['status']}, {summary['stored_this_run']} "
                  f"pages stored this run, urls {summary['urls']}", highlight=False)
    if summary["status"] != "finished":
        raise typer.Exit(code=3)


@app.command()
@one_line_errors
def monitor(
    snapshots: Annotated[
        list[Path], typer.Argument(help="ingested listings, one table per snapshot, or folders "
                                        "of them (and of per-market subfolders)")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="folder for the monitoring tables")],
    match: Annotated[
        str, typer.Option(help="match listings across snapshots by listing_id or vendor_title "
                               "(for scrapes whose ids change with the date)")
    ] = "listing_id",
) -> None:
    """Snapshots of a market -> listing lifecycles, vendor activity, market series, changes."""
    from pipeline.monitor.stage import run_monitor

    counts = run_monitor(snapshots, out, match)
    console.print(f"{counts['series']} snapshots -> {out}: " + ", ".join(
        f"{name} {n}" for name, n in counts.items()), highlight=False)


# --- sharing: export and data dictionary ---------------------------------------------------


class ExportFormat(StrEnum):
    """File formats of `cryptodrug export`: CSV (R, spreadsheets) or Stata 14+ .dta."""

    csv = "csv"
    dta = "dta"


@app.command()
@one_line_errors
def export(
    inputs: Annotated[list[Path], typer.Argument(help="output tables or folders of tables")],
    out: Annotated[Path, typer.Option("-o", "--out", help="folder to write the exports to")],
    format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="csv for R, dta for Stata")
    ] = ExportFormat.csv,
) -> None:
    """Output tables -> flat CSV or Stata files with the data dictionary's labels, and a
    codebook.csv of every exported column (docs/export.md)."""
    from pipeline.export.stage import run_export

    run_export(inputs, out, format.value)


@app.command("data-dictionary")
@one_line_errors
def data_dictionary(
    out: Annotated[Path, typer.Option("-o", "--out", help="Markdown file to write")] = Path(
        "docs/data-dictionary.md"
    ),
    check: Annotated[
        bool, typer.Option("--check", help="only check that OUT is current (exit 1 if not)")
    ] = False,
) -> None:
    """Table declarations (pipeline/core/tables.py) -> docs/data-dictionary.md."""
    from pipeline.export.stage import run_data_dictionary

    if not run_data_dictionary(out, check):
        raise typer.Exit(code=1)


# Help sections in pipeline order: each command's panel, and its place in `cryptodrug -h`.
PANELS: dict[str, tuple[str, ...]] = {
    "1. Collect and ingest": ("crawl", "ingest"),
    "2. Classify listings": ("train-classifier", "evaluate-classifier", "compare-classifiers",
                             "audit-labels", "classify"),
    "3. Extract quantities, prices, shipping": ("extract", "evaluate-extraction", "substances",
                                                "train-substances", "evaluate-substances"),
    "4. Reviews and forum posts": ("review-corpus", "train-sentiment", "evaluate-sentiment",
                                   "sentiment", "forum-corpus", "train-harm-reduction",
                                   "evaluate-harm-reduction", "harm-reduction"),
    "5. Survey and interview answers": ("import-answers", "train-themes", "code-themes",
                                        "evaluate-themes", "export-qdpx", "import-qdpx",
                                        "inspect"),
    "6. Analyse and report": ("analyse", "report", "monitor"),
    "7. Share": ("export", "data-dictionary"),
}


def command_name(info: typer.models.CommandInfo) -> str:
    """The name a command is called by (typer derives it from the function name)."""
    return info.name or info.callback.__name__.replace("_", "-")


def _arrange_commands() -> None:
    """Put every command in its help panel, and the commands in pipeline order."""
    panel = {name: title for title, names in PANELS.items() for name in names}
    rank = {name: i for i, name in enumerate(panel)}
    for info in app.registered_commands:
        info.rich_help_panel = panel.get(command_name(info), "Other commands")
    app.registered_commands.sort(key=lambda info: rank.get(command_name(info), len(rank)))


_arrange_commands()

if __name__ == "__main__":
    app()
