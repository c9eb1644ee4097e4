"""docs/method.md stays the method of this code: every variant is documented, and every section the code cites exists."""

import re

import yaml

CITATION = re.compile(r'docs/method\.md[,:]?\s*\(?"([^"]+)"')


def _headings(text: str) -> set[str]:
    return {line.lstrip("#").strip() for line in text.splitlines() if line.startswith(("## ", "### "))}


def test_every_variant_of_params_is_documented(repo_root):
    method = (repo_root / "docs" / "method.md").read_text()
    variants = yaml.safe_load((repo_root / "params.yaml").read_text())["variants"]
    missing = [key for key in variants if f"`{key}`" not in method]
    assert not missing, f"docs/method.md has no row for variants {missing}"


def test_cited_sections_of_method_md_exist(repo_root):
    headings = _headings((repo_root / "docs" / "method.md").read_text())
    assert {"The recipe", "Variants", "Few-shot protocol", "Claims and the verdict rule"} <= headings
    cited = {}
    for folder in ("jepa", "notebooks", "tests", "benchmarks"):
        for path in (repo_root / folder).rglob("*.py"):
            text = re.sub(r"\s*\n\s*(#\s*)?", " ", path.read_text())  # citations may wrap across lines
            for section in CITATION.findall(text):
                cited.setdefault(section, path.relative_to(repo_root))
    for path in (repo_root / "params.yaml", repo_root / "benchmarks" / "calibration" / "dvc.yaml"):
        for section in CITATION.findall(re.sub(r"\s*\n\s*#?\s*", " ", path.read_text())):
            cited.setdefault(section, path.relative_to(repo_root))
    assert len(cited) >= 5  # the code does cite it
    unknown = {s: str(p) for s, p in cited.items() if s not in headings}
    assert not unknown, f"citations of docs/method.md sections that do not exist: {unknown}"
