"""The docs stay true: every setting is documented, every relative link resolves, and the examples run as written.

The examples (```bash, ```sh, ```console and ```python blocks of README.md and docs/*.md) run in document order, from
the repository root, after one `dwell run` on a small sample, in a sandbox: the DWELL_* paths and DAGSTER_HOME point
into a temporary directory, and the paths the docs write as `data/...` and `/tmp/...` are rewritten into it, so the
repository's own data/ is never touched. A block that needs an external service, or is the test suite itself, is
marked in the Markdown with `<!-- docs-test: skip (reason) -->` on the line before it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
README = REPO / "README.md"
DOCS = REPO / "docs"
CONFIGURATION = DOCS / "configuration.md"
BENCH_README = REPO / "bench" / "README.md"

# The README first, then the pages by name: the order the examples run in.
EXAMPLE_FILES = [README, *sorted(DOCS.glob("*.md"))]
LINKED_FILES = [*EXAMPLE_FILES, BENCH_README]

RUNNABLE = {"bash", "sh", "shell", "console", "python", "py"}
# Where the code reads DWELL_* environment variables, and how.
ENV_SOURCES = {
    "orchestration": ("*.py",),
    "bench": ("*.py",),
    "scripts": ("*",),
    "macros": ("*.sql",),
    "models": ("*.sql", "*.yml"),
    "profiles.yml": (),
    "dbt_project.yml": (),
}
ENV_READS = [
    re.compile(r"""["'](DWELL_[A-Z0-9_]*[A-Z0-9])["']"""),  # os.environ.get("DWELL_X"), X_VARIABLE = "DWELL_X"
    re.compile(r"""[(,]\s*(DWELL_[A-Z0-9_]*[A-Z0-9])=(?!=)"""),  # os.environ.update(DWELL_X=...)
    re.compile(r"""env_var\(\s*["'](DWELL_[A-Z0-9_]*[A-Z0-9])"""),  # dbt's env_var('DWELL_X')
    re.compile(r"""\$\{?(DWELL_[A-Z0-9_]*[A-Z0-9])"""),  # shell: $DWELL_X, ${DWELL_X:-default}
]

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
MARKER = re.compile(r"<!--\s*docs-test:(.*?)-->")
SKIP = re.compile(r"^\s*skip\s*\((.*)\)\s*$")
LINK = re.compile(r"(?<!!)\[(?:[^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")

README_MAX_LINES = 200
BENCH_README_MAX_LINES = 149
EXAMPLE_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    language: str
    text: str
    marker: str | None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    @property
    def runnable(self) -> bool:
        return self.language in RUNNABLE


def fenced_blocks(path: Path) -> list[Block]:
    """Every fenced code block of a Markdown file, with the docs-test marker on the line before it, if any."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        indent, fence, language = match.groups()
        start = index
        body = []
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index][len(indent):] if lines[index].startswith(indent) else lines[index])
            index += 1
        previous = next((line for line in reversed(lines[:start]) if line.strip()), "")
        marker = MARKER.search(previous)
        blocks.append(Block(path, start + 1, language.lower(), "\n".join(body) + "\n",
                            marker.group(1).strip() if marker else None))
        index += 1
    return blocks


def prose(path: Path) -> str:
    """The file without its fenced code blocks and inline code spans: where links are links."""
    return re.sub(r"`[^`\n]*`", "", "\n".join(prose_lines_outside_code(path)))


def skip_reason(block: Block) -> str | None:
    if block.marker is None:
        return None
    match = SKIP.match(block.marker)
    return match.group(1).strip() if match else None


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped, spaces as hyphens, repeats
    numbered."""
    seen: dict[str, int] = {}
    result = set()
    for line in prose_lines_outside_code(path):
        match = HEADING.match(line)
        if not match:
            continue
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(2))
        slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def prose_lines_outside_code(path: Path) -> list[str]:
    lines, inside = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = FENCE.match(line)
        if inside is None and match:
            inside = match.group(2)
        elif inside is not None and line.strip().startswith(inside):
            inside = None
        elif inside is None:
            lines.append(line)
    return lines


# --- 1. Every setting is documented ------------------------------------------------------------------------------


def env_variables_read() -> set[str]:
    names: set[str] = set()
    for source, patterns in ENV_SOURCES.items():
        root = REPO / source
        files = [root] if root.is_file() else [path for pattern in patterns for path in root.rglob(pattern)]
        for path in files:
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for pattern in ENV_READS:
                names.update(pattern.findall(text))
    return names


def test_every_dbt_var_is_documented_in_the_configuration_page():
    project_vars = yaml.safe_load((REPO / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    page = CONFIGURATION.read_text(encoding="utf-8")
    missing = sorted(name for name in project_vars if f"`{name}`" not in page)
    assert not missing, f"dbt vars missing from docs/configuration.md: {missing}"


def test_every_dwell_environment_variable_is_documented_in_the_configuration_page():
    names = env_variables_read()
    # The scan must see the ways the code reads them: an os.environ call, a constant, dbt's env_var, a shell read.
    assert {"DWELL_LANDING_DIR", "DWELL_WINDOW_START", "DWELL_SPARK_DIR_URI", "DWELL_DAGSTER_PORT"} <= names
    page = CONFIGURATION.read_text(encoding="utf-8")
    missing = sorted(name for name in names if f"`{name}`" not in page)
    assert not missing, f"DWELL_* variables the code reads, missing from docs/configuration.md: {missing}"


# --- 2. Every relative link resolves ------------------------------------------------------------------------------


def relative_links(path: Path) -> list[str]:
    text = prose(path)
    targets = LINK.findall(text) + REFERENCE_LINK.findall(text)
    return [target for target in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)]


@pytest.mark.parametrize("path", LINKED_FILES, ids=lambda path: str(path.relative_to(REPO)))
def test_every_relative_link_resolves(path: Path):
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading with that anchor in {destination.relative_to(REPO)}")
    assert not broken, f"{path.relative_to(REPO)}: " + "; ".join(broken)


def test_the_readme_links_every_docs_page():
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in relative_links(README)}
    missing = [str(page.relative_to(REPO)) for page in sorted(DOCS.glob("*.md")) if page.resolve() not in linked]
    assert not missing, f"README.md does not link: {missing}"


