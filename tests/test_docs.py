"""The README as a front door and the documentation's generated pages.

The site itself is built strictly and loaded in Chromium by ``./dev.sh docs --check``
(CI runs it); these tests read what the generator and the README say, without MkDocs.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import importlib.util
import inspect
import json
import posixpath
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
import yaml

import opsgym
from opsgym.baselines import policy_availability
from opsgym.envs import opsgym_ids
from opsgym.envs.scenarios import scenarios
from opsgym.train.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def load_docs_script(name: str):
    """A script under docs/ by its path there without ``.py`` ("gen_pages", "results/full/report")."""
    module_name = "docs_" + name.replace("/", "_")
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "docs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen_pages = load_docs_script("gen_pages")


def env_source(env_id: str) -> str:
    """The file that holds an id's class and docstring, from the repository's root."""
    module, _, name = gym.spec(env_id).entry_point.partition(":")
    path = Path(inspect.getfile(getattr(importlib.import_module(module), name)))
    return path.resolve().relative_to(ROOT).as_posix()


def subcommand_names() -> list[str]:
    return list(gen_pages._subcommands(build_parser()))


# ----------------------------------------------------------------------------------------
# README
# ----------------------------------------------------------------------------------------


def test_readme_is_short():
    assert len(README.splitlines()) <= 150


def test_readme_example_runs_and_prints_what_it_says():
    (example,) = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert len(example.strip().splitlines()) <= 10
    result = subprocess.run(
        [sys.executable, "-c", example], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    latencies = {
        name: float(ms)
        for name, ms in re.findall(r"^(\w+): mean latency ([\d.]+) ms$", result.stdout, re.M)
    }
    assert set(latencies) == {"random", "least_connections", "oracle"}
    assert latencies["oracle"] < latencies["least_connections"] < latencies["random"]


def test_readme_links_resolve_in_the_repository():
    """No site is hosted: every link opens a file of the clone (or its anchor)."""
    links = re.findall(r"\]\(([^)]+)\)", README)
    assert len(links) > 20
    for link in links:
        path, _, anchor = link.partition("#")
        assert "://" not in path, link
        assert (ROOT / path).exists(), link
        if anchor:
            headings = re.findall(r"^#+ (.+)$", (ROOT / path).read_text(), re.M)
            assert anchor in {slug(heading) for heading in headings}, link


def slug(heading: str) -> str:
    """The anchor GitHub and MkDocs give a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).strip().replace(" ", "-")


def test_no_address_claims_a_site_that_is_not_hosted():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "urls" not in project
    assert "site_url" not in yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert project["readme"] == "README.md"


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./dev.sh test\n" in ci
    assert "./dev.sh test        # run the test suite" in README


def test_readme_names_every_command_and_every_environment():
    for name in subcommand_names():
        assert f"| `opsgym {name}" in README, name
    for env_id in opsgym_ids():
        assert f"[`{env_id}`]({env_source(env_id)})" in README


def test_readme_names_the_installed_version():
    assert f"Version {opsgym.__version__}" in README  # the citation
    assert f"dist/opsgym-{opsgym.__version__}-py3-none-any.whl" in README


# ----------------------------------------------------------------------------------------
# Version and --help
# ----------------------------------------------------------------------------------------


