"""Local clones: a directory whose sub-directories are git repositories.

Files are read from the committed tree of the default branch with
``git ls-tree`` / ``git cat-file --batch`` (never the working tree, which may
hold uncommitted or ignored files), so a crawl sees what was pushed. Every git
call has a timeout; a repo that cannot be read gets ``facts.error`` and the
crawl of the others goes on. A file whose content is not in the clone (partial
clone, LFS pointer) is an unreadable file, never a failed repository, and git
is never allowed to fetch it: a crawl reads what is on disk and nothing else.

History for delivery metrics is not listed here: the crawl hands on a
`GitHistory`, and `pipelines.delivery` asks it which commits each deployment
shipped once the deployments are known.
"""

from __future__ import annotations

import bisect
import datetime as dt
import fnmatch
import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import pickle
import re
import subprocess
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from checks.evidence import Problem
from pipelines.facts import RepoFacts, Tag
from pipelines.sources.base import CommitHistory, RepoCrawl
from pipelines.sources.repo_files import NOT_IN_CLONE, TreeEntry, extract_facts

GIT_TIMEOUT_S = 60

# The code that decides what cached facts hold: the parsers, the routing of a
# tree to them, this crawler and the types the facts are made of. The cache is
# keyed by a digest of their source, so changing any of them (a parser, a new
# field) makes the next crawl read the repositories again, with no version to
# bump by hand.
FACT_CODE = (
    "pipelines.parsers",
    "pipelines.sources.repo_files",
    "pipelines.sources.local_git",
    "pipelines.facts",
    "checks.evidence",
    "checks.evidence_crossplane",
    "checks.evidence_gitops",  # the GitOps facts a repository's manifests hold
)
# Libraries that parse for us: an upgrade can change the facts as much as our own code.
FACT_LIBRARIES = ("PyYAML", "codeowners")


def fact_code_files(modules: Iterable[str] = FACT_CODE) -> list[tuple[str, Path]]:
    """(path below the import root, file) of every source file of `modules`, in a stable order."""
    found: list[tuple[str, Path]] = []
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ImportError(f"fact-producing module {name} not found")
        origin = Path(spec.origin)
        package = spec.submodule_search_locations is not None
        root = origin.parents[name.count(".") + package]
        files = sorted(origin.parent.rglob("*.py")) if package else [origin]
        found.extend((f.relative_to(root).as_posix(), f) for f in files)
    return found


def code_digest(files: Iterable[tuple[str, Path]], extra: Iterable[str] = ()) -> str:
    """A short digest of the files' names and bytes (and `extra` strings): equal code, equal digest."""
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(b"%s\0%s\0" % (name.encode(), path.read_bytes()))
    for item in extra:
        digest.update(item.encode() + b"\0")
    return digest.hexdigest()[:16]


@functools.cache
def facts_code_version() -> str:
    """The version of the code that produces cached facts, read once per process
    (the files cannot change under a running crawl in a way it could use)."""
    libraries = (f"{lib}=={importlib.metadata.version(lib)}" for lib in FACT_LIBRARIES)
    return code_digest(fact_code_files(), libraries)


class GitError(Exception):
    pass


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    # Never prompt, never read the user's or system's config (hooks, fsmonitor,
    # credential helpers): a crawl must behave the same on every machine.
    env.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    # A partial clone fetches a missing object from its promisor remote on
    # first touch. A crawl must not reach the network (nor slow down on one
    # fetch per blob), so lazy fetching is off (git >= 2.44 honours the
    # variable) and, for older git, every transport is refused: the fetch
    # fails at once and the object reads as absent.
    env.update(GIT_NO_LAZY_FETCH="1", GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="protocol.allow", GIT_CONFIG_VALUE_0="never")
    return env


