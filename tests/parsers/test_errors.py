import pickle

from pipelines.parsers import ParseError


def test_parse_error_names_the_file_and_reason():
    error = ParseError("deploy/app.yaml", "line 3, column 5: mapping values are not allowed here")
    assert str(error) == "deploy/app.yaml: line 3, column 5: mapping values are not allowed here"
    assert error.path == "deploy/app.yaml"
    assert error.reason.startswith("line 3")
    assert isinstance(error, ValueError)


def test_parse_error_survives_pickling_between_processes():
    error = pickle.loads(pickle.dumps(ParseError("a.tf", "invalid HCL")))
    assert (error.path, error.reason, str(error)) == ("a.tf", "invalid HCL", "a.tf: invalid HCL")
