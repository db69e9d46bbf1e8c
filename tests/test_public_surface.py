"""The package's public names (``__all__``) and the error tree they form."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

import wechatpay_chain
from wechatpay_chain import FieldError, FieldProblem, ValidationError, WeChatPayError, XmlError
from wechatpay_chain.errors import SignatureCheck
from wechatpay_chain.v2 import XmlError as V2XmlError

PUBLIC = {
    "ApiError",
    "Client",
    "ConfigError",
    "DecryptionError",
    "FieldError",
    "FieldProblem",
    "Response",
    "SignatureError",
    "Timeout",
    "TimeoutError",
    "TransportError",
    "ValidationError",
    "WeChatPayError",
    "XmlError",
    "__version__",
}
SOURCE = Path(wechatpay_chain.__file__).parent
PACKAGE = "wechatpay_chain"


def test_all_names_the_public_surface() -> None:
    assert set(wechatpay_chain.__all__) == PUBLIC
    assert len(wechatpay_chain.__all__) == len(PUBLIC)
    for name in wechatpay_chain.__all__:
        assert hasattr(wechatpay_chain, name), name


def test_every_exception_is_in_the_tree() -> None:
    raised = [
        value
        for value in vars(wechatpay_chain).values()
        if isinstance(value, type) and issubclass(value, BaseException) and value.__module__.startswith(PACKAGE)
    ]
    assert XmlError in raised and len(raised) >= 8
    for error in raised:
        assert issubclass(error, WeChatPayError), error
    assert issubclass(XmlError, ValueError) and XmlError is V2XmlError


def test_field_problem_is_a_record_and_field_error_its_alias() -> None:
    assert FieldError is FieldProblem
    assert not issubclass(FieldProblem, BaseException)
    problem = FieldProblem("/json/amount", "type", "'10' is not of type 'integer'")
    error = ValidationError("POST v3/x", [problem])
    assert error.errors == [problem] and str(problem) in str(error)


def test_signature_checks_are_listed_once() -> None:
    """Every ``SignatureError("<check>", ...)`` in the package names a value of ``SignatureCheck``."""
    used: set[str] = set()
    for source in SOURCE.rglob("*.py"):
        used.update(re.findall(r'SignatureError\(\s*"([a-z_]+)"', source.read_text("utf-8")))
    assert used and used <= set(get_args(SignatureCheck))
    unused = set(get_args(SignatureCheck)) - used
    assert not unused, f"listed in SignatureCheck but never raised: {unused}"


def test_except_field_error_is_a_type_error() -> None:
    """The reason for the new name: a problem record cannot be caught."""
    with pytest.raises(TypeError):
        try:
            raise ValueError("x")
        except FieldError:  # type: ignore[misc]
            pass
