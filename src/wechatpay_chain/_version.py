"""The package version (one place; the User-Agent and ``wechatpay_chain.__version__`` read it)."""

__version__ = "0.1.0"