def test_the_readme_and_the_benchmark_readme_stay_short():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= README_MAX_LINES
    assert len(BENCH_README.read_text(encoding="utf-8").splitlines()) <= BENCH_README_MAX_LINES


# --- 3. The examples run as written -------------------------------------------------------------------------------


EXAMPLES = [block for path in EXAMPLE_FILES for block in fenced_blocks(path) if block.runnable]


def test_every_docs_test_marker_is_a_skip_with_a_reason_before_a_runnable_block():
    problems = []
    for path in EXAMPLE_FILES:
        blocks = fenced_blocks(path)
        for block in blocks:
            if block.marker is not None and not skip_reason(block):
                problems.append(f"{block.id}: `docs-test:{block.marker}` is not `skip (reason)` with a reason")
            if block.marker is not None and not block.runnable:
                problems.append(f"{block.id}: a docs-test marker before a ```{block.language} block, which never runs")
        markers = len(MARKER.findall(path.read_text(encoding="utf-8")))
        if markers != sum(block.marker is not None for block in blocks):
            problems.append(f"{path.relative_to(REPO)}: a docs-test marker that is not right before a code block")
    assert not problems, "\n".join(problems)


@dataclass(frozen=True)
class Sandbox:
    root: Path
    env: dict[str, str]

    def rewrite(self, text: str) -> str:
        """The docs' relative data/ paths and /tmp/ paths, into the sandbox."""
        return re.sub(r"(?<![\w./$-])(data/|/tmp/)", lambda match: f"{self.root}/{match.group(1).strip('/')}/", text)


def sandbox_environment(root: Path) -> dict[str, str]:
    """The environment of someone who ran the README's setup: no activated virtualenv, no DWELL_* settings of their
    own, and the sandbox's paths."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("DWELL_") and name not in {"VIRTUAL_ENV", "DAGSTER_HOME"}}
    venv_bins = {str(VENV_BIN), str(Path(sys.prefix) / "bin")}
    env["PATH"] = os.pathsep.join(entry for entry in env.get("PATH", "").split(os.pathsep) if entry not in venv_bins)
    data = root / "data"
    env.update(DWELL_LANDING_DIR=str(data / "landing"), DWELL_DUCKDB_PATH=str(data / "dwell.duckdb"),
               DWELL_SERVING_DIR=str(data / "serving"), DWELL_LOG_DIR=str(data / "logs"),
               DAGSTER_HOME=str(root / "dagster_home"))
    return env


def run(command: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                                timeout=EXAMPLE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{what} ran over {EXAMPLE_TIMEOUT_SECONDS} s:\n{error.stdout or ''}\n{error.stderr or ''}")
    assert result.returncode == 0, (
        f"{what} failed with exit code {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    """A small warehouse built once by `dwell run` (5 users, 2 days: not the 200-user default sample), for every
    example to read."""
    root = tmp_path_factory.mktemp("docs-sandbox")
    (root / "tmp").mkdir()
    (root / "dagster_home").mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", root / "dagster_home" / "dagster.yaml")
    env = sandbox_environment(root)
    run([str(VENV_BIN / "python"), "-m", "orchestration.sample_data", "--landing-dir", env["DWELL_LANDING_DIR"],
         "--users", "5", "--days", "2", "--seed", "42"], env, "generating the sample")
    run([str(VENV_BIN / "dwell"), "run"], env, "the first dwell run")
    return Sandbox(root, env)


def script_of(block: Block) -> str:
    if block.language == "console":
        return "\n".join(line[2:] for line in block.text.splitlines() if line.startswith("$ ")) + "\n"
    return block.text


# Every example is marked for the serial group of the tests that write the project's target/ (`dwell run` parses the
# dbt project there), and runs in document order on one worker, after the sandbox's one build.
@pytest.mark.xdist_group("shared_project_files")
@pytest.mark.parametrize("block", EXAMPLES, ids=[block.id for block in EXAMPLES])
def test_the_example_runs_as_written(block: Block, sandbox: Sandbox):
    reason = skip_reason(block)
    if reason:
        pytest.skip(reason)
    source = sandbox.rewrite(script_of(block))
    if block.language in {"python", "py"}:
        script = sandbox.root / "tmp" / "example.py"
        script.write_text(source, encoding="utf-8")
        run([str(VENV_BIN / "python"), str(script)], sandbox.env, f"the example at {block.id}")
    else:
        script = sandbox.root / "tmp" / "example.sh"
        script.write_text("set -euo pipefail\n" + source, encoding="utf-8")
        run(["bash", str(script)], sandbox.env, f"the example at {block.id}")