def git(repo: Path, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    cmd = ["git", "-C", str(repo), "-c", "core.quotePath=false", *args]
    try:
        proc = subprocess.run(
            cmd, input=input, capture_output=True, timeout=GIT_TIMEOUT_S, env=_git_env(), check=False
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} timed out after {GIT_TIMEOUT_S} s") from None
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {msg[-1] if msg else f'exit {proc.returncode}'}")
    return proc.stdout


def _ts(value: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(value), dt.UTC)


def default_branch(repo: Path) -> tuple[str, str]:
    """(branch name, ref to read) for the repo's default branch, or GitError saying why not."""
    remote_head = git(repo, "symbolic-ref", "-q", "refs/remotes/origin/HEAD", check=False).decode().strip()
    if remote_head:
        return remote_head.removeprefix("refs/remotes/origin/"), remote_head
    heads = git(repo, "for-each-ref", "--format=%(refname)", "refs/heads").decode().split()
    if not heads:
        raise GitError("empty repository: no commits on any branch")
    head = git(repo, "symbolic-ref", "-q", "HEAD", check=False).decode().strip()
    if head in heads:
        return head.removeprefix("refs/heads/"), head
    for name in ("main", "master"):
        if f"refs/heads/{name}" in heads:
            return name, f"refs/heads/{name}"
    names = ", ".join(h.removeprefix("refs/heads/") for h in heads[:5])
    raise GitError(f"no default branch: HEAD points to {head or 'nothing'} and there is no main or master (branches: {names})")


def _tree(repo: Path, sha: str) -> tuple[list[TreeEntry], list[str]]:
    """Every file of the commit's tree, and the directories whose listing is not in the clone."""
    try:
        out = git(repo, "ls-tree", "-r", "-z", "--long", sha)
    except GitError:
        # A partial clone with a promisor remote fails here on the first absent
        # blob (git tries to fetch it to learn its size), and any repository
        # missing a tree object fails too.
        return _tree_without_fetching(repo, sha)
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, oid, size = meta.split()
        entries.append(
            TreeEntry(
                path=path.decode("utf-8", "surrogateescape"),
                mode=mode.decode(),
                oid=oid.decode(),
                size=int(size) if size not in (b"-", b"BAD") else 0,
                # git prints BAD as the size of a blob it does not have.
                absent=NOT_IN_CLONE if size == b"BAD" else None,
            )
        )
    return entries, []


def _tree_without_fetching(repo: Path, sha: str) -> tuple[list[TreeEntry], list[str]]:
    """The tree listing built from objects on disk, for repositories where ls-tree fails.

    `rev-list --missing=print` is the one listing git runs without fetching;
    it names absent objects, so everything asked of git afterwards is present.
    """
    out = git(repo, "rev-list", "--objects", "--no-walk", "--missing=print", sha).decode("ascii", "replace")
    present, missing = [], set()
    for line in out.splitlines():
        oid = line.split(" ", 1)[0]
        if oid.startswith("?"):
            missing.add(oid[1:])
        else:
            present.append(oid)
    info = git(repo, "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)", input="".join(f"{o}\n" for o in present).encode())
    types: dict[str, tuple[str, int]] = {}
    for line in info.decode("ascii", "replace").splitlines():
        parts = line.split()
        if len(parts) == 3:
            types[parts[0]] = (parts[1], int(parts[2]))
    trees = [o for o, (t, _) in types.items() if t == "tree"]
    raw = git(repo, "cat-file", "--batch", input="".join(f"{o}\n" for o in trees).encode())
    contents: dict[str, bytes] = {}
    pos = 0
    for oid in trees:
        nl = raw.index(b"\n", pos)
        header = raw[pos:nl].split()
        if len(header) < 3:  # vanished since rev-list looked: read as absent
            pos = nl + 1
            continue
        size = int(header[2])
        contents[oid] = raw[nl + 1 : nl + 1 + size]
        pos = nl + 1 + size + 1
    root_tree = git(repo, "rev-parse", f"{sha}^{{tree}}").decode().strip()
    oid_bytes = len(sha) // 2  # 20 for SHA-1, 32 for SHA-256 repositories
    entries: list[TreeEntry] = []
    absent_dirs: list[str] = []
    stack = [("", root_tree)]
    while stack:
        prefix, tree = stack.pop()
        data, pos = contents.get(tree, b""), 0
        while pos < len(data):
            space = data.index(b" ", pos)
            nul = data.index(b"\0", space)
            mode = data[pos:space].decode().zfill(6)
            path = prefix + data[space + 1 : nul].decode("utf-8", "surrogateescape")
            oid = data[nul + 1 : nul + 1 + oid_bytes].hex()
            pos = nul + 1 + oid_bytes
            if mode == "040000":
                if oid in contents:
                    stack.append((path + "/", oid))
                else:
                    absent_dirs.append(path)
            elif mode == "160000":
                entries.append(TreeEntry(path, mode, oid, 0))
            elif oid in types:
                entries.append(TreeEntry(path, mode, oid, types[oid][1]))
            else:
                entries.append(TreeEntry(path, mode, oid, 0, absent=NOT_IN_CLONE))
    if root_tree not in contents:
        absent_dirs.append(".")
    entries.sort(key=lambda e: e.path)
    return entries, sorted(absent_dirs)


def _reader(repo: Path):
    def read(entries: list[TreeEntry]) -> dict[str, bytes]:
        if not entries:
            return {}
        out = git(repo, "cat-file", "--batch", input="".join(f"{e.oid}\n" for e in entries).encode())
        result: dict[str, bytes] = {}
        pos = 0
        for entry in entries:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].split()
            if len(header) < 3 or header[1] == b"missing":
                pos = nl + 1
                continue
            size = int(header[2])
            result[entry.path] = out[nl + 1 : nl + 1 + size]
            pos = nl + 1 + size + 1
        return result

    return read


