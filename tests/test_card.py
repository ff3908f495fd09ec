"""The model card states what the model was trained on and how well it does."""

from __future__ import annotations

from pathlib import Path

from cleaner.model import MODELS_DIR, LineModel
from cleaner.training import evaluate
from cleaner.training.card import METRICS_HEADING, card_path, update_metrics, write_card


def test_card_names_the_data_and_metrics_are_replaced_not_appended(
        tiny_model: LineModel, tmp_path: Path) -> None:
    model = LineModel(tiny_model.keep_estimator, tiny_model.context_estimator,
                      tiny_model.reason_estimator, {"trained": "2026-01-02", "corpus_rows": 123})
    card = tmp_path / "MODEL_CARD.md"
    write_card(card, model, "some/data")
    text = card.read_text(encoding="utf-8")
    assert "2026-01-02" in text and "`some/data`" in text and "123 labelled lines" in text
    update_metrics(card, "first report")
    update_metrics(card, "second report")
    text = card.read_text(encoding="utf-8")
    assert text.count(METRICS_HEADING) == 1
    assert "second report" in text and "first report" not in text
    assert text.startswith("# cleaner default model")


def test_card_states_the_share_of_pages_given_synthetic_chrome(
        tiny_model: LineModel, tmp_path: Path, monkeypatch) -> None:
    # the card once said "Half" in a literal beside the constant it describes
    monkeypatch.setattr("cleaner.training.card.CHROME_SHARE", 0.25)
    card = tmp_path / "MODEL_CARD.md"
    write_card(card, tiny_model, "some/data")
    text = card.read_text(encoding="utf-8")
    assert "25% of the pages are seen a fifth time" in text and "Half of the pages" not in text


def test_a_partial_eval_leaves_the_cards_full_report_alone(monkeypatch, tmp_path: Path) -> None:
    # --skip-loo used to replace the card's report with the held-out half, losing the other.
    monkeypatch.setattr(evaluate, "evaluate_pages", lambda data, model, split: {})
    monkeypatch.setattr(evaluate, "format_report", lambda result, split: ["held-out table"])
    card = tmp_path / "model.npz.card.md"
    card.write_text(f"# card\n\n{METRICS_HEADING}\n\nfull report\n", encoding="utf-8")
    before = card.read_text(encoding="utf-8")
    assert evaluate.main(["--skip-loo", "--data", str(tmp_path),
                          "--model", str(tmp_path / "model.npz")]) == 0
    assert card.read_text(encoding="utf-8") == before


def test_only_the_shipped_model_has_the_shipped_card(tmp_path: Path) -> None:
    assert card_path(MODELS_DIR / "cleaner.npz") == MODELS_DIR / "MODEL_CARD.md"
    assert card_path(tmp_path / "mine.npz") == tmp_path / "mine.npz.card.md"
    # a model named like the shipped one, elsewhere, has its own card
    assert card_path(tmp_path / "cleaner.npz") == tmp_path / "cleaner.npz.card.md"
    # and so has another model written into models/ (train used to give it the shipped card)
    assert card_path(MODELS_DIR / "mine.npz") == MODELS_DIR / "mine.npz.card.md"


def test_bench_replaces_only_its_own_section(tmp_path: Path) -> None:
    from cleaner.training import bench

    card = tmp_path / "MODEL_CARD.md"
    card.write_text("# model\n\n- File\n\n## Metrics (`make eval`)\n\nF1 0.9\n", encoding="utf-8")
    bench.record(["first run"], bench.HEADING, str(card), None)
    bench.record(["second run", "| a | b |"], bench.HEADING, str(card), None)
    text = card.read_text(encoding="utf-8")
    assert text.count(bench.HEADING) == 1
    assert "second run\n| a | b |" in text and "first run" not in text
    assert text.startswith("# model\n\n- File\n") and "## Metrics (`make eval`)\n\nF1 0.9" in text
    assert text.index(bench.HEADING) < text.index("## Metrics")  # make eval rewrites the end


def test_bench_writes_into_the_timed_models_card_and_never_makes_one(tmp_path: Path) -> None:
    # `make bench MODEL=mine.npz` used to rewrite the shipped model's card.
    from cleaner.training import bench

    shipped = (MODELS_DIR / "MODEL_CARD.md").read_bytes()
    model = tmp_path / "mine.npz"
    said = bench.record(["a table"], bench.HEADING, None, str(model))
    assert "no card" in said and str(tmp_path / "mine.npz.card.md") in said
    assert not (tmp_path / "mine.npz.card.md").exists()
    (tmp_path / "mine.npz.card.md").write_text("# mine\n", encoding="utf-8")
    assert bench.record(["a table"], bench.HEADING, None, str(model)).startswith("(written")
    assert "a table" in (tmp_path / "mine.npz.card.md").read_text(encoding="utf-8")
    assert (MODELS_DIR / "MODEL_CARD.md").read_bytes() == shipped


def test_ablation_section_is_replaced_and_survives_a_retraining(
        tiny_model: LineModel, tmp_path: Path) -> None:
    from cleaner.training.card import ABLATION_HEADING, update_section

    card = tmp_path / "MODEL_CARD.md"
    write_card(card, tiny_model, "data")
    update_metrics(card, "report")
    update_section(card, ABLATION_HEADING, "first table")
    update_section(card, ABLATION_HEADING, "second table")
    text = card.read_text(encoding="utf-8")
    assert text.count(ABLATION_HEADING) == 1 and "first table" not in text
    assert text.index(ABLATION_HEADING) < text.index(METRICS_HEADING)
    write_card(card, tiny_model, "data")  # a new training: metrics go, the ablation stays
    text = card.read_text(encoding="utf-8")
    assert "second table" in text and METRICS_HEADING not in text


