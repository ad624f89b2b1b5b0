import json
import time

import pytest

from pipelines.parsers import ParseError, parse_terraform
from pipelines.parsers.terraform import git_ref, source_kind, split_subdir

MAIN_TF = """\
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.1.2"
}

module "db" {
  source = "git::https://github.com/acme/tf-modules.git//rds?ref=v3.2.0"  # pinned
}

# module "old" {
#   source = "git::https://github.com/acme/old.git?ref=v1"
# }

// module "older" { source = "../older" }

/*
module "oldest" {
  source = "github.com/acme/oldest?ref=v0.1"
}
*/

module "local" {
  source = "./modules/app"
}
"""


def test_modules_with_kind_and_version():
    modules = parse_terraform(MAIN_TF, "infra/main.tf")
    assert [(m.name, m.kind, m.version) for m in modules] == [
        ("vpc", "registry", "5.1.2"),
        ("db", "git", "v3.2.0"),
        ("local", "local", None),
    ]
    assert modules[1].source == "git::https://github.com/acme/tf-modules.git//rds?ref=v3.2.0"
    assert all(m.file == "infra/main.tf" for m in modules)


def test_commented_out_modules_and_provider_sources_are_not_modules():
    sources = [m.source for m in parse_terraform(MAIN_TF, "main.tf")]
    assert "hashicorp/aws" not in sources
    assert not any("old" in source for source in sources)


def test_ref_when_subdir_comes_after_the_query():
    [module] = parse_terraform('module "rds" {\n  source = "github.com/acme/mods?ref=v3.0.16//rds"\n}\n', "rds.tf")
    assert (module.kind, module.version) == ("git", "v3.0.16")


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("./modules/x", "local"),
        ("../../", "local"),
        ("terraform-aws-modules/vpc/aws", "registry"),
        ("app.terraform.io/acme/vpc/aws", "registry"),
        ("terraform-aws-modules/cloudwatch/aws//modules/log-group", "registry"),
        ("git::https://example.com/x.git", "git"),
        ("git::github.com/acme/x.git//sub?ref=v1", "git"),
        ("git@github.com:acme/x.git", "git"),
        ("github.com/acme/x", "git"),
        ("bitbucket.org/acme/x", "git"),
        ("https://example.com/module.zip", "http"),
        ("s3::https://s3.amazonaws.com/bucket/x.zip", "other"),
        ("hg::https://example.com/x", "other"),
        ("${var.source}", "other"),
    ],
)
def test_source_kinds(source, kind):
    assert source_kind(source) == kind


def test_git_refs():
    assert git_ref("git::https://x/y.git?depth=1&ref=v1.2.0") == "v1.2.0"
    assert git_ref("git@github.com:a/b.git?ref=0.1.0") == "0.1.0"
    assert git_ref("git::https://x/y.git") is None
    assert git_ref("github.com/a/b?ref=v1.0.0+build.5") == "v1.0.0+build.5"
    assert split_subdir("git::https://x/y.git//mod/a?ref=v1") == ("git::https://x/y.git?ref=v1", "mod/a")


def test_registry_without_version_is_unpinned():
    [module] = parse_terraform('module "sg" {\n  source = "terraform-aws-modules/security-group/aws"\n}\n', "m.tf")
    assert (module.kind, module.version) == ("registry", None)


def test_terraform_json_syntax():
    text = json.dumps(
        {
            "module": {
                "cluster": {"source": "github.com/acme/ecs?ref=master"},
                "cache": [{"source": "./redis"}],
                "//": "a comment",
            }
        }
    )
    modules = parse_terraform(text, "main.tf.json")
    assert [(m.name, m.kind, m.version) for m in modules] == [("cluster", "git", "master"), ("cache", "local", None)]


def test_invalid_hcl_is_a_parse_error_with_position():
    text = 'module "{{name}}" {\n  allocated_storage = {{allocatedStorage}}\n}\n'
    with pytest.raises(ParseError, match=r"line \d+, column \d+: invalid HCL"):
        parse_terraform(text, "templates/rds.tf")
    with pytest.raises(ParseError, match="end of file"):
        parse_terraform('module "x" {\n  source = "./x"\n', "open.tf")


def test_module_attribute_is_not_a_module_block():
    assert parse_terraform('locals {\n  module = "x"\n}\nmodule = { source = "./y" }\n', "odd.tf") == []


def test_files_without_modules_are_not_parsed():
    assert parse_terraform('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n', "s3.tf") == []


def test_a_thousand_small_files_parse_in_a_few_seconds():
    files = [
        f'module "m{i}" {{\n  source  = "git::https://example.com/m{i}.git?ref=v{i}.0.0"\n  name    = "svc-{i}"\n'
        f'  tags    = {{ team = "t{i % 7}" }}\n}}\n\n# module "old{i}" {{ source = "./old" }}\n'
        f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "bucket-${{var.env}}-{i}"\n}}\n'
        for i in range(1000)
    ]
    parse_terraform(files[0], "warm.tf")  # grammar load is a one-off per process
    # CPU time, so a busy CI machine running other suites does not fail this.
    started = time.process_time()
    modules = [module for i, text in enumerate(files) for module in parse_terraform(text, f"m{i}/main.tf")]
    elapsed = time.process_time() - started
    assert len(modules) == 1000
    assert modules[999].version == "v999.0.0"
    assert elapsed < 6, f"1,000 small files took {elapsed:.1f} s"