def _tags(repo: Path) -> list[Tag]:
    """Every tag of the repository with its time (DESIGN.md "Deployment"), whatever the snapshot date."""
    fmt = "%1f".join(
        [
            "%(refname:strip=2)",
            "%(objecttype)",
            "%(objectname)",
            "%(*objectname)",
            "%(taggerdate:unix)",
            "%(committerdate:unix)",
            "%(*committerdate:unix)",
        ]
    )
    out = git(repo, "for-each-ref", f"--format={fmt}", "refs/tags").decode("utf-8", "replace")
    tags = []
    for line in out.splitlines():
        name, otype, oid, peeled, tagger, committer, peeled_committer = line.split("\x1f")
        if otype == "tag":  # annotated: its own date (DESIGN.md "Deployment")
            if not peeled or not tagger:
                continue
            tag = Tag(name, peeled, _ts(tagger))
        elif otype == "commit":
            tag = Tag(name, oid, _ts(committer))
        else:
            continue
        tags.append(tag)
    return tags


class RepoReads:
    """What a repository says whatever the snapshot date, read once for several dates.

    Its default branch (a past snapshot reads today's default branch too) and
    its tags (each date keeps those made by then). The crawls of every date of
    a range run, and of every run of one `scorecard backfill`, share one: a
    backfill of 12 dates would otherwise run these git commands 12 times per
    repository. Nothing outlives the object, so a later run reads afresh. A
    failed read is not kept.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, Path], object] = {}

    def _get(self, what: str, repo: Path, read: Callable[[Path], object]):
        key = (what, repo)
        with self._lock:
            if key in self._values:
                return self._values[key]
        value = read(repo)  # outside the lock: the crawl's workers read different repositories at once
        with self._lock:
            return self._values.setdefault(key, value)

    def default_branch(self, repo: Path) -> tuple[str, str]:
        return self._get("branch", repo, default_branch)  # type: ignore[return-value]

    def tags(self, repo: Path, as_of: dt.datetime | None) -> list[Tag]:
        tags: list[Tag] = self._get("tags", repo, _tags)  # type: ignore[assignment]
        return tags if as_of is None else [t for t in tags if t.time <= as_of]


_HEX = re.compile(r"[0-9a-fA-F]{4,64}")


@dataclass(frozen=True, slots=True)
class GitHistory:
    """Ancestry questions about one repository (a clone or a bare mirror), answered by git.

    Only the location and the crawl's moment are kept, so it pickles and is
    answered wherever the repository is readable (the crawl writes nothing).
    Every method answers None (or leaves a sha out) rather than raising: a
    repository git cannot walk makes its delivery metrics unknown, never the
    run fail.
    """

    git_dir: str
    until: dt.datetime | None = None  # the crawl's as_of (or the time of the crawl)

    def resolve(self, shas: Iterable[str]) -> dict[str, str]:
        """Each deployed sha (full, or an unambiguous prefix of 4+ hex digits) -> its full commit sha.

        Anything else (a branch name, `--all`, a sha the clone lacks, a tag
        object's sha peels to its commit) is left out: deploy events are input
        from outside and only ever name commits.
        """
        asked = sorted({s for s in shas if isinstance(s, str) and _HEX.fullmatch(s)})
        if not asked:
            return {}
        try:
            out = self._git("cat-file", "--batch-check=%(objectname) %(objecttype)",
                            input="".join(f"{s.lower()}^{{commit}}\n" for s in asked).encode())
        except GitError:
            return self._resolve_on_disk(asked)  # a partial clone died trying to fetch one
        found = {}
        for sha, line in zip(asked, out.decode("ascii", "replace").splitlines(), strict=False):
            full, _, kind = line.partition(" ")
            if kind == "commit":
                found[sha] = full
        return found

    def _resolve_on_disk(self, asked: list[str]) -> dict[str, str]:
        try:
            out = self._git("cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectname)")
        except GitError:
            return {}
        commits = sorted(line[7:] for line in out.decode("ascii", "replace").splitlines() if line.startswith("commit "))
        found = {}
        for sha in asked:
            low = sha.lower()
            i = bisect.bisect_left(commits, low)
            if i < len(commits) and commits[i].startswith(low) and not (
                i + 1 < len(commits) and commits[i + 1].startswith(low)
            ):
                found[sha] = commits[i]
        return found

    def walk(self, include: list[str], exclude: list[str]) -> dict[str, tuple[dt.datetime, list[str]]] | None:
        """`git rev-list include --not exclude`: sha -> (committer time, parents)."""
        try:
            out = self._git("rev-list", "--stdin", "--timestamp", "--parents", input=_revs(include, exclude))
        except GitError:
            return None
        graph = {}
        for line in out.decode("ascii", "replace").splitlines():
            stamp, sha, *parents = line.split()
            graph[sha] = (_ts(stamp), parents)
        return graph

    def touching(self, include: list[str], exclude: list[str], path: str) -> set[str] | None:
        """`git rev-list include --not exclude -- path`: git's own rule for "touches the path"."""
        try:
            # Literal: a service path is a directory name, never a glob or pathspec magic.
            out = self._git("--literal-pathspecs", "rev-list", "--stdin", "--", path, input=_revs(include, exclude))
        except GitError:
            return None
        return set(out.decode("ascii", "replace").split())

    def _git(self, *args: str, input: bytes | None = None) -> bytes:
        try:
            return git(Path(self.git_dir), *args, input=input)
        except OSError as exc:
            raise GitError(f"cannot run git: {exc}") from None


def _revs(include: list[str], exclude: list[str]) -> bytes:
    return "".join([*(f"{s}\n" for s in include), *(f"^{s}\n" for s in exclude)]).encode()


class LocalGitSource:
    """Repositories under `root` (each sub-directory holding a `.git` or a bare repo)."""

    def __init__(
        self,
        root: Path,
        *,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        cache_dir: Path | None = None,
        reads: RepoReads | None = None,
    ) -> None:
        self.root = Path(root)
        self.name = f"git:{self.root}"
        self.include = include or []
        self.exclude = exclude or []
        self.cache_dir = cache_dir
        self.reads = reads or RepoReads()
        self._dirs: dict[str, Path] = {}

    def repo_names(self) -> list[str]:
        if not self.root.is_dir():
            raise GitError(f"repository root {self.root} does not exist or is not a directory")
        dirs: dict[str, Path] = {}
        for child in sorted(self.root.iterdir()):
            if not child.is_dir() or child.name.startswith("."):
                continue
            if not ((child / ".git").exists() or (child / "HEAD").is_file()):
                continue
            # A bare mirror `payments.git` is the repository `payments`, unless a
            # clone of that name sits next to it.
            name = child.name.removesuffix(".git") or child.name
            if name in dirs or (name != child.name and (self.root / name).is_dir()):
                name = child.name
            if self.include and not any(fnmatch.fnmatch(name, p) for p in self.include):
                continue
            if any(fnmatch.fnmatch(name, p) for p in self.exclude):
                continue
            dirs[name] = child
        self._dirs = dirs
        return sorted(dirs)

    def _dir(self, repo: str) -> Path:
        """Where `repo` lives when repo_names() was not asked first (the GitHub source's mirrors)."""
        plain = self.root / repo
        bare = self.root / f"{repo}.git"
        return bare if not plain.exists() and bare.is_dir() else plain

    def crawl(self, repo: str, as_of: dt.datetime | None = None) -> RepoCrawl:
        path = self._dirs.get(repo) or self._dir(repo)
        facts = RepoFacts(repo=repo, location=str(path))
        now = dt.datetime.now(dt.UTC)
        try:
            branch, ref = self.reads.default_branch(path)
            facts.default_branch = branch
            if as_of is None:
                sha = git(path, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}").decode().strip()
            else:
                sha = git(path, "rev-list", "-1", f"--before={int(as_of.timestamp())}", ref).decode().strip()
                if not sha:
                    facts.error = f"no commits on {branch} as of {as_of.date().isoformat()}"
                    return RepoCrawl(facts, crawled_at=now)
            facts.head_sha = sha
            cached = self._cached(repo, sha)
            if cached is not None:
                facts = cached
                reused = True
            else:
                # rev-list reads the commit alone; `show -s` still diffs it and dies on an absent blob.
                ct = git(path, "rev-list", "--no-walk", "--timestamp", sha).decode().split()[0]
                facts.head_time = _ts(ct)
                entries, absent_dirs = _tree(path, sha)
                extract_facts(facts, entries, _reader(path))
                facts.problems.extend(
                    Problem(d, "directory not available in this clone (its tree object is absent); its files were not read")
                    for d in absent_dirs
                )
                # Facts with gaps are not kept: the clone may hold the missing
                # contents next time, and the head would not move to say so.
                if not facts.unreadable and not absent_dirs:
                    self._store(repo, sha, facts)
                reused = False
            history = CommitHistory(repository=GitHistory(str(path), as_of or now))
            return RepoCrawl(facts, history, self.reads.tags(path, as_of), now, reused)
        except GitError as exc:
            facts.error = str(exc)
        except OSError as exc:
            facts.error = f"cannot run git: {exc.strerror or exc}"
        return RepoCrawl(facts, crawled_at=now)

    # Incremental crawl: a repo whose default-branch head has not moved keeps
    # its facts, as long as the code that made them is unchanged
    # (facts_code_version); only history (cheap) is re-read for the new window.
    def _cache_file(self, repo: str, sha: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"facts-{facts_code_version()}" / repo / f"{sha}.pickle"

    def _cached(self, repo: str, sha: str) -> RepoFacts | None:
        file = self._cache_file(repo, sha)
        if file is None or not file.is_file():
            return None
        try:
            with file.open("rb") as fh:
                return pickle.load(fh)
        except Exception:  # noqa: BLE001 - a corrupt cache entry is only a cache miss
            return None

    def _store(self, repo: str, sha: str, facts: RepoFacts) -> None:
        file = self._cache_file(repo, sha)
        if file is None:
            return
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(facts, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, file)