def test_ablation_table_is_replaced_and_the_written_paragraphs_stay(
        tiny_model: LineModel, tmp_path: Path) -> None:
    from cleaner.training.card import (
        ABLATION_HEADING,
        TABLE_END,
        TABLE_START,
        update_ablation_table,
    )

    card = tmp_path / "MODEL_CARD.md"
    write_card(card, tiny_model, "data")
    update_ablation_table(card, "first table")  # no section yet: one is made
    update_metrics(card, "report")
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace(TABLE_END, f"{TABLE_END}\n\nRule 1: not kept."),
                    encoding="utf-8")  # a paragraph written after the table
    update_ablation_table(card, "second table")
    text = card.read_text(encoding="utf-8")
    assert "first table" not in text and "second table" in text
    assert "Rule 1: not kept." in text and text.count(TABLE_START) == 1
    assert text.index(ABLATION_HEADING) < text.index("second table") < text.index("Rule 1")
    assert text.index("Rule 1") < text.index(METRICS_HEADING)
    shipped = (MODELS_DIR / "MODEL_CARD.md").read_text(encoding="utf-8")
    card.write_text(shipped, encoding="utf-8")
    update_ablation_table(card, "third table")
    text = card.read_text(encoding="utf-8")
    tried = "**Tried and not kept"
    assert text.count(tried) == shipped.count(tried) > 40  # the shipped card's record stays
    assert "| -inscriptis |" not in text and "third table" in text


def test_seed_report_pools_each_share_over_the_lines_it_counts() -> None:
    """A page with 14 lines and 4 chrome lines, none dropped, next to one with 100 lines and
    100 chrome lines all dropped: 100 of 104 chrome lines were dropped, whatever the pages'
    lengths (weighting by page lines said 0.877)."""
    from cleaner.labels import Line

    small = evaluate.seed_report(
        [Line("a", "body")] * 10 + [Line("r", "related")] * 4,
        [Line("a", "body")] * 10 + [Line("r", "body")] * 4)
    large = evaluate.seed_report([Line("t", "currency")] * 100, [Line("t", "nav")] * 100)
    assert (small["chrome_lines"], small["chrome_dropped"]) == (4, 0.0)
    last = evaluate.format_seed_report({"small": small, "large": large}).splitlines()[-1]
    assert last.split()[-1] == f"{100 / 104:.3f}" and last.split()[-2] == "1.000"


def test_leave_one_out_reads_at_each_threshold_from_p_body() -> None:
    """Body kept and chrome dropped, pooled over pages, had lines been kept from each
    threshold: from p(body), without retraining."""
    import numpy as np

    from cleaner.labels import Line

    def run(labels: list[str], p_body: list[float]) -> evaluate.SeedRun:
        lines = [Line("x", label) for label in labels]
        return evaluate.SeedRun(lines, lines, np.array(p_body))

    runs = {"a": run(["body", "body", "related", "blank"], [0.9, 0.45, 0.6, 1.0]),
            "b": run(["currency", "nav", "body"], [0.1, 0.9, 0.7])}
    rows = evaluate.format_seed_thresholds(runs, (0.4, 0.5, 0.65)).splitlines()
    assert "(3 body, 2 chrome lines)" in rows[0]  # nav is not watched chrome, blank is neither
    assert [row.split() for row in rows[1:]] == [
        ["0.4", "1.000", "0.500"], ["0.5", "0.667", "0.500"], ["0.65", "0.667", "1.000"]]


def test_a_full_eval_writes_the_leave_one_out_and_its_threshold_table_to_the_card(
        monkeypatch, tmp_path: Path) -> None:
    import numpy as np

    from cleaner.labels import Line

    lines = [Line("x", "body"), Line("y", "related")]
    runs = {"seed.labels.tsv": evaluate.SeedRun(lines, lines, np.array([0.8, 0.42]))}
    monkeypatch.setattr(evaluate, "evaluate_pages", lambda data, model, split: {})
    monkeypatch.setattr(evaluate, "format_report", lambda result, split: ["held-out table"])
    monkeypatch.setattr(evaluate, "leave_one_out", lambda data, labelled, sample: runs)
    card = tmp_path / "model.npz.card.md"  # the model's own card, as train names it
    card.write_text(f"# card\n\n{METRICS_HEADING}\n\nold report\n", encoding="utf-8")
    other = tmp_path / "MODEL_CARD.md"  # another model's card in the same folder
    other.write_text("# another model\n", encoding="utf-8")
    assert evaluate.main(["--data", str(tmp_path), "--model", str(tmp_path / "model.npz")]) == 0
    assert other.read_text(encoding="utf-8") == "# another model\n"
    text = card.read_text(encoding="utf-8")
    assert "old report" not in text and "held-out table" in text
    assert "seed.labels.tsv" in text and "had they kept lines from each threshold" in text
    rows = [line.split() for line in text.splitlines()]
    assert ["0.4", "1.000", "0.000"] in rows and ["0.45", "1.000", "1.000"] in rows
