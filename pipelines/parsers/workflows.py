"""GitHub Actions workflow files: triggers, push branch filter and every ``uses:`` reference.

The file is read with the "strings" YAML schema, as GitHub's own YAML 1.2
reader does: a bare ``on:`` key stays the string "on" (a YAML 1.1 reader turns
it into ``True``) and ``GO111MODULE: on`` stays text. A ``True`` key is still
accepted as ``on`` in case the data came from a YAML 1.1 reader elsewhere.

A file is a workflow when it is a mapping with ``on`` and ``jobs``: fragments
and templates without them raise ParseError, like GitHub rejects them. Inside a
valid workflow a job or step that is not a mapping is skipped, because it
carries no reference to report.
"""

from __future__ import annotations

from checks.evidence import Workflow, WorkflowRef
from pipelines.parsers._text import scalar_str
from pipelines.parsers.errors import ParseError
from pipelines.parsers.yamlsafe import load_yaml


def parse_workflow(text: str, file: str) -> Workflow:
    document = load_yaml(text, file, schema="strings")
    if not isinstance(document, dict):
        raise ParseError(file, "not a GitHub Actions workflow: the file is not a mapping")
    if "on" in document:
        on = document["on"]
    elif True in document:
        on = document[True]
    else:
        raise ParseError(file, "not a GitHub Actions workflow: missing 'on' (the events that trigger it)")
    jobs = document.get("jobs")
    if jobs is None:
        raise ParseError(file, "not a GitHub Actions workflow: missing 'jobs'")
    if not isinstance(jobs, dict):
        raise ParseError(file, "'jobs' must be a mapping of job ids to jobs")
    return Workflow(
        file=file,
        name=scalar_str(document.get("name")),
        triggers=_triggers(on),
        branches=_push_filter(on, "branches"),
        refs=_refs(jobs, file),
        branches_ignore=_push_filter(on, "branches-ignore"),
        push_tags=_tag_filter(on),
    )


def split_uses(uses: str) -> tuple[str, str | None]:
    """``owner/repo/path@ref`` -> (``owner/repo/path``, ``ref``); local and docker refs have no ref."""
    if uses.startswith(("./", "docker://")):
        return uses, None
    target, at, ref = uses.rpartition("@")
    if not at:
        return uses, None
    return target, ref or None


def _triggers(on: object) -> list[str]:
    if isinstance(on, str):
        return [on.strip()] if on.strip() else []
    if isinstance(on, list):
        return [text for text in (scalar_str(item) for item in on) if text]
    if isinstance(on, dict):
        return [str(key) for key in on]
    return []


def _push_filter(on: object, key: str) -> list[str] | None:
    """One of `push`'s ref filters as written (`branches`, `branches-ignore`, `tags`), None when absent."""
    if not isinstance(on, dict):
        return None
    push = on.get("push")
    if not isinstance(push, dict):
        return None
    values = push.get(key)
    if isinstance(values, str):
        return [values]
    if isinstance(values, list):
        return [text for text in (scalar_str(item) for item in values) if text]
    return None


def _tag_filter(on: object) -> list[str] | None:
    tags, ignored = _push_filter(on, "tags"), _push_filter(on, "tags-ignore")
    if tags is None and ignored is None:
        return None
    return [*(tags or []), *(f"!{t}" for t in ignored or [])]


def _refs(jobs: dict, file: str) -> list[WorkflowRef]:
    refs: list[WorkflowRef] = []
    for job_id, job in jobs.items():
        if not isinstance(job, dict):
            continue
        uses = scalar_str(job.get("uses"))
        if uses:
            refs.append(_ref(file, str(job_id), uses, reusable=True))
        steps = job.get("steps")
        if not isinstance(steps, list):
            continue
        for step in steps:
            if isinstance(step, dict):
                uses = scalar_str(step.get("uses"))
                if uses:
                    refs.append(_ref(file, str(job_id), uses, reusable=False))
    return refs


def _ref(file: str, job: str, uses: str, *, reusable: bool) -> WorkflowRef:
    target, ref = split_uses(uses)
    return WorkflowRef(file=file, job=job, uses=uses, target=target, ref=ref, reusable=reusable)
