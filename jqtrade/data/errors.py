"""Errors of the data layer, each a leaf of jqtrade's one tree (:mod:`jqtrade.errors`).

    JqTradeError
     └── DataError
          ├── DataSourceError                      行情源调用失败
          │    ├── DataSourceUnavailableError (ConnectionError)  网络不通、超时、服务端出错
          │    ├── DataSourceAuthError (PermissionError)         token、账号或密码不对，或没有权限
          │    └── DataSourceResponseError (ValueError)          返回的数据缺列、类型或格式不对
          ├── DataPackageMissingError (ImportError)   行情源需要的 Python 包没有安装
          ├── DataConfigError (ValueError)             参数不合法
          │    ├── BarUnitError                          K 线周期不支持
          │    ├── DataCodeError                         证券代码不合法
          │    └── UnknownDataSourceError (LookupError)  行情源名称不存在
          ├── BarCacheError                          本地 K 线缓存文件无法使用
          ├── CsvImportError (ValueError)            CSV 文件整体无法导入（单行错误只跳过，不抛出）
          └── PandasMissingError (ImportError)       df=True 但没有安装 pandas

A strategy that wants to survive any data problem catches ``DataError``; one that only cares
about the network catches ``DataSourceError`` (or the built-in ``ConnectionError``). Every
message is Chinese and is built in ``__init__`` from the offending value.
"""

from __future__ import annotations

from collections.abc import Iterable

from jqtrade.errors import JqTradeError

__all__ = [
    "BarCacheError",
    "BarUnitError",
    "CsvImportError",
    "DataCodeError",
    "DataConfigError",
    "DataError",
    "DataPackageMissingError",
    "DataSourceAuthError",
    "DataSourceError",
    "DataSourceResponseError",
    "DataSourceUnavailableError",
    "PandasMissingError",
    "UnknownDataSourceError",
]


class DataError(JqTradeError):
    """Root of the data layer's errors."""


# --- sources -------------------------------------------------------------------------------


class DataSourceError(DataError):
    """A call to a data source failed; ``source`` names it (``"mootdx"``, ``"akshare"`` ...)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"行情源 {source} 调用失败：{reason}")
        self.source = source
        self.reason = reason


class DataSourceUnavailableError(DataSourceError, ConnectionError):
    """Network down, timeout, or the service answered with an error."""

    def __init__(self, source: str, reason: str) -> None:
        DataSourceError.__init__(self, source, f"{reason}（网络或服务暂时不可用，稍后会重试）")


class DataSourceAuthError(DataSourceError, PermissionError):
    """Wrong token, user name or password, or no permission for the call."""

    def __init__(self, source: str, reason: str) -> None:
        DataSourceError.__init__(self, source, f"{reason}（请检查 token、账号密码或接口权限）")

    def __str__(self) -> str:  # PermissionError would print its args as a tuple
        return str(self.args[0])


class DataSourceResponseError(DataSourceError, ValueError):
    """The service answered, but not in the documented shape (a column missing, a bad value)."""


# --- configuration -------------------------------------------------------------------------


class DataPackageMissingError(DataError, ImportError):
    """The library behind a source is not installed."""

    def __init__(self, source: str, package: str, extra: str) -> None:
        super().__init__(
            f"行情源 {source} 需要 Python 包 {package}，但它没有安装：请运行 "
            f'pip install "jqtrade[{extra}]"（或 pip install {package}）'
        )
        self.source = source
        self.package = package
        self.extra = extra


class DataConfigError(DataError, ValueError):
    pass


class BarUnitError(DataConfigError):
    def __init__(self, unit: object, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        super().__init__(f"K 线周期 {unit!r} 不支持，可用的周期：{'、'.join(allowed)}")
        self.unit = unit
        self.allowed = allowed


class DataCodeError(DataConfigError):
    def __init__(self, code: object, reason: str) -> None:
        super().__init__(reason)
        self.code = code


class UnknownDataSourceError(DataConfigError, LookupError):
    def __init__(self, name: object, valid: Iterable[str]) -> None:
        valid = sorted(valid)
        super().__init__(f"行情源 {name!r} 不存在，可用的行情源：{'、'.join(valid)}")
        self.name = name


# --- cache and files -----------------------------------------------------------------------


class BarCacheError(DataError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"本地 K 线缓存 {path} 无法使用：{reason}")
        self.path = path


class CsvImportError(DataError, ValueError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"无法导入 CSV 文件 {path}：{reason}")
        self.path = path


class PandasMissingError(DataError, ImportError):
    def __init__(self, api: str) -> None:
        super().__init__(
            f"{api}(df=True) 需要 pandas，但它没有安装：请运行 pip install pandas，"
            f"或去掉 df=True 使用返回的 Python 字典/列表"
        )
        self.api = api
