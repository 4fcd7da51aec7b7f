"""The Python entry points: analyse a BERT checkpoint's block and evaluate the claims, as the CLI does.

``analyze`` reads one block of a backbone (a user's local Hugging Face BERT folder, or the profile's own)
through a token probe trained on its features (cached in the artifact store like everything else) and
returns an :class:`Analysis`: a row per head, per single node and per node subset, with the tokens each
recognises (ids and strings), and the curves against the number of nodes. ``evaluate_claims`` returns the
verdicts ``ssb claims`` prints. Both build the same :class:`~ssb.pipeline.Pipeline` the CLI builds.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Profile
from .experiments.common import METRIC_FIELDS as ROW_FIELDS  # a row's metrics: those every sweep stores

if TYPE_CHECKING:
    from .pipeline import Pipeline


@dataclass
class Analysis:
    """One block of a model, read through a token probe: ``heads`` (a row per head, ids ``head0`` ...),
    ``nodes`` (a row per single node, ``node0`` ...), ``subsets`` (a row per random node subset of the sweep,
    ``n4:s2``: 4 nodes, draw 2) and ``curves`` (each metric's mean against the number of nodes), as pandas
    DataFrames; ``tables()`` gives the same rows as JSON-ready dicts (the report's per-item log)."""

    profile: str
    layer: int
    model: str | None
    n_heads: int = 0
    width: int = 0  # nodes of the block (the model's hidden size)
    seconds: float | None = None  # the analysis's wall time in this process (cached work reads back fast)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in TABLES})
    curve_means: dict[str, dict[int, float]] = field(default_factory=dict)  # {metric: {n_nodes: mean}}

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        return {name: self.rows[name] for name in TABLES}

    def _frame(self, name: str):
        import pandas as pd

        if not self.rows[name]:  # an empty table keeps its columns (a sweep without single nodes, say)
            columns = ["id", *(("n_nodes", "seed", "nodes") if name == "subsets" else ()), *ROW_FIELDS, "tokens"]
            return pd.DataFrame(columns=columns).set_index("id")
        return pd.DataFrame(self.rows[name]).set_index("id")

    @property
    def heads(self):
        """A DataFrame, a row per head (index ``head0`` ...): metrics, ``tokens`` (ids), ``token_strings``."""
        return self._frame("heads")

    @property
    def nodes(self):
        """A DataFrame, a row per single node (index ``node0`` ...)."""
        return self._frame("nodes")

    @property
    def subsets(self):
        """A DataFrame, a row per node subset (index ``n4:s2``), with ``n_nodes``, ``seed`` and its ``nodes``."""
        return self._frame("subsets")

    @property
    def curves(self):
        """A DataFrame indexed by the number of nodes (integers), a column per metric: the mean over subsets."""
        import pandas as pd

        frame = pd.DataFrame(self.curve_means)
        frame.index.name = "n_nodes"
        return frame.sort_index()

    def summary(self) -> str:
        what = self.model or f"the {self.profile} profile's backbone"
        time = f", {self.seconds:.1f} s" if self.seconds is not None else ""
        return (
            f"Analysis of {what}, block {self.layer}: {self.n_heads} heads x {self.width // max(self.n_heads, 1)} "
            f"nodes, {len(self.rows['nodes'])} single nodes, {len(self.rows['subsets'])} node subsets "
            f"(profile {self.profile}{time})"
        )

    def __repr__(self) -> str:
        heads = self.rows["heads"]
        best = max(heads, key=lambda r: r["n_pos"]) if heads else None
        most = f"; most tokens: {best['id']} recognises {best['n_pos']}" if best else ""
        return f"<{self.summary()}{most}>"

    def _repr_html_(self) -> str:
        import html

        head = self.heads[["n_pos", "apt", "diagonal_confidence"]] if self.rows["heads"] else None
        table = head.to_html(float_format=lambda x: f"{x:.3g}") if head is not None else ""
        return f"<p>{html.escape(self.summary())}</p>{table}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the analysis's identity, every table's rows and the curves (node counts as strings)."""
        what = {k: getattr(self, k) for k in ("profile", "layer", "model", "n_heads", "width", "seconds")}
        curves = {m: {str(n): v for n, v in values.items()} for m, values in self.curve_means.items()}
        return {**what, **self.tables(), "curves": curves}

    def to_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path

    def to_csv(self, folder: str | Path) -> list[Path]:
        """``heads.csv``, ``nodes.csv``, ``subsets.csv`` and ``curves.csv`` in ``folder`` (token lists joined by
        spaces)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, rows in self.tables().items():
            path = folder / f"{name}.csv"
            with open(path, "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["id"])
                writer.writeheader()
                writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
            written.append(path)
        written.append(folder / "curves.csv")
        self.curves.to_csv(written[-1])
        return written

    def to_pandas(self) -> dict[str, Any]:
        """Every table and the curves as DataFrames: ``{"heads", "nodes", "subsets", "curves"}``."""
        return {"heads": self.heads, "nodes": self.nodes, "subsets": self.subsets, "curves": self.curves}


TABLES = ("heads", "nodes", "subsets")


def _cell(value: Any) -> Any:
    return " ".join(map(str, value)) if isinstance(value, list) else value


def pipeline(
    profile: str | Path | Profile = "cpu",
    model: str | Path | Any = None,
    *,
    tokenizer: Any = None,
    layer: int | None = None,
    cache_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    progress: bool = True,
    texts: Sequence[str] | None = None,
    retrain: bool = False,
) -> Pipeline:
    """The one constructor of a :class:`~ssb.pipeline.Pipeline`: the API's, the CLI's and the claims
    conftest's. ``profile``: a profile's name or file, or a loaded :class:`~ssb.config.Profile`; ``layer``
    sets ``probe.layer``; ``texts``: validation paragraphs of one's own instead of the corpus's; ``model``
    an in-memory BERT with its ``tokenizer``, or a folder or hub id; ``cache_dir`` and ``data_dir`` default
    to ``$SSB_CACHE_DIR`` and ``$SSB_DATA_DIR`` (``ssb/paths.py``); ``retrain``: build every artifact anew."""
    from .artifacts import ArtifactStore
    from .config import ConfigError, load_profile, validate
    from .model import resolve_model, saved_model_folder
    from .paths import cache_dir as resolve_cache
    from .paths import data_dir as resolve_data
    from .pipeline import Pipeline  # noqa: F811 (the run-time class of the annotation's)

    loaded = profile if isinstance(profile, Profile) else load_profile(str(profile))
    if layer is not None:
        loaded = loaded.replace(probe={"layer": layer})
        validate(loaded, f"layer={layer}")
    store = ArtifactStore(
        resolve_cache(None if cache_dir is None else str(cache_dir)), lock_timeout_s=loaded.runtime.lock_timeout_s
    )
    if model is None or isinstance(model, (str, Path)):
        if tokenizer is not None:
            raise ConfigError("tokenizer= goes with an in-memory model; a model folder carries its own tokenizer files")
        model_dir = resolve_model(model) if model is not None else None
    else:
        model_dir = saved_model_folder(model, tokenizer, store.root)
    return Pipeline(
        loaded,
        store,
        resolve_data(None if data_dir is None else str(data_dir)),
        model_dir=model_dir,
        retrain=retrain,
        progress=progress,
        valid_texts=None if texts is None else tuple(texts),
    )


def analyze(
    model: str | Path | Any = None,
    tokenizer: Any = None,
    *,
    profile: str | Path = "cpu",
    layer: int | None = None,
    cache_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    progress: bool = True,
    texts: Sequence[str] | None = None,
) -> Analysis:
    """Heads, single nodes and node subsets of block ``layer`` (default: the profile's) of ``model``, read
    through a token probe trained on its features of the corpus's training paragraphs. ``model``: a local HF
    BERT folder with its tokenizer files, a hub id, an in-memory Hugging Face BERT (``BertForMaskedLM``,
    ``BertModel``, ...) with its ``tokenizer`` (written once into the store, keyed by its weights), or None
    for the profile's own backbone. The confusion matrices are built on ``texts`` (a list of paragraphs,
    every token masked once) or, by default, the corpus's validation paragraphs. The first call trains the
    probe and caches it (``cache_dir``, default ``$SSB_CACHE_DIR``)."""
    pl = pipeline(
        profile,
        model,
        tokenizer=tokenizer,
        layer=layer,
        cache_dir=cache_dir,
        data_dir=data_dir,
        progress=progress,
        texts=texts,
    )
    started = time.monotonic()
    result = item_tables(pl, None if model is None else str(pl.model_dir))
    result.seconds = round(time.monotonic() - started, 1)
    return result


def item_tables(pl: Pipeline, model: str | None = None, strings: bool = True) -> Analysis:
    """The per-item tables of ``pl``'s block (``analyze``'s result; the report's per-item log, there without
    the token strings)."""
    from .tokenizer import load_tokenizer

    tokenizer = load_tokenizer(pl.backbone()[0]) if strings else None
    heads, sweep = pl.head_table(), pl.token_node_sweep()

    def rows(group: dict[str, Any], ids: list[str]) -> list[dict[str, Any]]:
        out = []
        for item, (metrics, tokens) in enumerate(zip(group["per_subset"], group["recognised"], strict=True)):
            row = {"id": ids[item], **{k: metrics[k] for k in ROW_FIELDS}, "tokens": tokens}
            out.append({**row, "token_strings": tokenizer.convert_ids_to_tokens(tokens)} if tokenizer else row)
        return out

    D, H = pl.profile.backbone.hidden, pl.profile.backbone.n_heads
    result = Analysis(pl.profile.name, pl.profile.probe.layer, model, n_heads=H, width=D)
    result.rows["heads"] = rows(heads["1"], [f"head{h}" for h in range(H)])
    result.rows["nodes"] = rows(sweep["1"], [f"node{i}" for i in range(D)]) if "1" in sweep else []
    counts = sorted((k for k in sweep if isinstance(sweep[k], dict) and "per_subset" in sweep[k]), key=int)
    seed = pl.profile.sweep.seed  # the draws' seed: a subset is identified by its nodes, the id by seed and index
    for n in counts[1:] if counts and counts[0] == "1" else counts:
        nodes_of = pl.subset_nodes(int(n))  # the subset's nodes, in the sweep's order: a stable id
        for i, row in enumerate(rows(sweep[n], [f"n{n}:s{i}" for i in range(len(nodes_of))])):
            result.rows["subsets"].append(
                {"id": row["id"], "n_nodes": int(n), "seed": seed, "nodes": nodes_of[i], **row}
            )
    result.curve_means = {m: {int(n): sweep[n][m]["mean"] for n in counts} for m in ROW_FIELDS}
    return result


def fewrel_items(pl: Pipeline) -> list[dict[str, Any]]:
    """One row per node subset of the fine-tuned FewRel system's node sweep (Fig. 5), ids ``fewrel:n4:s2``;
    ``label_sweeps`` draws the token sweep's masks (``aperture.node_sweep_subsets``), so ``subset_nodes`` gives
    their nodes. Labels, not tokens: no recognised sets (the sweep keeps none)."""
    sweep, seed = pl.fewrel()["nodes"], pl.profile.sweep.seed
    out = []
    for n in sorted(sweep, key=int):
        nodes_of = pl.subset_nodes(int(n))
        for i, metrics in enumerate(sweep[n]["per_subset"]):
            row = {"id": f"fewrel:n{n}:s{i}", "n_nodes": int(n), "seed": seed, "nodes": nodes_of[i]}
            out.append({**row, **{k: metrics[k] for k in ROW_FIELDS}})
    return out


def items_log(pl: Pipeline, model: str | None = None, fewrel: bool = False) -> dict[str, Any]:
    """The report's per-item log: :func:`item_tables` (without token strings) and, with ``fewrel``,
    :func:`fewrel_items` of every seed run (``ssb/seeds.py``). Each row carries its ``seed_run``; run 0's
    ids are the bare ids a one-run profile writes (``head3``, ``n4:s2``), run k's are prefixed ``run{k}:``,
    so two reports pair item by item within each run (``ssb compare``)."""
    out: dict[str, Any] = {"layer": pl.profile.probe.layer}
    for k in range(pl.n_seed_runs):
        run = pl.seed_run(k)
        tables = item_tables(run, model, strings=False).tables()
        if fewrel:
            tables["fewrel"] = fewrel_items(run)
        prefix = f"run{k}:" if k else ""
        for name, rows in tables.items():
            out.setdefault(name, []).extend({**r, "id": prefix + r["id"], "seed_run": k} for r in rows)
    return out


class Verdicts(list):
    """The verdicts of ``evaluate_claims`` (a list of :class:`~ssb.claims.Verdict`), with exports: ``rows()``
    (one JSON-ready row per check, as report.json's ``checks``), ``to_pandas()`` and ``to_json(path)``."""

    def rows(self) -> list[dict[str, Any]]:
        from .claims import check_rows
        from .verdicts import jsonable

        return jsonable(check_rows(self))

    def to_pandas(self):
        """A DataFrame, a row per (claim, check): value, interval, threshold, verdict, outcome, controls, seeds."""
        import pandas as pd

        return pd.DataFrame(self.rows())

    def to_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.rows(), indent=1))
        return path


