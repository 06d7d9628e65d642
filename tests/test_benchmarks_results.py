"""``python -m benchmarks <name>`` rewrites its own section of RESULTS.md and keeps every other."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

RUNNER = Path(__file__).resolve().parents[1] / "benchmarks" / "__main__.py"

RESULTS = """\
# Benchmark results

Header words.

## bench_alpha

_old alpha, by hand_

| measure | result |
|---|---|
| speed | 1 |

### Notes under alpha

```text
## not a heading: inside a fence
```

## bench_beta (failed)

_old beta_

beta's table
"""


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmarks_runner_under_test", RUNNER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_results__replacing_one_section_keeps_the_others_byte_for_byte(runner: ModuleType) -> None:
    new_alpha = "## bench_alpha\n\n_new alpha_\n\nnew table\n"
    merged = runner.merge_section(RESULTS, "bench_alpha", new_alpha)
    head, beta = RESULTS.split("## bench_alpha")[0], RESULTS[RESULTS.index("## bench_beta"):]
    assert merged == head + new_alpha + "\n" + beta
    assert "old alpha" not in merged and "Notes under alpha" not in merged  # all of alpha's section

    new_beta = "## bench_beta\n\n_new beta_\n"
    merged = runner.merge_section(RESULTS, "bench_beta", new_beta)
    assert merged == RESULTS[: RESULTS.index("## bench_beta")] + new_beta  # "(failed)" was its name too


def test_results__a_new_section_goes_at_the_end_and_a_new_file_gets_a_header(runner: ModuleType) -> None:
    gamma = "## bench_gamma\n\ngamma\n"
    assert runner.merge_section(RESULTS, "bench_gamma", gamma) == RESULTS + "\n" + gamma
    fresh = runner.merge_section("", "bench_gamma", gamma)
    assert fresh.startswith("# Benchmark results\n") and fresh.endswith("\n\n" + gamma)
    # a heading inside a fence is not a section
    assert runner.merge_section(RESULTS, "not", "## not\n").endswith("\n\n## not\n")


def test_results__a_run_of_one_benchmark_updates_only_its_section(
    runner: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, table in (("alpha", "| speed | 2 |"), ("beta", "| beta ran | yes |")):
        (tmp_path / f"bench_{name}.py").write_text(f"def main(argv):\n    print({table!r})\n    return 0\n")
    results = tmp_path / "RESULTS.md"
    results.write_text(RESULTS, encoding="utf-8")
    for name in ("alpha", "beta"):  # the runner registers benchmarks.bench_*: gone again after the test
        monkeypatch.setitem(sys.modules, f"benchmarks.bench_{name}", ModuleType("placeholder"))

    assert runner.main(["alpha"], folder=tmp_path, results=results) == 0
    text = results.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results\n\nHeader words.\n\n## bench_alpha\n\n_`python -m benchmarks alpha` on ")
    assert "| speed | 2 |" in text and "old alpha" not in text
    assert text.endswith(RESULTS[RESULTS.index("## bench_beta"):])  # beta untouched
    assert "| speed | 2 |" in capsys.readouterr().out  # shown as it comes

    assert runner.main(["nothing"], folder=tmp_path, results=results) == 2  # no such benchmark
    assert results.read_text(encoding="utf-8") == text
