"""`scorecard fix SERVICE`: the change that makes the service's failing mechanical checks pass.

Arguments here; the generators are in `pipelines/fixes/` (pure, one module per
kind of fix). The service's evidence comes from:

1. ``--repo-path``: that checkout, crawled and identified exactly as the CI
   gate does (`pipelines.gate.checkout_evidence`): what the fix is generated
   from is what the re-check will read;
2. else the latest snapshot's stored evidence (`pipelines.evidence_store`),
   with the files to edit read from the service's checkout under a configured
   `sources.repos` root;
3. else the checkout named like the service under a `sources.repos` root,
   crawled as in 1.

Output: the patch on stdout (default), ``--out DIR`` (``fix.patch`` and the
changed files in a tree mirroring the repository), or ``--apply`` (`git apply`
in the checkout, refused when its working tree has uncommitted changes).
"""

from __future__ import annotations

import datetime as dt
import difflib
import subprocess
import sys
from pathlib import Path

EXIT_OK, EXIT_USAGE = 0, 2


class FixError(Exception):
    """`scorecard fix` could not run; the message says why and what to do."""


def register(sub, with_config) -> None:
    p = with_config(sub.add_parser(
        "fix", help="generate the change (patch, files or applied) that makes a service's mechanical checks pass"))
    p.add_argument("service")
    p.add_argument("--check", action="append", default=[], help="only this check (repeat, or comma-separate)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", help="write fix.patch and the changed files (a tree mirroring the repository) here")
    where.add_argument("--apply", action="store_true",
                       help="apply to the checkout (refused when its working tree has uncommitted changes)")
    p.add_argument("--repo-path", help="a local checkout of the service's repository (crawled as the CI gate does)")
    p.set_defaults(fn=cmd_fix)


def cmd_fix(args) -> int:
    from pipelines.gate import GateError

    try:
        return _run(args)
    except (FixError, GateError) as exc:
        print(f"scorecard fix: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _run(args) -> int:
    from pipelines.fixes.engine import generate_for_service
    from pipelines.gate import _named_checks

    config = _load_config(args.config)
    only = _named_checks(args.check) or None
    ev, ctx, root = find_service(config, args.service, Path(args.repo_path) if args.repo_path else None)
    if args.apply and root is None:
        raise FixError("--apply needs the service's checkout: pass --repo-path")
    if args.apply:
        _require_clean(root)
    result = generate_for_service(ev, ctx, _reader(root), only)
    _report(result, root)
    patch = result.patch()
    if args.out:
        write_tree(Path(args.out), patch, result.changed)
        print(f"wrote {Path(args.out) / 'fix.patch'} and {len(result.changed)} file(s)", file=sys.stderr)
    elif args.apply:
        if patch:
            apply_patch(root, patch)
            print(f"applied {len(result.fixes)} fix(es) to {root}: review with `git diff`", file=sys.stderr)
    else:
        sys.stdout.write(patch)
    return EXIT_OK


def _load_config(path: str | None):
    from pipelines.config import load_config
    from pipelines.gate import default_config

    if path and Path(path).exists():
        return load_config(Path(path))
    return default_config(Path.cwd())


def find_service(config, service: str, repo_path: Path | None):
    """(evidence, check context, checkout root or None) of ``service``; FixError when it is nowhere."""
    from pipelines.gate import checkout_evidence, checkout_root

    today = dt.datetime.now(dt.UTC).date()
    if repo_path is None:
        stored = _stored(config, service)
        if stored is not None:
            ev, ctx = stored
            return ev, ctx, _known_checkout(config, ev.repo)
        repo_path = _known_checkout(config, service)
        if repo_path is None:
            raise FixError(f"no stored evidence names {service!r} and no checkout of that name under "
                           "sources.repos: pass --repo-path")
    root = checkout_root(repo_path)
    config = config.model_copy(update={"services": [e for e in config.services if e.repo == root.name]})
    _, _, _, evidence = checkout_evidence(root, config, today)
    return _pick(evidence, service, str(root)), config.check_context(today), root


def _stored(config, service: str):
    from pipelines import evidence_store, stages, warehouse

    path = config.warehouse_path
    if not path.exists():
        return None
    try:
        with warehouse.read_only(path, doing="finding the latest evidence") as con:
            latest = evidence_store.latest_complete(con)
        if latest is None:
            return None
        stored = evidence_store.load(path, *latest)
    except warehouse.WarehouseError as exc:
        print(f"scorecard fix: stored evidence not used ({exc}); crawling instead", file=sys.stderr)
        return None
    found = stages.RepoCrawlResult(crawls=[], source_status=[], problems=[], known_teams=list(stored.known_teams))
    ev = _pick(stored.evidence, service, f"the snapshot of {stored.snapshot}")
    return ev, stages.check_context(config, stored.snapshot, found)


def _pick(evidence, service: str, where: str):
    for ev in evidence:
        if ev.service == service:
            return ev
    names = [e.service for e in evidence]
    close = difflib.get_close_matches(service, names, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f" (it has: {', '.join(sorted(names)[:10])})"
    raise FixError(f"no service {service!r} in {where}{hint}")


def _known_checkout(config, repo: str | None) -> Path | None:
    for source in config.sources.repos if repo else ():
        candidate = config.resolve(source.root) / repo
        if (candidate / ".git").exists():
            return candidate
    return None


def _reader(root: Path | None):
    def read(path: str) -> str | None:
        if root is None:
            return None
        file = root / path
        try:
            return file.read_text(encoding="utf-8") if file.is_file() and not file.is_symlink() else None
        except (OSError, UnicodeDecodeError):
            return None

    return read


def _report(result, root: Path | None) -> None:
    for fix in result.fixes:
        print(f"fix {fix.check_id}: {fix.summary}", file=sys.stderr)
        for note in fix.notes:
            print(f"    review: {note}", file=sys.stderr)
    for skip in result.skipped:
        print(f"no generated fix for {skip.check_id}: {skip.reason}", file=sys.stderr)
        if skip.remediation:
            print(f"    to do by hand: {skip.remediation}", file=sys.stderr)
    if not result.fixes and not result.skipped:
        print(f"{result.service}: no failing check to fix", file=sys.stderr)
    if root is None and result.fixes:
        print("note: no checkout of the repository was found; only new files could be generated", file=sys.stderr)


def write_tree(out: Path, patch: str, changed: dict[str, str]) -> None:
    from pipelines.fixes.model import safe_path

    out.mkdir(parents=True, exist_ok=True)
    (out / "fix.patch").write_text(patch, encoding="utf-8")
    for path, text in changed.items():
        target = out / safe_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def _git(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], input=stdin, capture_output=True, text=True, check=False)


def _require_clean(root: Path) -> None:
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    if status.returncode != 0:
        raise FixError(f"{root}: git status failed: {status.stderr.strip()}")
    if status.stdout.strip():
        raise FixError(f"{root} has uncommitted changes: commit or stash them first, so the fix is its own change")


def apply_patch(root: Path, patch: str) -> None:
    done = _git(root, "apply", "--whitespace=nowarn", "-", stdin=patch)
    if done.returncode != 0:
        raise FixError(f"git apply failed in {root}: {done.stderr.strip()}")
