"""An embedded, deterministic demo organisation for the Platform Scorecard.

`generate_demo(out_dir, end=...)` writes real git repositories, a production
and a staging cluster snapshot, deploy and incident logs, and a
`scorecard.yaml` that ties them together, so every page of the dashboard has
believable data without access to a real organisation.
"""

from __future__ import annotations

STORY = """
`acme` is a mid-sized product company with eight teams and a platform team that
publishes golden paths: the copier service template `gh:acme/service-template`
(v1.0.0 ... v3.2.0), the reusable CI workflow
`acme/platform-workflows/.github/workflows/service-ci.yml` (@v1 ... @v4), the
base Helm chart `acme-base-chart` (1.0.0 ... 2.3.0) and the Terraform modules
in `acme/terraform-modules`.

- **Payments** and **Identity & Access** are mature early adopters: on template
  v3.x, upgrading to v3.2.0 and chart 2.3.0 within weeks of release, probes,
  limits, PDBs, ServiceMonitors and ExternalSecrets everywhere, deploying most
  days with rare incidents (Identity: none). Each starts one brand-new service
  from the template mid-window.
- **Checkout** and **Search & Discovery** are steady improvers: about half their
  services adopt the template during the window (one commit that also brings
  CI v4, chart 2.3.0, PDBs and non-root containers), OpenTelemetry and PDBs
  arrive gradually; they deploy a few times a week.
- **Data Platform** is legacy: default branch `master`, base chart 1.x or a
  hand-written chart, CI pinned to @v2 or hand-rolled, community Terraform
  modules, literal database passwords being moved to ExternalSecrets; weekly
  deploys, incidents take a day or more to restore.
- **Growth** and **Mobile API** lag: no template (a couple adopt it late),
  hand-rolled or old/sha/`@main`-pinned CI, missing probes, limits and PDBs,
  secrets in env, some services with no catalog entry or CODEOWNERS; they
  deploy every couple of weeks and about one deploy in four causes an incident.
- **Infrastructure Tooling** owns the shared libraries and internal tools,
  releases with version tags instead of a deploy log, and has been stuck on
  template v3.0.0.

Special repositories: `acme-commerce` is a monorepo whose components are owned
by Checkout, Search and Growth (per-path CODEOWNERS; some components have their
own `catalog-info.yaml`, others are listed in the root one with a
`backstage.io/source-location`); `legacy-reporting` has a catalog file that
stops parsing mid-window and a workflow that never parsed; `new-service-sandbox`
is an empty repository; `acme-python-commons` is a library and `acme-go-kit` an
archived-looking library. One service is known only from `services:` in the
config. The production cluster also runs a few orphan workloads that belong to
no service. Bigger organisations (`teams > 8`) add generated teams drawn from
the same archetypes.

The platform also publishes a Crossplane `PostgreSQLInstance` API (the XRD,
compositions and revisions are in the prod cluster snapshot): a few services
claim a database in `infra/database.yaml`, some pinned to the latest revision
of `postgres-aws`, some two revisions behind, some on a hand-written
composition. A few former ExternalSecret users get their secrets from Vault
Agent, the Secrets Store CSI driver, Sealed Secrets or SOPS instead.
"""

from pipelines.demo.generate import DemoSummary, generate_demo  # noqa: E402

__all__ = ["STORY", "DemoSummary", "generate_demo"]
