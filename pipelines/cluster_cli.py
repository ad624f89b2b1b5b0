"""`scorecard cluster up|down|status`: arguments here, the work in pipelines/cluster.py (imported when run)."""

from __future__ import annotations

import os


def register(sub) -> None:
    """Add `cluster` to the CLI's sub-parsers."""
    p = sub.add_parser("cluster", help="a local Dagster cluster: PostgreSQL, Redis and N Celery workers")
    actions = p.add_subparsers(dest="action", required=True)

    def with_dir(q):
        q.add_argument("--dir", default=os.environ.get("SCORECARD_CLUSTER_DIR", ".cluster"),
                       help="the cluster's directory (default: $SCORECARD_CLUSTER_DIR or ./.cluster)")
        return q

    start = with_dir(actions.add_parser("up", help="start PostgreSQL, Redis and the workers (what runs is kept)"))
    start.add_argument("--workers", type=int, help="Celery workers, one step at a time each "
                       "(default: $SCORECARD_CLUSTER_WORKERS or the number of CPUs)")
    start.add_argument("--pg-port", type=int, help="PostgreSQL's port on 127.0.0.1 "
                       "(default: $SCORECARD_CLUSTER_PG_PORT or 15432)")
    start.add_argument("--redis-port", type=int, help="Redis's port on 127.0.0.1 "
                       "(default: $SCORECARD_CLUSTER_REDIS_PORT or 16379)")
    start.set_defaults(fn=cmd_up)
    with_dir(actions.add_parser("down", help="stop the workers, Redis and PostgreSQL (data is kept)")).set_defaults(
        fn=cmd_down)
    with_dir(actions.add_parser("status", help="what runs (exit status 0 when everything does)")).set_defaults(
        fn=cmd_status)


def cmd_up(args) -> int:
    from pipelines import cluster

    spec = cluster.ClusterSpec.from_env(args.dir, args.workers, args.pg_port, args.redis_port)
    components = cluster.up(spec, log=lambda line: print(line, flush=True))
    for c in components:
        print(c.line())
    env_file = cluster.Layout(spec.root).env_file
    print(f"\nTo launch runs on it: `. {env_file}` (DAGSTER_HOME, SCORECARD_EXECUTOR=celery, the broker URL), then "
          "`dagster dev -w workspace.yaml` or `dagster job execute -m pipelines.definitions -a defs -j "
          "crawl_and_score_job -c run.yaml --tags '{\"dagster/partition\": \"YYYY-MM-DD\"}'` (run.yaml: "
          "resources.settings.config.config_path). `scorecard run` stays in one process.")
    return 0


def cmd_down(args) -> int:
    from pipelines import cluster

    cluster.down(args.dir, log=print)
    return 0


def cmd_status(args) -> int:
    from pipelines import cluster

    components = cluster.status(args.dir)
    for c in components:
        print(c.line())
    if not any(c.running for c in components):
        print(f"the cluster in {os.path.abspath(args.dir)} is down")
    return 0 if all(c.running for c in components) else 1