def evaluate_claims(
    profile: str | Path = "cpu",
    model: str | Path | None = None,
    *,
    claims: str | Path | None = None,
    cache_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    progress: bool = True,
):
    """The verdicts ``ssb claims`` prints: every claim with an expectation at the profile's tier, measured on
    the profile's backbone or on ``model``. ``claims``: a folder of specs (default: the checkout's)."""
    pl = pipeline(profile, model, cache_dir=cache_dir, data_dir=data_dir, progress=progress)
    return evaluate_all(pl, claims_folder(claims))


def claims_folder(claims: str | Path | None = None) -> Path:
    """``claims`` (a folder of specs, refused by the loader if it is none), else ./claims, else the
    checkout's claims/ beside the package."""
    from .claims import SpecError

    if claims is not None:
        return Path(claims)
    for candidate in (Path("claims"), Path(__file__).resolve().parent.parent / "claims"):
        if candidate.is_dir():
            return candidate
    raise SpecError("no claims folder found; pass claims=DIR (the specs are in the ssb checkout's claims/)")


def evaluate_all(pl: Pipeline, folder: Path) -> Verdicts:
    """Every claim of ``folder`` with an expectation at the profile's tier (a profile that names none is
    refused), evaluated on ``pl``."""
    from .claims import evaluate, load_specs, tier_of
    from .helpers import build_helpers

    specs = load_specs(folder)
    tier = tier_of(pl.profile, specs)
    with build_helpers(pl, folder):  # [runtime] jobs > 1: other processes build what later claims read
        return Verdicts(evaluate(s, pl, tier) for s in specs if tier in s.expect)
