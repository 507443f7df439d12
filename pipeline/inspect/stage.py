"""Stage `inspect` as a command: read the coded answers and serve the browser on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from pipeline.core.codebook import load_codebook
from pipeline.core.io import console, quarantine_path, read_table, side_output_path
from pipeline.inspect.app import create_app

HOST = "127.0.0.1"  # never another interface: the app is for the researcher at this machine


def run_inspect(
    segments_path: Path,
    codes_path: Path,
    corrections: Path | None,
    codebook_path: Path | None,
    port: int,
    token: str | None,
    cfg: dict,
) -> None:
    """Serve the app on 127.0.0.1:`port` until interrupted. Codebook and corrections file
    default to the `themes` params section `cfg`, so corrections land where
    `train-themes` reads them. The importer's documents companion (interview context) and
    code-themes' quarantine table are read when they are there."""
    import uvicorn

    documents = side_output_path(segments_path, "documents")
    quarantine = quarantine_path(codes_path)
    app = create_app(
        read_table(segments_path),
        read_table(codes_path),
        load_codebook(codebook_path or cfg["codebook"]),
        Path(corrections or cfg["corrections"]),
        port,
        token,
        documents=read_table(documents) if documents.exists() else None,
        quarantine=read_table(quarantine) if quarantine.exists() else None,
    )
    suffix = f"/?token={token}" if token else "/"
    console.print(f"themes browser: http://{HOST}:{port}{suffix}  (Ctrl+C to stop)")
    uvicorn.run(app, host=HOST, port=port, log_level="warning")