def test_version_comes_from_the_package_metadata():
    from importlib.metadata import version

    assert opsgym.__version__ == version("opsgym")
    result = subprocess.run(
        [sys.executable, "-m", "opsgym.train.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"opsgym {opsgym.__version__}"


def test_every_help_shows_defaults_and_examples_that_use_the_commands_options():
    parser = build_parser()
    for name, command in gen_pages._subcommands(parser).items():
        text = command.format_help()
        assert "\nexamples:\n" in text, f"opsgym {name} has no examples (train/cli_help.py)"
        options = {s for action in command._actions for s in action.option_strings}
        example_lines = [
            line.strip() for line in command.epilog.splitlines()[1:] if line.startswith("  opsgym")
        ]
        assert example_lines
        for line in example_lines:
            assert line.startswith(f"opsgym {name}"), line
        for flag in re.findall(r"(?<!\S)--[a-z][a-z0-9-]*", command.epilog):
            assert flag in options, f"opsgym {name} has no {flag}"
        formatter = command.formatter_class(command.prog)
        for action in command._actions:
            default = action.default
            if default is None or default is False or default in ([], argparse.SUPPRESS):
                continue  # nothing worth saying (0 is worth saying)
            assert "default" in formatter._get_help_string(action), (name, action.dest)


def test_a_default_of_zero_is_shown():
    train = gen_pages._subcommands(build_parser())["train"]
    assert re.search(r"--seed SEED\s+training seed \(default: 0\)", train.format_help())


# ----------------------------------------------------------------------------------------
# Generated pages
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return gen_pages.generated_pages()


@pytest.mark.parametrize("env_id", opsgym_ids())
def test_environment_page_says_what_the_registry_and_docstring_say(pages, env_id):
    page = pages[gen_pages.env_page_path(env_id)]
    name = gen_pages.picture_name(env_id)
    assert page.startswith(f"# {env_id}\n")
    assert f'env = gym.make("{env_id}")' in page
    picture = f"../images/frames/{name}.png"
    assert picture in page and (ROOT / "docs" / "images" / "frames" / f"{name}.png").is_file()
    for scenario in scenarios(env_id).values():
        assert f"| `{scenario.name}` | {scenario.description} |" in page
    env = gym.make(env_id)
    for policy in policy_availability(env):
        assert f"| `{policy}` |" in page
    assert f"`{env.observation_space}`" in page
    env.close()
    for section in ("Description", "Action Space", "Observation Space", "Rewards", "Arguments"):
        assert f"\n## {section}\n" in page
    assert ">>>" not in page.split("```pycon")[0], "a docstring example left unfenced"


def test_environment_page_shows_the_published_score_of_each_policy(pages):
    """Read straight from the latest published run's CSV (the full run), formatted by hand."""
    latest = gen_pages.published_runs()[0]
    assert latest.name == "full"
    with (latest / "summary.csv").open() as file:
        rows = [
            r
            for r in csv.DictReader(file)
            if r["env_id"] == "opsgym/LoadBalancing-v0"
            and r["scenario"] == "default"
            and r["quantity"] == "normalized_score"
        ]
    assert rows
    page = pages["environments/LoadBalancing.md"]
    assert "## Benchmark scores" in page
    for row in rows:
        mean, low, high = float(row["mean"]), float(row["mean_low"]), float(row["mean_high"])
        assert f"| `{row['policy']}` | {row['kind']} | {mean:.3g} [{low:.3g}, {high:.3g}] |" in page


def test_env_scores_pairs_normalized_score_and_return_per_policy(tmp_path):
    run = tmp_path / "quick"
    run.mkdir()
    header = "env_id,scenario,policy,kind,quantity,n,mean,mean_low,mean_high\n"
    (run / "summary.csv").write_text(
        header
        + "opsgym/X-v0,default,lru,reference,normalized_score,3,0.51234,0.5,0.525\n"
        + "opsgym/X-v0,default,lru,reference,return,3,-1234.5,-1300,-1200\n"
        + "opsgym/X-v0,drift,lru,reference,return,3,9,9,9\n"
        + "opsgym/X-v0,default,lru,reference,hit_ratio,3,0.4,0.4,0.4\n"
        + "opsgym/Y-v0,default,ppo,trained,return,3,1,1,1\n"
    )
    assert gen_pages.env_scores(run, "opsgym/X-v0") == [
        {
            "policy": "lru",
            "kind": "reference",
            "normalized_score": "0.512 [0.5, 0.525]",
            "return": "-1.23e+03 [-1.3e+03, -1.2e+03]",
        }
    ]
    assert gen_pages.env_scores(tmp_path / "missing", "opsgym/X-v0") == []


def test_results_page_reads_whatever_runs_are_published(tmp_path):
    assert "No run is published yet." in gen_pages.results_page(tmp_path)
    for name in ("quick", "full", "ablation", "unfinished"):
        (tmp_path / name).mkdir()
    for name in ("quick", "full", "ablation"):
        (tmp_path / name / "summary.md").write_text(f"# {name} summary\n\n### opsgym/X-v0\n")
    (tmp_path / "full" / "README.md").write_text("# How\n\nmade on a cluster\n")
    assert [run.name for run in gen_pages.published_runs(tmp_path)] == ["full", "quick", "ablation"]
    page = gen_pages.results_page(tmp_path)
    assert page.index("## The full run") < page.index("## The quick run") < page.index("ablation")
    assert "### How\n\nmade on a cluster" in page
    assert "### full summary\n\n##### opsgym/X-v0" in page
    assert "unfinished" not in page


def test_cli_page_holds_every_commands_help(pages):
    page = pages["cli.md"]
    for name in subcommand_names():
        assert f"\n## opsgym {name}\n" in page
        assert f"usage: opsgym {name}" in page
    assert page.count("examples:") == len(subcommand_names()) + 1


def test_docstring_examples_are_fenced():
    body = "Text.\n\n>>> import x\n>>> x.f()\n3\n\nMore text.\n>>> y"
    assert gen_pages._docstring_markdown(body) == (
        "Text.\n\n```pycon\n>>> import x\n>>> x.f()\n3\n```\n\nMore text.\n```pycon\n>>> y\n```"
    )


def test_navigation_lists_every_page_and_any_note_added_later(tmp_path, monkeypatch):
    (tmp_path / "index.md").write_text("# Home\n")
    (tmp_path / "warm-start.md").write_text("# Warm starts\n\ntext\n")
    (tmp_path / "results" / "quick").mkdir(parents=True)
    (tmp_path / "results" / "quick" / "summary.md").write_text("# not a note\n")
    monkeypatch.setattr(gen_pages, "DOCS", tmp_path)
    assert gen_pages.notes(tmp_path) == ["warm-start.md"]
    nav = gen_pages.summary_nav(["opsgym/X-v0"], ["warm-start.md"])
    assert "* Notes\n    * [Warm starts](warm-start.md)" in nav
    assert "    * [X](environments/X.md)" in nav


def test_every_generated_link_between_pages_names_a_page(pages):
    docs = ROOT / "docs"
    known = set(pages) | {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")}
    for path, text in pages.items():
        for target in re.findall(r"\]\(([^)#]+\.md)", text):
            assert posixpath.normpath(posixpath.join(posixpath.dirname(path), target)) in known, (
                f"{path} links to {target}"
            )


def test_sphinx_roles_become_inline_code_on_the_api_pages():
    roles = load_docs_script("sphinx_roles")
    text = "via :class:`~opsgym.agents.scaling.RewardScaler`, see :mod:`opsgym.agents.protocol`."
    assert roles.ROLE.sub(roles.as_code, text) == (
        "via `RewardScaler`, see `opsgym.agents.protocol`."
    )


def test_opsgym_docs_builds_strictly_then_checks_in_the_browser(monkeypatch, tmp_path):
    from opsgym.train import docs

    commands = []

    def run(command, **kwargs):
        commands.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(docs.subprocess, "run", run)
    config = tmp_path / "mkdocs.yml"
    assert docs.build_docs(config, tmp_path / "site", check=True) == 0
    build, check = commands
    assert build[:4] == [sys.executable, "-m", "mkdocs", "build"] and "--strict" in build
    assert build[-4:] == ["--config-file", str(config), "--site-dir", str(tmp_path / "site")]
    assert check[1:3] == [str(tmp_path / "docs" / "check_site.py"), str(tmp_path / "site")]

    commands.clear()
    docs.build_docs(config, tmp_path / "site", serve=True)
    assert commands[0][3:5] == ["serve", "--strict"]


def test_opsgym_docs_without_mkdocs_names_the_extra(monkeypatch):
    from opsgym.train import docs

    monkeypatch.setattr(docs.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValueError, match=r"pip install -e '\.\[docs\]'"):
        docs.build_docs("mkdocs.yml", "site")


def full_run_record(
    env_id: str, scenario: str, policy: str, seed: int, mean: float, wall: float = 1.0
) -> str:
    """A trial record of the full run's kind: PPO at 1,000,000 steps, other learners 100,000."""
    budget = 1_000_000 if policy == "ppo" else 100_000
    return json.dumps(
        {
            "key": f"{env_id}|{scenario}|{policy}|{seed}",
            "status": "ok",
            "env_id": env_id,
            "scenario": scenario,
            "policy": policy,
            "kind": "reference" if policy in ("random", "rule", "oracle") else "trained",
            "seed": seed,
            "budget": budget,
            "returns": [mean + 0.05 * seed],
            "metrics": {},
            "train_seconds": 1.0,
            "train_steps": budget,
            "curve": [],
            "wall_seconds": wall,
        }
    )


def test_the_full_runs_tables_mark_each_learner_against_the_rules_interval(tmp_path):
    """Per seed random -10, the rule -2 (0.8 normalized), the oracle 0; PPO above the rule,
    warm-started PPO level with it, A2C below it, residual PPO with one of three seeds.
    On Caching's scenario, which has no A2C, the rule has two seeds of three and UCB1 none."""
    means = {"random": -10, "rule": -2, "oracle": 0, "ppo": -0.5, "ppo_warm": -2, "a2c": -5}
    lines = [
        full_run_record("opsgym/X-v0", "default", policy, seed, mean)
        for seed in range(3)
        for policy, mean in means.items()
    ]
    lines.append(full_run_record("opsgym/X-v0", "default", "ppo_residual", 0, -1))
    lines += [
        full_run_record("opsgym/Caching-v0", "drift", policy, seed, means[policy])
        for seed in range(3)
        for policy in ("random", "oracle", "ppo")
    ]
    lines += [full_run_record("opsgym/Caching-v0", "drift", "rule", seed, -2) for seed in (0, 1)]
    (tmp_path / "trials.jsonl").write_text("\n".join(lines) + "\n")
    module = load_docs_script("results/full/report")

    def cells(table: str) -> list[str]:
        """The cells of a table's one row."""
        assert table.count("\n") == 2
        return [cell.strip() for cell in table.splitlines()[2].split("|")[1:-1]]

    assert cells(module.report(tmp_path)) == [
        "X-v0 (1M)",
        "rule 0.800 [0.800, 0.800]",  # the same on every seed: no spread to resample
        "**0.950 [0.950, 0.950]**",
        "0.800 [0.800, 0.800]",
        "1 of 3 seeds: 0.900",
        "a2c *0.500 [0.500, 0.500]*",
    ]
    assert cells(module.readme_report(tmp_path))[2:] == [
        "ppo (1M) **0.950 [0.950, 0.950]**",
        "ppo_warm 0.800 [0.800, 0.800]",  # residual PPO's single seed is left out
    ]
    assert cells(module.scenario_report(tmp_path)) == [
        "Caching-v0 drift",
        "rule 2 of 3 seeds: 0.800",
        "0.950 [0.950, 0.950] (1M)",  # unmarked: the rule's interval is not in yet
        "not run",
        "queued",
    ]


def test_the_full_runs_compute_counts_a_paused_trial_at_its_policys_median(tmp_path):
    """PPO's fourth seed was paused (200 s against a median of 10); A2C's third took 2.5
    times its median, which is a slow trial, not a pause."""
    walls = {"ppo": [10, 10, 10, 200], "a2c": [100, 100, 250]}
    lines = [
        full_run_record("opsgym/X-v0", "default", policy, seed, 0.0, wall)
        for policy, policy_walls in walls.items()
        for seed, wall in enumerate(policy_walls)
    ]
    (tmp_path / "trials.jsonl").write_text("\n".join(lines) + "\n")
    compute = load_docs_script("results/full/report").compute_report(tmp_path)
    assert "| `opsgym/X-v0` | 7      | 0.1        |" in compute  # 490 s
    assert compute.endswith(
        "Trials paused for a while, counted at their policy's median wall time: 1."
    )


def test_the_findings_page_and_the_readme_show_the_full_runs_tables_of_the_committed_trials():
    """The tables of "Where learning stands", of its scenarios and of the README's "When
    learning beats the rules" are the report script's output on the committed trials: a
    snapshot of the full run cannot land without them."""
    module = load_docs_script("results/full/report")
    run = ROOT / "docs" / "results" / "full"
    for table, page in module.TABLES.items():
        text = page.read_text()
        assert module.replace_table(text, table(run)) == text
    assert module.report(run).count("\n") == len(opsgym_ids()) + 1


def test_the_full_runs_report_replaces_only_the_table_with_the_same_columns():
    module = load_docs_script("results/full/report")
    page = "intro\n\n| id | rule |\n|---|---|\n| a | 1 |\n\n| id  | best rule |\n|---|---|\n| a | 1 |\nafter\n"
    new = "| id | best rule |\n|---|---|\n| a | 2 |\n| b | 3 |"
    assert module.replace_table(page, new) == page.replace(
        "| id  | best rule |\n|---|---|\n| a | 1 |\nafter", new + "\nafter"
    )
    for wrong in ("intro\n| id | rule |\n", page + "\n" + new + "\n"):
        with pytest.raises(ValueError, match="columns id | best rule, not one"):
            module.replace_table(wrong, new)
